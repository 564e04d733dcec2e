/*
 * hparam.h: parameters of MIME header values, as multipart/form-data
 * uses them: the `; name=value` list after a media type (RFC 9110 section
 * 5.6.6) or a disposition type (RFC 6266), and the Content-Disposition of
 * a form-data part (RFC 7578 section 4.2) with filename* (RFC 8187).
 *
 * Pure: no allocation, no I/O.
 */
#ifndef SLUICE_HPARAM_H
#define SLUICE_HPARAM_H

#include <stddef.h>

/* A piece of a header value: s[off..off+len). */
typedef struct sl_hspan {
    size_t off, len;
    int quoted;             /* a value given as a quoted-string: off and len
                               are inside the quotes, escapes still in */
} sl_hspan;

/* 1 for an RFC 9110 tchar, else 0. */
int sl_is_tchar(unsigned char c);

/* s[0..n) equals the lower-case ASCII string `lower`, in any case. */
int sl_hparam_ieq(const char *s, size_t n, const char *lower);

/*
 * The next parameter of a header value s[*pos..end), *pos being just
 * after the type (or the previous parameter).  Returns 1 with *name and
 * the raw *val, 0 at the end of the value, -EINVAL with *reason (static)
 * when it is malformed.  Empty parameters (";;", a ';' at the end) are
 * skipped.  A value is a quoted-string (in which only \" and \\ escape) or
 * the bytes up to the next ';' less trailing white space, without quotes;
 * white space is allowed around ';' and '=', as senders put it there.
 */
int sl_hparam_next(const char *s, size_t end, size_t *pos, sl_hspan *name,
                   sl_hspan *val, const char **reason);

/* What a form-data Content-Disposition says. */
typedef struct sl_form_disposition {
    const char *name;       /* NUL-terminated, in the caller's buffer */
    size_t name_len;
    const char *filename;   /* NULL when absent */
    size_t filename_len;
} sl_form_disposition;

/*
 * Parse the Content-Disposition value h[off..off+len) of a form part: type
 * form-data (any case), a name parameter, maybe filename and filename*
 * (each at most once; others are ignored).  The values are decoded in
 * place in h and NUL-terminated there, which overwrites only the byte
 * after each raw value (a closing quote, a ';', white space), so h[off +
 * len] must be a byte the caller can spare (a header line's CR).
 * filename* (charset UTF-8 or ISO-8859-1, given as UTF-8) wins over
 * filename.  0, or -EINVAL with *reason (static).
 */
int sl_form_disposition_parse(char *h, size_t off, size_t len,
                              sl_form_disposition *d, const char **reason);

#endif
