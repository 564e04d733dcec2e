/*
 * address.h: what a listener is (its protocol and address) and an
 * --allow-from entry, and their text forms parsed into these structs.
 * A leaf of the configuration: config.h holds these in sl_config.
 */
#ifndef SLUICE_ADDRESS_H
#define SLUICE_ADDRESS_H

#include <stddef.h>

enum sl_proto { SL_PROTO_FASTCGI = 0, SL_PROTO_SCGI = 1 };
enum sl_addr_kind { SL_ADDR_UNIX, SL_ADDR_TCP, SL_ADDR_FD };

typedef struct sl_listen_spec {
    enum sl_proto proto;
    enum sl_addr_kind kind;
    char path[108];         /* SL_ADDR_UNIX: the socket path */
    char host[64];          /* SL_ADDR_TCP: host or IPv4/IPv6 literal, no [] */
    int port;               /* SL_ADDR_TCP: 1..65535 */
    int fd;                 /* SL_ADDR_FD */
    char text[160];         /* the address as given, for logs */
} sl_listen_spec;

/* An --allow-from entry: an address and the number of leading bits. */
typedef struct sl_cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
} sl_cidr;

/*
 * Parse one address: "unix:/path", "HOST:PORT", "[IPv6]:PORT" or "fd:N".
 * Returns 0, or -EINVAL with a message in err.
 */
int sl_listen_parse(sl_listen_spec *l, enum sl_proto proto, const char *text,
                    char *err, size_t errlen);

/* One address or CIDR range, text[0..n): "10.0.0.0/8", "::1".  0 or
 * -EINVAL. */
int sl_cidr_parse(const char *text, size_t n, sl_cidr *out);

#endif
