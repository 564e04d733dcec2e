/*
 * config_int.h: what the configuration's own files share (config.c, the
 * command line and option tables; config_file.c, the INI file; address.c,
 * listener addresses and --allow-from entries).  Not for the rest of
 * sluice, which sees config.h.
 */
#ifndef SLUICE_CONFIG_INT_H
#define SLUICE_CONFIG_INT_H

#include <stddef.h>
#include "config.h"

/*
 * Write one line into err and return -1.  Control characters (a value
 * quoted from the user may hold newlines or escapes) become '?', so the
 * message stays one line that is safe on a terminal or in a log.
 */
int sl_config_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decimal only: no sign, no space, no "0x", no trailing junk.  0 or -1. */
int sl_parse_int(const char *s, long min, long max, int *out);

/* Copy a string into dst[size]: 0, or -1 when it does not fit. */
int sl_copy_str(char *dst, size_t size, const char *src);

/* One address or CIDR range, text[0..n).  0 or -1. */
int sl_cidr_parse(const char *text, size_t n, sl_cidr *out);

/*
 * Read FILE's keys into c.  0, or -1 with "FILE:LINE: what is wrong" in err
 * (with c->check_config set and several errors: all of them, one a line).
 */
int sl_config_read_file(sl_config *c, const char *file, char *err, size_t errlen);

/* Set one key of the file (a long option name, or "app").  0, or -1. */
int sl_config_set_key(sl_config *c, const char *name, const char *value,
                      char *err, size_t errlen);

#endif
