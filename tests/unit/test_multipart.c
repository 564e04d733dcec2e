/*
 * test_multipart.c: unit tests for the multipart/form-data parser
 * (src/proto/multipart.c): its framing, the limits, real bodies.
 *
 * Every body goes through tests/lib/mp_run.c: parsed whole, a byte at a
 * time, cut at every single point and at many pseudo-random sets of
 * points, each piece in a heap block of its exact size (so ASan sees any
 * read past it); the transcripts of the events must all be the same
 * (mp_run.h says how a transcript reads).
 *
 * The bodies: the examples of RFC 7578 and RFC 2046, real ones written by
 * curl, Python (urllib3 and the email package) and Chromium (the .form
 * files of tests/unit/multipart/, from make-fixtures.py there), and
 * hand-made near misses, truncations and limits.  test_hparam.c has the
 * header values and the file names.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mp_run.h"
#include "proto/filename.h"
#include "proto/multipart.h"

START_TEST(test_init)
{
    sl_mp_parser p;
    sl_mp_limits l = mp_roomy;

    ck_assert_int_eq(sl_mp_init(&p, "", 0, &l), -EINVAL);
    ck_assert_int_eq(sl_mp_init(&p, "a\r", 2, &l), -EINVAL);
    ck_assert_int_eq(sl_mp_init(&p, NULL, 1, &l), -EINVAL);
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, NULL), -EINVAL);
    l.max_parts = 0;
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, &l), -EINVAL);
    l = mp_roomy;
    l.max_header_bytes = 3;
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, &l), -EINVAL);
    l.max_header_bytes = SL_MP_HEADER_LIMIT_MAX + 1;
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, &l), -EINVAL);
    l.max_header_bytes = SL_MP_HEADER_LIMIT_MAX;
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, &l), 0);
    sl_mp_free(&p);
    /* A freed parser answers errors, and freeing twice is harmless. */
    sl_mp_event ev;
    ck_assert_uint_eq(sl_mp_parse(&p, "--ab--", 6, &ev), 0);
    ck_assert_int_eq(ev.type, SL_MP_ERROR);
    sl_mp_free(&p);
}
END_TEST

/* ---- the RFCs' examples ---------------------------------------------------- */

START_TEST(test_rfc7578)
{
    /*
     * RFC 7578 section 4.5: a charset on the part's Content-Type and a
     * quoted-printable Content-Transfer-Encoding, which is not applied
     * (section 4.7 deprecates it; Starlette does not apply it either).
     */
    EXPECT("AaB03x",
           "--AaB03x\r\n"
           "content-disposition: form-data; name=\"field1\"\r\n"
           "content-type: text/plain;charset=UTF-8\r\n"
           "content-transfer-encoding: quoted-printable\r\n"
           "\r\n"
           "Joe owes =E2=82=AC100.\r\n"
           "--AaB03x--\r\n",
           "[field1]<text/plain;charset=UTF-8>Joe owes =E2=82=AC100.$#");
    /*
     * Section 4.6, the _charset_ field, as printed: its second delimiter
     * is a close delimiter (an erratum), so what follows is epilogue.
     */
    EXPECT("AaB03x",
           "--AaB03x\r\n"
           "content-disposition: form-data; name=\"_charset_\"\r\n"
           "\r\n"
           "iso-8859-1\r\n"
           "--AaB03x--\r\n"
           "content-disposition: form-data; name=\"field1\"\r\n"
           "\r\n"
           "...\r\n"
           "--AaB03x--\r\n",
           "[_charset_]iso-8859-1$#");
    /* Section 4.2: a file, and a field in the same form. */
    EXPECT("AaB03x",
           "--AaB03x\r\n"
           "Content-Disposition: form-data; name=\"user\"\r\n"
           "\r\n"
           "Larry\r\n"
           "--AaB03x\r\n"
           "Content-Disposition: form-data; name=\"file\"; "
           "filename=\"file.txt\"\r\n"
           "Content-Type: text/plain\r\n"
           "\r\n"
           "... contents of file.txt ...\r\n"
           "--AaB03x--\r\n",
           "[user]Larry$[file]{file.txt}<text/plain>... contents of "
           "file.txt ...$#");
}
END_TEST

START_TEST(test_rfc2046)
{
    /*
     * RFC 2046 section 5.1.1's example, framing as printed (a preamble, a
     * boundary with a space, a part whose content is empty, an
     * epilogue), with the Content-Disposition form-data needs added.
     */
    EXPECT("simple boundary",
           "This is the preamble.  It is to be ignored, though it\r\n"
           "is a handy place for composition agents to include an\r\n"
           "explanatory note to non-MIME conformant readers.\r\n"
           "\r\n"
           "--simple boundary\r\n"
           "Content-Disposition: form-data; name=\"a\"\r\n"
           "\r\n"
           "This is implicitly typed plain US-ASCII text.\r\n"
           "It does NOT end with a linebreak.\r\n"
           "--simple boundary\r\n"
           "Content-Disposition: form-data; name=\"b\"\r\n"
           "Content-type: text/plain; charset=us-ascii\r\n"
           "\r\n"
           "This is explicitly typed plain US-ASCII text.\r\n"
           "It DOES end with a linebreak.\r\n"
           "\r\n"
           "--simple boundary--\r\n"
           "\r\n"
           "This is the epilogue.  It is also to be ignored.\r\n",
           "[a]This is implicitly typed plain US-ASCII text.\\x0d\\x0aIt "
           "does NOT end with a linebreak.$"
           "[b]<text/plain; charset=us-ascii>This is explicitly typed "
           "plain US-ASCII text.\\x0d\\x0aIt DOES end with a linebreak."
           "\\x0d\\x0a$#");
}
END_TEST

/* ---- real bodies ----------------------------------------------------------- */

/* The transcript of a fixture, its boundary from its Content-Type. */
static char *parse_fixture(const char *name)
{
    char *ct, *bnd;
    size_t n, blen;
    const char *b, *reason;
    char *body = mp_fixture(name, &ct, &n);

    ck_assert_msg(sl_mp_boundary(ct, strlen(ct), &b, &blen, &reason) == 0,
                  "%s: %s", name, reason);
    bnd = strndup(b, blen);
    char *t = mp_parse(bnd, body, n, &mp_roomy);
    free(bnd);
    free(ct);
    return t;
}

#define EXPECT_FIXTURE(name, want) do {                                     \
        char *got_ = parse_fixture(name);                                   \
        ck_assert_msg(strcmp(got_, (want)) == 0, "%s\ngot:  %s\nwant: %s",  \
                      name, got_, (want));                                  \
        free(got_);                                                         \
    } while (0)

/* make-fixtures.py's BLOB, as a transcript shows it. */
static char *blob_text(void)
{
    unsigned char blob[256 * 2 + 40];
    size_t n = 0;
    const char *mid = "\r\n--\r\n--not-the-boundary\r\n\r\n-\r";

    for (int i = 0; i < 256; i++)
        blob[n++] = (unsigned char)i;
    memcpy(blob + n, mid, strlen(mid));
    n += strlen(mid);
    for (int i = 255; i >= 0; i--)
        blob[n++] = (unsigned char)i;
    return mp_escape((const char *)blob, n);
}

START_TEST(test_fixtures)
{
    char want[8192];
    char *blob = blob_text();
    const char *text = "first line\\x0d\\x0asecond line, caf\\xc3\\xa9\\x0a";

    snprintf(want, sizeof want, "[note]hello world$[file]{notes.txt}"
             "<text/plain>%s$#", text);
    EXPECT_FIXTURE("curl-basic", want);

    /* curl -F: a quote in a file name as %22, the rest as it is. */
    snprintf(want, sizeof want,
             "[file]{blob.bin}<application/octet-stream>%s$[empty]$"
             "[many]{a.txt}<text/plain>%s$[many]{b.txt}<text/plain>%s$"
             "[odd]{sub/we;ird %%22q%%22 caf\\xc3\\xa9.txt}<text/plain>%s$#",
             blob, text, text, text);
    EXPECT_FIXTURE("curl-files", want);

    snprintf(want, sizeof want,
             "[title]caf\\xc3\\xa9 \\xe2\\x98\\x95$"
             "[upload]{r\\xc3\\xa9sum\\xc3\\xa9 %%22v2%%22.pdf}"
             "<application/pdf>%s$"
             "[upload]{../../etc/passwd}<text/plain>root:x:0:0\\x0a$#", blob);
    EXPECT_FIXTURE("urllib3", want);

    /* The email package: RFC 2231 filename*, base64 left as it is. */
    EXPECT_FIXTURE("python-email",
                   "[comment]<text/plain; charset=\"utf-8\">"
                   "cGxhaW4gdmFsdWU=\\x0d\\x0a$"
                   "[doc]{\\xe2\\x82\\xac rates.bin}<application/octet-stream>"
                   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp"
                   "KissLS4vMDEyMzQ1Njc4\\x0d\\x0aOTo7PD0+Pw==\\x0d\\x0a$#");

    /* Chromium's FormData: newlines as CRLF, %22 and %0A in file names,
     * a Windows path sent as given. */
    snprintf(want, sizeof want,
             "[note]line one\\x0d\\x0aline two\\x0d\\x0acaf\\xc3\\xa9$"
             "[file]{we%%22ird%%0Aname caf\\xc3\\xa9.bin}"
             "<application/octet-stream>%s$"
             "[text]{C:\\\\Users\\\\me\\\\hi.txt}<text/plain>hello"
             "\\x0d\\x0a$#", blob);
    EXPECT_FIXTURE("chromium-fetch", want);

    /* A real form: repeated checkboxes, an empty file input. */
    EXPECT_FIXTURE("chromium-form",
                   "[user]j\\xc3\\xbcrgen$[bio]two\\x0d\\x0alines$[tag]a$"
                   "[tag]b$[avatar]{}<application/octet-stream>$#");
    free(blob);
}
END_TEST

/* ---- the delimiter, at and around ------------------------------------------ */

START_TEST(test_near_misses)
{
    /* Almost a delimiter: content. */
    EXPECT("bnd", "--bnd\r\n" CD("a") "\r\n"
           "x\r\n--bn\r\n-\r\n--\r\n--bndx\r\n--bnd-y\r\n--bnd\rz\r\r\n"
           "--bnd\r\n" CD("b") "\r\n\r\n--bnd--",
           "[a]x\\x0d\\x0a--bn\\x0d\\x0a-\\x0d\\x0a--\\x0d\\x0a--bndx"
           "\\x0d\\x0a--bnd-y\\x0d\\x0a--bnd\\x0dz\\x0d$[b]$#");
    /* A delimiter without its CR or LF is content. */
    EXPECT("bnd", "--bnd\r\n" CD("a") "\r\nx\n--bnd\r--bnd\r\n--bnd--",
           "[a]x\\x0a--bnd\\x0d--bnd$#");
    /* Content ending in CRs, the delimiter's CRLF right after. */
    EXPECT("bnd", "--bnd\r\n" CD("a") "\r\n\r\r\r\n--bnd--",
           "[a]\\x0d\\x0d$#");
    /* Content that is only "\r\n": the first CRLF is content. */
    EXPECT("bnd", "--bnd\r\n" CD("a") "\r\n\r\n\r\n--bnd--",
           "[a]\\x0d\\x0a$#");
    /* A longer boundary that starts with ours is content, then a close. */
    EXPECT("b", "--b\r\n" CD("a") "\r\n\r\n--bb\r\n\r\n--b--",
           "[a]\\x0d\\x0a--bb\\x0d\\x0a$#");
    /* "--" after the delimiter closes, whatever follows. */
    EXPECT("b", "--b\r\n" CD("a") "\r\nv\r\n--b--x\r\n--b\r\n" CD("c")
           "\r\nw\r\n--b--", "[a]v$#");
    /* Transport padding after a delimiter. */
    EXPECT("b", "--b \t \r\n" CD("a") "\r\nv\r\n--b\t\r\n" CD("c")
           "\r\nw\r\n--b-- \r\n", "[a]v$[c]w$#");
    EXPECT("b", "--b\r\n" CD("a") "\r\nv\r\n--b  x\r\n",
           "[a]v" ERR(1) "bytes after a boundary delimiter");
    EXPECT("b", "--b\r\n" CD("a") "\r\nv\r\n--b \rx",
           "[a]v" ERR(1) "a CR without LF after a boundary");
}
END_TEST

START_TEST(test_preamble_epilogue)
{
    /* No preamble, an empty form, an empty form after a CRLF. */
    EXPECT("b", "--b--", "#");
    EXPECT("b", "--b--\r\n", "#");
    EXPECT("b", "\r\n--b--", "#");
    /* Preamble with near misses of its own, even "--b" glued to text. */
    EXPECT("b", "x--b\r\n--bx\r\n-\r\n--b\r\n" CD("a") "\r\nv\r\n--b--",
           "[a]v$#");
    /* A first delimiter that is not at a line start is not one. */
    EXPECT("b", "x--b--", ERR(1) "a body that ends before its close delimiter");
    /* The epilogue may hold anything, delimiters too. */
    EXPECT("b", "--b\r\n" CD("a") "\r\nv\r\n--b--\r\n--b\r\n" CD("c")
           "\r\n\x01\xff\r\n--b--junk", "[a]v$#");
}
END_TEST

/* Every proper prefix of a good body is an error at its end, never more. */
START_TEST(test_truncated)
{
    const char *body = "pre\r\n--bnd \r\n" CD("a") "Content-Type: x/y\r\n"
                       "\r\nval\r\nue\r\n--bnd\r\n"
                       "Content-Disposition: form-data; name=f; "
                       "filename*=utf-8''%c3%a9\r\n\r\n\r\n--bnd--";
    size_t n = strlen(body);
    char *full = mp_parse("bnd", body, strlen(body), &mp_roomy);

    ck_assert_str_eq(full, "[a]<x/y>val\\x0d\\x0aue$[f]{\\xc3\\xa9}$#");
    for (size_t k = 0; k < n; k++) {
        char *t = mp_parse("bnd", body, k, &mp_roomy);
        const char *bang = strrchr(t, '!');
        ck_assert_msg(bang != NULL, "prefix %zu: %s", k, t);
        ck_assert_str_eq(bang, MAL("a body that ends before its close "
                                   "delimiter"));
        /* What came before is a prefix of the whole transcript. */
        ck_assert_msg(strncmp(t, full, (size_t)(bang - t)) == 0,
                      "prefix %zu: %s", k, t);
        free(t);
    }
    free(full);
}
END_TEST

/* ---- limits ---------------------------------------------------------------- */

START_TEST(test_limit_parts)
{
    sl_mp_limits l = mp_roomy;
    const char *two = "--b\r\n" CD("a") "\r\n1\r\n--b\r\n" CD("c")
                      "\r\n2\r\n--b--";

    l.max_parts = 2;
    EXPECT_LIM("b", two, &l, "[a]1$[c]2$#");
    l.max_parts = 1;
    EXPECT_LIM("b", two, &l, "[a]1$" ERR(2) "more parts than the limit");
    /* The close delimiter is not a part. */
    EXPECT_LIM("b", "--b\r\n" CD("a") "\r\n1\r\n--b--", &l, "[a]1$#");
    EXPECT_LIM("b", "--b--", &l, "#");
}
END_TEST

START_TEST(test_limit_headers)
{
    sl_mp_limits l = mp_roomy;
    const char *body = "--b\r\n" CD("a") "\r\nv\r\n--b--";
    size_t block = strlen(CD("a") "\r\n");      /* 41 */

    l.max_header_bytes = block;
    EXPECT_LIM("b", body, &l, "[a]v$#");
    l.max_header_bytes = block - 1;
    EXPECT_LIM("b", body, &l, ERR(3) "part headers larger than the limit");
    /* Per part: each may have the whole limit. */
    l.max_header_bytes = block;
    EXPECT_LIM("b", "--b\r\n" CD("a") "\r\n1\r\n--b\r\n" CD("c")
               "\r\n2\r\n--b--", &l, "[a]1$[c]2$#");
    /* The limit comes before a malformed byte past it. */
    l.max_header_bytes = 4;
    EXPECT_LIM("b", "--b\r\nX: y\nz", &l,
               ERR(3) "part headers larger than the limit");
    EXPECT_LIM("b", "--b\r\nX:\ny", &l, MAL("a LF without CR in part headers"));
}
END_TEST

START_TEST(test_limit_total)
{
    sl_mp_limits l = mp_roomy;
    const char *body = "--b\r\n" CD("a") "\r\nvalue\r\n--b--";
    size_t n = strlen(body);
    char *epi;

    l.max_total = n;
    EXPECT_LIM("b", body, &l, "[a]value$#");
    /* The epilogue is not counted. */
    epi = malloc(n + 40);
    snprintf(epi, n + 40, "%s\r\nan epilogue that is long", body);
    EXPECT_LIM("b", epi, &l, "[a]value$#");
    free(epi);
    l.max_total = n - 1;
    EXPECT_LIM("b", body, &l, "[a]value" ERR(4) "a body larger than the limit");
    l.max_total = 8;
    EXPECT_LIM("b", body, &l, ERR(4) "a body larger than the limit");
    /* Cut inside the content: what is known to be content comes first. */
    l.max_total = n - 8;
    EXPECT_LIM("b", body, &l, "[a]valu" ERR(4) "a body larger than the limit");
}
END_TEST

START_TEST(test_limit_part_size)
{
    sl_mp_limits l = mp_roomy;
    const char *body = "--b\r\n" CD("field") "\r\n12345\r\n--b\r\n"
                       "Content-Disposition: form-data; name=f; filename=x\r\n"
                       "\r\n123456789\r\n--b--";

    l.max_field = 5;
    l.max_file = 9;
    EXPECT_LIM("b", body, &l, "[field]12345$[f]{x}123456789$#");
    l.max_field = 4;
    EXPECT_LIM("b", body, &l, "[field]1234" ERR(5)
               "a field larger than the limit");
    l.max_field = 5;
    l.max_file = 8;
    EXPECT_LIM("b", body, &l, "[field]12345$[f]{x}12345678" ERR(5)
               "a file larger than the limit");
    /* 0: no limit for that kind. */
    l.max_field = 0;
    l.max_file = 1;
    EXPECT_LIM("b", body, &l, "[field]12345$[f]{x}1" ERR(5)
               "a file larger than the limit");
    /* Bytes that looked like a delimiter count once they are content. */
    l.max_field = 8;
    l.max_file = 0;
    EXPECT_LIM("b", "--b\r\n" CD("a") "\r\n123\r\n--bx\r\n--b--", &l,
               "[a]123\\x0d\\x0a--b" ERR(5) "a field larger than the limit");
    l.max_field = 9;
    EXPECT_LIM("b", "--b\r\n" CD("a") "\r\n123\r\n--bx\r\n--b--", &l,
               "[a]123\\x0d\\x0a--bx$#");
    /* An empty part within a limit of 1. */
    l.max_field = 1;
    EXPECT_LIM("b", "--b\r\n" CD("a") "\r\n\r\n--b--", &l, "[a]$#");
}
END_TEST

/* Long content across many small pieces: no copy, the right bytes. */
START_TEST(test_large_content)
{
    size_t big = 200000;
    const char *head = "--XyZ\r\n" CD("f") "\r\n";
    const char *tail = "\r\n--XyZ--\r\n";
    size_t n = strlen(head) + big + strlen(tail);
    char *body = malloc(n);
    sl_mp_parser p;
    sl_mp_event ev;
    size_t got = 0, off = 0, step = 1;

    memcpy(body, head, strlen(head));
    for (size_t i = 0; i < big; i++) {
        /* CRs and dashes everywhere, near misses of the boundary. */
        const char pat[] = "\r\n--XyQ\r\r\n-\r\n--Xy";
        body[strlen(head) + i] = pat[i % (sizeof(pat) - 1)];
    }
    memcpy(body + strlen(head) + big, tail, strlen(tail));
    ck_assert_int_eq(sl_mp_init(&p, "XyZ", 3, &mp_roomy), 0);
    while (off < n) {
        size_t len = step < n - off ? step : n - off, k, used = 0;
        step = step * 7 % 97 + 1;
        do {
            k = sl_mp_parse(&p, body + off + used, len - used, &ev);
            used += k;
            if (ev.type == SL_MP_DATA) {
                ck_assert_int_eq(memcmp(ev.data, body + strlen(head) + got,
                                        ev.len), 0);
                got += ev.len;
            }
            ck_assert_int_ne(ev.type, SL_MP_ERROR);
        } while (k > 0 || ev.type != SL_MP_NONE);
        off += len;
    }
    ck_assert_uint_eq(got, big);
    ck_assert_int_eq(sl_mp_finish(&p, &ev), 0);
    sl_mp_free(&p);
    free(body);
}
END_TEST

/* The parser's file names through the sanitiser, as an application does. */
START_TEST(test_sanitise_parsed)
{
    char out[SL_FILENAME_MAX + 1];
    char *ct, *bnd;
    size_t n, blen;
    const char *b, *reason;
    char *body = mp_fixture("chromium-fetch", &ct, &n);
    sl_mp_parser p;
    sl_mp_event ev;
    int files = 0;

    ck_assert_int_eq(sl_mp_boundary(ct, strlen(ct), &b, &blen, &reason), 0);
    bnd = strndup(b, blen);
    ck_assert_int_eq(sl_mp_init(&p, bnd, blen, &mp_roomy), 0);
    size_t off = 0, k;
    do {
        k = sl_mp_parse(&p, body + off, n - off, &ev);
        off += k;
        if (ev.type == SL_MP_PART && ev.part.filename) {
            sl_filename_sanitise(out, sizeof out, ev.part.filename,
                                 ev.part.filename_len);
            if (files++ == 0)
                ck_assert_str_eq(out, "we%22ird%0Aname caf\xc3\xa9.bin");
            else
                ck_assert_str_eq(out, "hi.txt");
        }
    } while (k > 0 || ev.type != SL_MP_NONE);
    ck_assert_int_eq(files, 2);
    ck_assert_int_eq(sl_mp_finish(&p, &ev), 0);
    sl_mp_free(&p);
    free(bnd);
    free(ct);
}
END_TEST

static Suite *multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_rfc7578);
    tcase_add_test(tc, test_rfc2046);
    tcase_add_test(tc, test_fixtures);
    tcase_add_test(tc, test_near_misses);
    tcase_add_test(tc, test_preamble_epilogue);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_limit_parts);
    tcase_add_test(tc, test_limit_headers);
    tcase_add_test(tc, test_limit_total);
    tcase_add_test(tc, test_limit_part_size);
    tcase_add_test(tc, test_large_content);
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("filename");
    tcase_add_test(tn, test_sanitise_parsed);
    suite_add_tcase(s, tn);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multipart_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
