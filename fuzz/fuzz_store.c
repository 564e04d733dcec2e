/*
 * fuzz_store: the FastCGI parameter store (src/api/request.c,
 * sl_req_params_from_fcgi), made where the PARAMS stream lies: names moved
 * a byte back, NULs written over length bytes, zero bytes searched for a
 * few at a time.
 *
 * The input is a PARAMS stream.  The first byte, when there is one, also
 * picks whether the stream's block has the byte of room the last NUL takes
 * (bit 0) or must grow; the block is otherwise exactly the stream's size,
 * so ASan sees any byte read or written past it.  Checks, against the
 * reference reader fcgi_pairs_next (src/proto/fcgi.c) over a copy: the
 * stream is accepted exactly when the reference reads every pair to the
 * end and no name or value holds a NUL, refused with the reference's
 * reason otherwise (or "NUL byte in a parameter"); an accepted stream gives
 * the same pairs in order, NUL-terminated, the known parameters found
 * (the last one of a name wins), and the stored size the metrics count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/request.h"
#include "proto/fcgi.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const known_names[SL_P_KNOWN] = {
    [SL_P_METHOD] = "REQUEST_METHOD", [SL_P_URI] = "REQUEST_URI",
    [SL_P_QUERY] = "QUERY_STRING", [SL_P_CLEN] = "CONTENT_LENGTH",
    [SL_P_DOC_URI] = "DOCUMENT_URI", [SL_P_SCRIPT] = "SCRIPT_NAME",
    [SL_P_PATH_INFO] = "PATH_INFO", [SL_P_REQID] = "HTTP_X_REQUEST_ID",
    [SL_P_REMOTE] = "REMOTE_ADDR",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t room = size > 0 ? (data[0] & 1) : 0;
    static sl_req req;
    sl_req_init(&req);
    req.proto = SL_PROTO_FASTCGI;
    req.raw_params.data = malloc(size + room ? size + room : 1);
    CHECK(req.raw_params.data != NULL);
    if (size > 0)
        memcpy(req.raw_params.data, data, size);
    req.raw_params.len = size;
    req.raw_params.cap = size + room;

    /* The reference: every pair, and whether any holds a NUL. */
    const char *p = (const char *)data, *name, *value, *reason = NULL;
    size_t nlen, vlen, off = 0, npairs = 0;
    int rc, nul = 0;
    while ((rc = fcgi_pairs_next(p, size, &off, &name, &nlen, &value, &vlen,
                                 &reason)) == 1) {
        if (memchr(name, '\0', nlen + vlen) != NULL) {
            nul = 1;
            break;
        }
        npairs++;
    }

    const char *why = sl_req_params_from_fcgi(&req);
    if (rc < 0) {
        /* The reference stopped on a malformed pair: the same reason, or
         * a NUL found in a whole pair before it. */
        CHECK(why != NULL);
        CHECK(strcmp(why, reason) == 0 || strcmp(why, "NUL byte in a parameter") == 0);
    } else if (nul) {
        CHECK(why != NULL && strcmp(why, "NUL byte in a parameter") == 0);
    } else {
        CHECK(why == NULL);
        CHECK(sl_req_param_count(&req) == npairs);
        CHECK(req.state == SL_REQ_BODY);
        const char *last[SL_P_KNOWN] = {0};
        size_t stored = 0;
        off = 0;
        for (size_t i = 0; i < npairs; i++) {
            const char *n2, *v2;
            CHECK(fcgi_pairs_next(p, size, &off, &name, &nlen, &value, &vlen,
                                  &reason) == 1);
            CHECK(sl_req_param_at(&req, i, &n2, &v2) == 0);
            CHECK(strlen(n2) == nlen && memcmp(n2, name, nlen) == 0);
            CHECK(strlen(v2) == vlen && memcmp(v2, value, vlen) == 0);
            for (int k = 0; k < SL_P_KNOWN; k++)
                if (strcmp(n2, known_names[k]) == 0)
                    last[k] = v2;
            stored += nlen + vlen + 2;
        }
        for (int k = 0; k < SL_P_KNOWN; k++)
            CHECK(sl_req_known(&req, k) == last[k]);
        CHECK(req.params_size == stored);
    }
    sl_req_destroy(&req);
    return 0;
}
