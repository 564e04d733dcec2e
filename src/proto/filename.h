/*
 * filename.h: file names that come from a peer (a form's file part): the
 * sanitiser that makes one fit to show or store under, and the UTF-8 check
 * it rests on.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef SLUICE_FILENAME_H
#define SLUICE_FILENAME_H

#include <stddef.h>
#include <stdint.h>

/* A file name's length as most file systems bound it (bytes, no NUL). */
#define SL_FILENAME_MAX 255

/*
 * The length of the well-formed UTF-8 sequence at s[0..n) (1 to 4, n >= 1)
 * with its code point in *cp, or 0 when s starts with a byte that begins
 * none: a continuation byte, an overlong form, a surrogate, past
 * U+10FFFF, or a sequence cut short.
 */
size_t sl_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 when s[0..n) is well-formed UTF-8 throughout, else 0. */
int sl_utf8_valid(const char *s, size_t n);

/*
 * A file name fit to show or to store under, from what a peer sent:
 *  1. only what follows the last '/' or '\' (the base name);
 *  2. bytes that are not UTF-8 (a stray byte, an overlong form, a
 *     surrogate, past U+10FFFF, a sequence cut short) become '_', one per
 *     byte; control characters (U+0000-U+001F, U+007F-U+009F) and the
 *     bidirectional embeddings, overrides and isolates (U+202A-U+202E,
 *     U+2066-U+2069, which can disguise an extension) are dropped;
 *  3. leading dots and spaces are dropped (no hidden files, no "." or
 *     ".."), and so are trailing dots and spaces (which Windows drops);
 *  4. a name longer than cap - 1 bytes is cut at a character boundary; if
 *     it has an extension (from its last '.', at most 16 bytes and at most
 *     half the room) the stem is cut instead and the extension kept.  The
 *     cut stem loses its trailing dots and spaces too.
 * Writes the result, NUL-terminated, into dst (cap >= 1 bytes; pass
 * SL_FILENAME_MAX + 1 for the usual bound) and returns its length, which
 * is 0 when nothing is left ("", "..", "/"): the caller picks a name then.
 * The result is valid UTF-8 without '/', '\', NUL or control characters,
 * and does not start with '.'.  Nothing else is changed: other characters
 * (':', '*', '%', quotes, non-ASCII letters) are kept, and so are names
 * Windows reserves (CON, NUL.txt).
 */
size_t sl_filename_sanitise(char *dst, size_t cap, const char *src,
                            size_t len);

#endif
