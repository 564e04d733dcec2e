/* cgi.c: rules of the CGI parameters (see cgi.h). */
#include <errno.h>
#include <stddef.h>
#include "proto/cgi.h"

int sl_cgi_content_length(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;

    *out = 0;
    if (s == NULL)
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*s - '0');
        /* Leading zeros never overflow; only the value can. */
        if (v > (~0ULL - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}
