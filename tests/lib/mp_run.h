/*
 * mp_run.h: the harness of the multipart tests (test_multipart.c,
 * test_hparam.c): a body parsed whole, a byte at a time, cut at every
 * point and at pseudo-random points, each piece in a heap block of its
 * exact size, and the transcripts of its events compared.
 *
 * A transcript writes a part as [name]{filename}<content type> (the last
 * two only when present), its content escaped, "$" for its end, "#" for
 * the end of the form and "!<error number>:<reason>" for an error; in
 * names and content the bytes []{}<>$#!\ are escaped with '\' and bytes
 * outside printable ASCII as \xHH.
 */
#ifndef SLUICE_TEST_MP_RUN_H
#define SLUICE_TEST_MP_RUN_H

#include <stddef.h>
#include "proto/multipart.h"

/* Limits no test body reaches. */
extern const sl_mp_limits mp_roomy;

/* The transcript (malloc'd) of body[0..n) with boundary b, once every way
 * of cutting it gave the same; a Check failure otherwise. */
char *mp_parse(const char *b, const char *body, size_t n,
               const sl_mp_limits *lim);

/* tests/unit/multipart/NAME.form: *ctype (malloc'd, the block to free) and
 * the body, *n bytes, inside it. */
char *mp_fixture(const char *name, char **ctype, size_t *n);

/* Escape s[0..n) as a transcript does (malloc'd). */
char *mp_escape(const char *s, size_t n);

#define MP_EXPECT_LIM(b, body, lim, want) do {                              \
        char *got_ = mp_parse((b), (body), strlen(body), (lim));            \
        ck_assert_msg(strcmp(got_, (want)) == 0, "got:  %s\nwant: %s",      \
                      got_, (want));                                        \
        free(got_);                                                         \
    } while (0)
#define EXPECT(b, body, want) MP_EXPECT_LIM((b), (body), &mp_roomy, (want))
#define EXPECT_LIM MP_EXPECT_LIM

/* An error in a transcript: its number, then its reason. */
#define ERR(code) "!" #code ":"
#define MAL(text) ERR(1) text
/* A part's Content-Disposition line. */
#define CD(name) "Content-Disposition: form-data; name=\"" name "\"\r\n"

#endif
