/*
 * values.h: the small parsers the configuration's files share (config.c,
 * the options; config_file.c, the INI file; address.c, addresses): a
 * one-line error message, a decimal integer, a bounded copy.  A leaf: it
 * knows nothing of sl_config.
 */
#ifndef SLUICE_VALUES_H
#define SLUICE_VALUES_H

#include <stddef.h>

/*
 * Write one line into err and return -EINVAL.  Control characters (a value
 * quoted from the user may hold newlines or escapes) become '?', so the
 * message stays one line that is safe on a terminal or in a log.
 */
int sl_config_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decimal only: no sign, no space, no "0x", no trailing junk, between min
 * and max.  0 or -EINVAL. */
int sl_parse_int(const char *s, long min, long max, int *out);

/* Copy a string into dst[size]: 0, or -ENAMETOOLONG when it does not fit. */
int sl_copy_str(char *dst, size_t size, const char *src);

#endif
