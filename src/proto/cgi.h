/*
 * cgi.h: rules of the CGI parameters that both codecs (FastCGI and SCGI)
 * carry, in one place.
 *
 * Pure: no allocation, no I/O; unit-tested in tests/unit/test_cgi.c.
 */
#ifndef SLUICE_CGI_H
#define SLUICE_CGI_H

/*
 * CONTENT_LENGTH.  What a web server may pass must pass here: nginx passes
 * the client's Content-Length text as it came (which may have leading
 * zeros, "007"), and an empty value, or none, when there is no body.  So:
 * NULL or "" is 0; one or more decimal digits whose value fits 64 bits is
 * that value; anything else (a sign, a space, hex, an exponent, a value
 * past 2^64-1) is malformed.
 *
 * 0 with *out set, or -EINVAL with *out set to 0.
 */
int sl_cgi_content_length(const char *s, unsigned long long *out);

#endif
