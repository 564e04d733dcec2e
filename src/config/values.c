/* values.c: the configuration's small parsers (see values.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/values.h"

/*
 * Values quoted from the user may hold newlines or escapes; they are
 * replaced so the message stays one line that is safe to print to a
 * terminal or a log.
 */
int sl_config_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *p = err; *p != '\0'; p++)
        if (iscntrl((unsigned char)*p))
            *p = '?';
    return -EINVAL;
}

/*
 * Decimal only: no sign, no leading space, no "0x", no trailing junk.
 * strtol alone would accept " +12" and "12abc".
 */
int sl_parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    long v;

    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

int sl_copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        return -ENAMETOOLONG;
    memcpy(dst, src, n + 1);
    return 0;
}
