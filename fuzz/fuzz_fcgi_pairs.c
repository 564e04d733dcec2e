/*
 * fuzz_fcgi_pairs: fcgi_pairs_next (src/proto/fcgi.c), and the pair
 * encoder of the tests (tests/lib/fcgi_pair.c).
 *
 * Walks the input as a PARAMS stream.  Checks: slices lie inside the input
 * and right after their lengths, *off advances and stays <= len, 0 only at
 * the end, -1 leaves *off alone and sets a reason; an offset past the end
 * is refused.  Then every pair read is re-encoded with fcgi_pair_encode
 * (lengths in the short or long form as required) and the encoding is
 * walked again: it must give back the same pairs and end cleanly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fcgi_pair.h"
#include "proto/fcgi.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *name, *value, *reason;
    size_t nlen, vlen, off = 0, prev, npairs = 0;
    sl_buf enc;
    int rc;

    sl_buf_init(&enc);
    for (;;) {
        prev = off;
        reason = NULL;
        rc = fcgi_pairs_next(p, size, &off, &name, &nlen, &value, &vlen,
                             &reason);
        if (rc != 1)
            break;
        CHECK(off > prev && off <= size && nlen > 0);
        CHECK(name > p + prev && name + nlen == value && value + vlen == p + off);
        size_t before = enc.len;
        CHECK(fcgi_pair_encode(&enc, name, nlen, value, vlen) == 0);
        size_t hl = (nlen < 128 ? 1 : 4) + (vlen < 128 ? 1 : 4);
        CHECK(enc.len - before == hl + nlen + vlen);
        npairs++;
    }
    if (rc == 0)
        CHECK(off == size);
    else
        CHECK(rc == -EINVAL && off == prev && reason != NULL);

    off = size + 1;
    CHECK(fcgi_pairs_next(p, size, &off, &name, &nlen, &value, &vlen,
                          &reason) == -EINVAL && off == size + 1);

    /* Re-parse the encoding: the same pairs, in order. */
    size_t o1 = 0, o2 = 0;
    const char *n2, *v2;
    size_t nl2, vl2;
    for (size_t i = 0; i < npairs; i++) {
        CHECK(fcgi_pairs_next(p, size, &o1, &name, &nlen, &value, &vlen,
                              &reason) == 1);
        CHECK(fcgi_pairs_next(enc.data, enc.len, &o2, &n2, &nl2, &v2, &vl2,
                              &reason) == 1);
        CHECK(nlen == nl2 && vlen == vl2);
        CHECK(memcmp(name, n2, nlen) == 0);
        CHECK(vlen == 0 || memcmp(value, v2, vlen) == 0);
    }
    CHECK(fcgi_pairs_next(enc.data, enc.len, &o2, &n2, &nl2, &v2, &vl2,
                          &reason) == 0 && o2 == enc.len);
    sl_buf_free(&enc);
    return 0;
}
