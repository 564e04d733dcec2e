/*
 * address.c: the text forms of listener addresses and of --allow-from
 * entries, parsed into their structs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "config/address.h"
#include "config/values.h"

#define MAX_FD 65535
#define ADDR_FORMS "unix:/path, HOST:PORT, [IPv6]:PORT or fd:N"

static const char *proto_name(enum sl_proto proto)
{
    return proto == SL_PROTO_SCGI ? "scgi" : "fastcgi";
}

/* "PORT" after the host part of an address. */
static int parse_port(sl_listen_spec *l, const char *text, const char *port,
                      char *err, size_t errlen)
{
    if (sl_parse_int(port, 1, 65535, &l->port) < 0)
        return sl_config_fail(err, errlen,
                    "'%s': port '%s' is not a number between 1 and 65535",
                    text, port);
    return 0;
}

static int parse_unix(sl_listen_spec *l, const char *text, const char *path,
                      char *err, size_t errlen)
{
    if (*path == '\0')
        return sl_config_fail(err, errlen, "'%s': empty socket path", text);
    if (sl_copy_str(l->path, sizeof(l->path), path) < 0)
        return sl_config_fail(err, errlen, "'%s': socket path longer than %zu bytes",
                    text, sizeof(l->path) - 1);
    l->kind = SL_ADDR_UNIX;
    return 0;
}

static int parse_fd(sl_listen_spec *l, const char *text, const char *num,
                    char *err, size_t errlen)
{
    if (sl_parse_int(num, 0, MAX_FD, &l->fd) < 0)
        return sl_config_fail(err, errlen, "'%s': fd '%s' is not a number between 0 "
                    "and %d", text, num, MAX_FD);
    l->kind = SL_ADDR_FD;
    return 0;
}

/* "[IPv6]:PORT"; the brackets are dropped from host. */
static int parse_ipv6(sl_listen_spec *l, const char *text, char *err,
                      size_t errlen)
{
    const char *host = text + 1;
    const char *close = strchr(host, ']');
    size_t n;

    if (close == NULL || close == host || close[1] != ':' ||
        memchr(host, ':', (size_t)(close - host)) == NULL)
        return sl_config_fail(err, errlen, "'%s' is not an address; use " ADDR_FORMS,
                    text);
    n = (size_t)(close - host);
    if (n >= sizeof(l->host))
        return sl_config_fail(err, errlen, "'%s': host longer than %zu bytes", text,
                    sizeof(l->host) - 1);
    memcpy(l->host, host, n);
    l->host[n] = '\0';
    l->kind = SL_ADDR_TCP;
    return parse_port(l, text, close + 2, err, errlen);
}

/* "HOST:PORT" with a name or IPv4 literal; IPv6 needs brackets. */
static int parse_tcp(sl_listen_spec *l, const char *text, char *err,
                     size_t errlen)
{
    const char *colon = strchr(text, ':');
    size_t n;

    if (colon == NULL || colon == text || strchr(colon + 1, ':') != NULL)
        return sl_config_fail(err, errlen, "'%s' is not an address; use " ADDR_FORMS,
                    text);
    n = (size_t)(colon - text);
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)text[i]))
            return sl_config_fail(err, errlen, "'%s' is not an address; use "
                        ADDR_FORMS, text);
    if (n >= sizeof(l->host))
        return sl_config_fail(err, errlen, "'%s': host longer than %zu bytes", text,
                    sizeof(l->host) - 1);
    memcpy(l->host, text, n);
    l->host[n] = '\0';
    l->kind = SL_ADDR_TCP;
    return parse_port(l, text, colon + 1, err, errlen);
}

int sl_listen_parse(sl_listen_spec *l, enum sl_proto proto, const char *text,
                    char *err, size_t errlen)
{
    int r;

    memset(l, 0, sizeof(*l));
    l->proto = proto;
    l->fd = -1;
    if (strncmp(text, "unix:", 5) == 0)
        r = parse_unix(l, text, text + 5, err, errlen);
    else if (strncmp(text, "fd:", 3) == 0)
        r = parse_fd(l, text, text + 3, err, errlen);
    else if (text[0] == '[')
        r = parse_ipv6(l, text, err, errlen);
    else
        r = parse_tcp(l, text, err, errlen);
    if (r < 0)
        return r;
    /* Cannot truncate: every accepted form is shorter than text[]. */
    snprintf(l->text, sizeof(l->text), "%s %s", proto_name(proto), text);
    return 0;
}

/* One address or CIDR range: "10.0.0.0/8", "::1", "192.0.2.7". */
int sl_cidr_parse(const char *text, size_t n, sl_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    char *slash;
    int max;

    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, text, n);
    buf[n] = '\0';
    slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -EINVAL;
    }
    out->bits = max;
    if (slash != NULL && sl_parse_int(slash + 1, 0, max, &out->bits) < 0)
        return -EINVAL;
    return 0;
}

