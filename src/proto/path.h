/*
 * path.h: the request path as routing sees it.
 *
 * nginx matches its `location` blocks against $uri, not against the bytes
 * the client sent: it percent-decodes the path once, resolves "." and ".."
 * segments (also ones written %2e, and also across a '/' written %2F), merges
 * runs of slashes (merge_slashes on, its default), and refuses a path that
 * climbs above the root.  An application that routed the raw REQUEST_URI
 * could be reached, through `location /admin/ { deny all; }`, by
 * "/admin/..%2Fpublic" or "/public/../admin/x"-like spellings that nginx
 * judged as another path.  sl_path_normalise() makes the same path nginx
 * made, so the application routes what nginx's locations were matched
 * against.
 *
 * What it does, in order:
 *   - the path ends at the first '?' or '#' (nginx ends $uri at a raw '#'
 *     too, so "/public#/../admin" is "/public" for both);
 *   - an absolute-form target ("http://host/p", any RFC 3986 scheme) loses
 *     its scheme and authority; an empty path there is "/";
 *   - what is left must start with a real '/';
 *   - each %XX is decoded once ("%252F" is the three bytes "%2F"); a '%'
 *     not followed by two hex digits is an error, so is a NUL (decoded or
 *     raw);
 *   - a '/' sent as %2F is a separator for what follows, like a real one;
 *   - a "." segment goes, a ".." segment goes with the segment before it,
 *     empty segments (runs of slashes) are merged: RFC 3986 5.2.4's
 *     remove_dot_segments on the merged path, except that a ".." above the
 *     root is an error instead of being dropped ("/..", "/a/../..");
 *   - a trailing "/." or "/.." leaves the trailing slash ("/a/b/.." is
 *     "/a/").
 *
 * The result also says which of its slashes were sent as %2F, so that the
 * router can keep them inside a segment.  When slashes collapse into one
 * (a run, or the two around a removed dot segment), the slash left is a
 * real separator if any of those slashes was a real one.
 *
 * Where it differs from nginx 1.22 (checked by tests/integration/
 * test_paths.py, which compares it with nginx's DOCUMENT_URI):
 *   - with `merge_slashes off` nginx keeps "//"; this always merges;
 *   - nginx refuses some raw bytes in the request line (a space, control
 *     characters) with its own 400 before any of this; this accepts them,
 *     since they can only come from a client speaking FastCGI or SCGI
 *     directly;
 *   - nginx's own rewrites (rewrite, try_files, an internal redirect)
 *     change $uri but not REQUEST_URI, and this sees REQUEST_URI.
 * Otherwise none found: for the ~350 targets of that test (hand-picked
 * and generated from dots, slashes, %2e, %2F, %25, '?', '#') nginx's $uri
 * and this are byte for byte the same, and what nginx refuses with 400 this
 * refuses too.  Which slashes were sent as %2F is the one thing $uri
 * cannot say.
 *
 * With sl_path.decoded the input is a path decoded already (CGI's
 * DOCUMENT_URI, PATH_INFO): only the dot segments and the slashes are
 * done, since decoding it again would turn a client's "%252e" into ".".
 *
 * Pure: no allocation, no I/O.
 */
#ifndef SLUICE_PATH_H
#define SLUICE_PATH_H

#include <stddef.h>
#include <stdint.h>

/* The reasons sl_path_normalise() gives in sl_path.error. */
#define SL_PATH_EESCAPE "malformed percent-encoding"
#define SL_PATH_ENUL "NUL in the path"
#define SL_PATH_ECLIMB "the path climbs above the root"
#define SL_PATH_ERELATIVE "the path does not start with '/'"
#define SL_PATH_ELONG "the path is longer than 4 GiB"

/* The caller's buffers (in) and the result (out). */
typedef struct sl_path {
    int decoded;            /* in: src is a path decoded already (CGI's
                               DOCUMENT_URI, SCRIPT_NAME, PATH_INFO): no
                               %XX is decoded (that would decode twice),
                               '?' and '#' are data, no absolute form;
                               only dot segments and slashes are done */
    char *buf;              /* in: room for the path and its NUL */
    size_t cap;             /* in: bytes at buf; len + 2 always suffices */
    uint32_t *enc;          /* in: room for encoded-slash offsets */
    size_t enc_cap;         /* in: entries at enc (may be 0, enc NULL);
                               sl_path_max_enc() always suffices */
    size_t len;             /* out: buf[0..len) is the path, buf[len] NUL */
    size_t nenc;            /* out: enc[0..nenc): the offsets in buf of
                               the slashes sent as %2F, ascending */
    const char *error;      /* out: on -EINVAL, one of SL_PATH_E* */
} sl_path;

/*
 * Normalise the request-target src[0..len) (REQUEST_URI or the like, need
 * not be NUL-terminated; or, with p->decoded, a decoded path) into p->buf,
 * as described above.  Returns 0;
 * -EINVAL with p->error set when the path is refused (that is the
 * client's error: a 400); -ENOBUFS when p->cap or p->enc_cap is too small
 * (never with the sizes given above).  On error p->len and p->nenc are 0
 * and p->buf holds nothing useful.
 */
int sl_path_normalise(sl_path *p, const char *src, size_t len);

/*
 * An enc_cap that always suffices for src[0..len): the number of %2F
 * (either case) in it.  0 for most paths, so the caller need not make room
 * for offsets at all.
 */
size_t sl_path_max_enc(const char *src, size_t len);

#endif
