/*
 * scgi.c: the SCGI header codec (see scgi.h).
 *
 * The request starts with a netstring, "LEN:" + LEN bytes + ",", whose
 * payload is a block of NUL-terminated name/value strings.  We are strict:
 * anything the spec does not allow is an error, because the peer is our own
 * front end and a malformed header means a bug or an attack, never a client
 * we must be lenient with.
 *
 * Number syntax:
 *   - the netstring length is 1..10 decimal digits, no leading zero ("0"
 *     parses but an empty block is then rejected);
 *   - CONTENT_LENGTH follows the one rule both codecs share (cgi.h): what
 *     nginx may pass (leading zeros, or "" for no body) is accepted, and
 *     anything else but plain digits that fit 64 bits is malformed.  SCGI
 *     adds that it must be the first header.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/cgi.h"
#include "proto/scgi.h"

/* 10 digits hold any length we would ever accept; more is an attack. */
#define NETSTRING_MAX_DIGITS 10

static int fail_as(int rc, const char **reason, const char *why)
{
    if (reason != NULL)
        *reason = why;
    return rc;
}

static int fail(const char **reason, const char *why)
{
    return fail_as(SCGI_ERROR, reason, why);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Read the "LEN:" prefix.  On SCGI_OK sets *blen to LEN and *prefix to the
 * bytes up to and including the ':'.  The length is checked against `max`
 * digit by digit: with no leading zeros the value only grows, so an
 * oversized header is known (SCGI_TOO_LARGE) before the peer gets to send
 * it.
 */
static int parse_length(const char *in, size_t len, size_t max,
                        size_t *blen, size_t *prefix, const char **reason)
{
    unsigned long long v = 0;
    size_t i;

    for (i = 0; i < len && is_digit(in[i]); i++) {
        if (i == NETSTRING_MAX_DIGITS)
            return fail(reason, "netstring length has too many digits");
        if (i == 1 && in[0] == '0')
            return fail(reason, "netstring length has a leading zero");
        v = v * 10 + (unsigned)(in[i] - '0');
        if (v > max)
            return fail_as(SCGI_TOO_LARGE, reason, "header block is larger than allowed");
    }
    if (i == 0 && len > 0)
        return fail(reason, "netstring does not start with a length");
    if (i == len)
        return SCGI_NEED_MORE;
    if (in[i] != ':')
        return fail(reason, "netstring length is not followed by ':'");
    if (v == 0)
        return fail(reason, "header block is empty");
    *blen = (size_t)v;
    *prefix = i + 1;
    return SCGI_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Duplicate names: sort the name pointers and compare neighbours.  A
 * quadratic scan would let a peer make us burn CPU with a block of many
 * similar names, so pay for one allocation instead.
 */
static const char *check_duplicates(const scgi_header *h, size_t npairs)
{
    const char **names = malloc(npairs * sizeof(*names));
    const char *why = NULL;
    const char *name, *value;
    size_t off = 0, n = 0;

    if (names == NULL)
        return "out of memory checking header names";
    while (n < npairs && scgi_pairs_next(h, &off, &name, &value))
        names[n++] = name;
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            why = "duplicate header name";
            break;
        }
    }
    free(names);
    return why;
}

/*
 * Validate the block and extract CONTENT_LENGTH.  Checks the shape first
 * (ends with NUL, even number of strings) so that the pair walk after it
 * never runs off the end.
 */
static const char *check_block(scgi_header *h)
{
    const char *block = h->block;
    size_t nstrings = 0;
    const char *name, *value;
    size_t off = 0;
    int seen_scgi = 0;

    if (block[h->block_len - 1] != '\0')
        return "header block does not end with NUL";
    for (size_t i = 0; i < h->block_len; i++)
        nstrings += block[i] == '\0';
    if (nstrings % 2 != 0)
        return "header block has a name without a value";

    for (size_t i = 0; scgi_pairs_next(h, &off, &name, &value); i++) {
        if (*name == '\0')
            return "header name is empty";
        if (i == 0) {
            if (strcmp(name, "CONTENT_LENGTH") != 0)
                return "first header is not CONTENT_LENGTH";
            if (sl_cgi_content_length(value, &h->content_length) < 0)
                return "CONTENT_LENGTH is not a decimal number that fits 64 bits";
        }
        if (strcmp(name, "SCGI") == 0) {
            if (strcmp(value, "1") != 0)
                return "SCGI header is not 1";
            seen_scgi = 1;
        }
    }
    if (!seen_scgi)
        return "SCGI header is missing";
    return check_duplicates(h, nstrings / 2);
}

int scgi_parse_header(const char *in, size_t len, size_t max, scgi_header *h,
                      const char **reason)
{
    size_t blen = 0, prefix = 0;
    scgi_header tmp;
    const char *why;

    int rc = parse_length(in, len, max, &blen, &prefix, reason);
    if (rc != SCGI_OK)
        return rc;

    /* prefix <= len here, and blen <= max, so this cannot overflow. */
    if (len - prefix <= blen)
        return SCGI_NEED_MORE;
    if (in[prefix + blen] != ',')
        return fail(reason, "netstring is not terminated by ','");

    /* Fill a copy so that *h is untouched on error. */
    memset(&tmp, 0, sizeof(tmp));
    tmp.block = in + prefix;
    tmp.block_len = blen;
    tmp.consumed = prefix + blen + 1;
    why = check_block(&tmp);
    if (why != NULL)
        return fail(reason, why);
    *h = tmp;
    return SCGI_OK;
}

int scgi_pairs_next(const scgi_header *h, size_t *off, const char **name,
                    const char **value)
{
    const char *p, *nul;
    size_t left;

    if (*off >= h->block_len)
        return 0;
    p = h->block + *off;
    left = h->block_len - *off;

    /* Bounded searches: never trust that the block was validated. */
    nul = memchr(p, '\0', left);
    if (nul == NULL || (size_t)(nul - p) + 1 >= left)
        return 0;
    *name = p;
    left -= (size_t)(nul - p) + 1;
    p = nul + 1;
    nul = memchr(p, '\0', left);
    if (nul == NULL)
        return 0;
    *value = p;
    *off = (size_t)(nul + 1 - h->block);
    return 1;
}
