/*
 * test_multipart.c: unit tests for the multipart/form-data parser
 * (src/proto/multipart.c), the header parameters it reads
 * (src/proto/hparam.c) and the file name sanitiser (src/proto/filename.c).
 *
 * Every body is parsed whole, a byte at a time, cut at every single point,
 * and cut at many pseudo-random sets of points, each piece in a heap block
 * of its exact size (so ASan sees any read past it), and the transcripts
 * of the events must all be the same.  A transcript writes a part as
 * [name]{filename}<content type> (the last two only when present), its
 * content escaped, "$" for its end, "#" for the end of the form and
 * "!<error number>:<reason>" for an error; in names and content the bytes
 * []{}<>$#!\ are escaped with '\' and bytes outside printable ASCII as \xHH.
 *
 * The bodies: the examples of RFC 7578 and RFC 2046, real ones written by
 * curl, Python (urllib3 and the email package) and Chromium
 * (the .form files of tests/unit/multipart/, from make-fixtures.py
 * there), and hand-made near misses, malformed bodies and limits.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/filename.h"
#include "proto/hparam.h"
#include "proto/multipart.h"

/* ---- transcripts ---------------------------------------------------------- */

typedef struct tbuf {
    char *p;
    size_t n, cap;
} tbuf;

/*
 * Check's own asserts report progress through a pipe, each one a system
 * call; the hot loops below check with this instead.
 */
#define CHECK(c) do {                                                       \
        if (!(c))                                                           \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);              \
    } while (0)

static void put(tbuf *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        CHECK(t->p != NULL);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void put_esc(tbuf *t, const char *s, size_t n)
{
    char tmp[8];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            put(t, tmp, 4);
        } else {
            if (strchr("[]{}<>$#!\\", c))
                put(t, "\\", 1);
            put(t, (const char *)&c, 1);
        }
    }
}

static const sl_mp_limits roomy = { 100, 4096, 0, 0, 0 };

/*
 * Parse body[0..n) with boundary b, cut at cuts[0..ncuts) (ascending, may
 * repeat: empty pieces), each piece in an exact-size heap block.  Returns
 * the transcript (malloc'd).  Also checks what every event must satisfy.
 */
static char *run(const char *b, const char *body, size_t n, const size_t *cuts,
                 size_t ncuts, const sl_mp_limits *lim)
{
    sl_mp_parser p;
    sl_mp_event ev;
    tbuf t = { NULL, 0, 0 };
    int done = 0;

    put(&t, "", 0);
    CHECK(sl_mp_init(&p, b, strlen(b), lim) == 0);
    for (size_t c = 0; c <= ncuts && !done; c++) {
        size_t from = c == 0 ? 0 : cuts[c - 1], to = c == ncuts ? n : cuts[c];
        size_t len = to - from, off = 0;
        char *piece = malloc(len ? len : 1);
        CHECK(piece != NULL);
        memcpy(piece, body + from, len);
        for (;;) {
            size_t k = sl_mp_parse(&p, piece + off, len - off, &ev);
            CHECK(k <= len - off);
            off += k;
            if (ev.type == SL_MP_NONE) {
                if (k == 0) {
                    CHECK(off == len);
                    break;
                }
                continue;
            }
            switch (ev.type) {
            case SL_MP_PART:
                CHECK(ev.part.name != NULL);
                CHECK(strlen(ev.part.name) == ev.part.name_len);
                put(&t, "[", 1);
                put_esc(&t, ev.part.name, ev.part.name_len);
                put(&t, "]", 1);
                if (ev.part.filename) {
                    CHECK(strlen(ev.part.filename) == ev.part.filename_len);
                    put(&t, "{", 1);
                    put_esc(&t, ev.part.filename, ev.part.filename_len);
                    put(&t, "}", 1);
                }
                if (ev.part.content_type) {
                    CHECK(strlen(ev.part.content_type) ==
                          ev.part.content_type_len);
                    put(&t, "<", 1);
                    put_esc(&t, ev.part.content_type,
                            ev.part.content_type_len);
                    put(&t, ">", 1);
                }
                break;
            case SL_MP_DATA:
                CHECK(ev.len > 0);
                /* A slice of this piece, or of the parser's delimiter. */
                CHECK((ev.data >= piece && ev.data + ev.len <= piece + len) ||
                          (ev.data >= p.delim &&
                           ev.data + ev.len <= p.delim + sizeof(p.delim)));
                put_esc(&t, ev.data, ev.len);
                break;
            case SL_MP_PART_END:
                put(&t, "$", 1);
                break;
            case SL_MP_END:
                put(&t, "#", 1);
                break;
            case SL_MP_ERROR: {
                char tmp[16];
                CHECK(ev.reason != NULL);
                snprintf(tmp, sizeof tmp, "!%d:", (int)ev.error);
                put(&t, tmp, strlen(tmp));
                put(&t, ev.reason, strlen(ev.reason));
                done = 1;
                /* Sticky. */
                sl_mp_event again;
                CHECK(sl_mp_parse(&p, "x", 1, &again) == 0);
                CHECK(again.type == SL_MP_ERROR);
                CHECK(strcmp(again.reason, ev.reason) == 0);
                break;
            }
            default:
                ck_abort_msg("event type %d", (int)ev.type);
            }
            if (done)
                break;
        }
        free(piece);
    }
    if (!done) {
        int rc = sl_mp_finish(&p, &ev);
        if (rc < 0) {
            char tmp[16];
            CHECK(ev.type == SL_MP_ERROR);
            snprintf(tmp, sizeof tmp, "!%d:", (int)ev.error);
            put(&t, tmp, strlen(tmp));
            put(&t, ev.reason, strlen(ev.reason));
        } else {
            CHECK(ev.type == SL_MP_END);
            CHECK(t.n > 0 && t.p[t.n - 1] == '#');
        }
    }
    CHECK(p.total <= n);
    sl_mp_free(&p);
    return t.p;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The transcript of body[0..n), after checking that a byte at a time,
 * every single cut and 60 random sets of cuts give the same.
 */
static char *parse_lim(const char *b, const char *body, size_t n,
                       const sl_mp_limits *lim)
{
    char *whole = run(b, body, n, NULL, 0, lim);
    size_t *cuts = malloc((n + 8) * sizeof(size_t));
    ck_assert_ptr_nonnull(cuts);

    for (size_t i = 0; i + 1 < n; i++)
        cuts[i] = i + 1;
    char *t = run(b, body, n, cuts, n ? n - 1 : 0, lim);
    ck_assert_msg(strcmp(t, whole) == 0, "byte by byte:\n%s\nwhole:\n%s", t,
                  whole);
    free(t);
    for (size_t k = 0; k <= n; k++) {
        t = run(b, body, n, &k, 1, lim);
        if (strcmp(t, whole) != 0)
            ck_abort_msg("cut at %zu:\n%s\nwhole:\n%s", k, t, whole);
        free(t);
    }
    rng_state = n;
    for (int r = 0; r < 60; r++) {
        size_t m = 1 + rng() % 8;
        for (size_t i = 0; i < m; i++)
            cuts[i] = n ? rng() % (n + 1) : 0;
        qsort(cuts, m, sizeof(size_t), cmp_size);
        t = run(b, body, n, cuts, m, lim);
        if (strcmp(t, whole) != 0)
            ck_abort_msg("random cuts:\n%s\nwhole:\n%s", t, whole);
        free(t);
    }
    free(cuts);
    return whole;
}

static char *parse(const char *b, const char *body)
{
    return parse_lim(b, body, strlen(body), &roomy);
}

#define EXPECT(b, body, want) do {                                          \
        char *got_ = parse((b), (body));                                    \
        ck_assert_msg(strcmp(got_, (want)) == 0, "got:  %s\nwant: %s",      \
                      got_, (want));                                        \
        free(got_);                                                         \
    } while (0)

#define EXPECT_LIM(b, body, lim, want) do {                                 \
        char *got_ = parse_lim((b), (body), strlen(body), (lim));           \
        ck_assert_msg(strcmp(got_, (want)) == 0, "got:  %s\nwant: %s",      \
                      got_, (want));                                        \
        free(got_);                                                         \
    } while (0)

/* An error transcript: what came before, then the error. */
#define ERR(code) "!" #code ":"

/* ---- the request's Content-Type ------------------------------------------ */

static void expect_boundary(const char *ct, const char *want)
{
    const char *b = NULL, *reason = NULL;
    size_t n = strlen(ct), blen = 0;
    char *copy = malloc(n ? n : 1);
    memcpy(copy, ct, n);
    int rc = sl_mp_boundary(copy, n, &b, &blen, &reason);
    if (want == NULL) {
        ck_assert_msg(rc == -EINVAL, "'%s' accepted", ct);
        ck_assert_ptr_nonnull(reason);
    } else {
        ck_assert_msg(rc == 0, "'%s': %s", ct, reason);
        ck_assert_uint_eq(blen, strlen(want));
        ck_assert_int_eq(memcmp(b, want, blen), 0);
        ck_assert(b >= copy && b + blen <= copy + n);
    }
    free(copy);
}

START_TEST(test_boundary)
{
    const char *b, *reason;
    size_t blen;

    expect_boundary("multipart/form-data; boundary=abc", "abc");
    expect_boundary("multipart/form-data;boundary=abc", "abc");
    expect_boundary("Multipart/Form-Data; BOUNDARY=x", "x");
    expect_boundary("multipart/form-data; boundary=\"a b:c\"", "a b:c");
    expect_boundary("multipart/form-data; charset=utf-8; boundary=x;", "x");
    expect_boundary("  multipart/form-data ; boundary = x ; a=\"b;c\"", "x");
    expect_boundary("multipart/form-data; boundary=----WebKitFormBoundaryhRb",
                    "----WebKitFormBoundaryhRb");
    expect_boundary("multipart/form-data; boundary=\"===============52==\"",
                    "===============52==");
    expect_boundary("multipart/form-data; boundary=\"'()+_,-./:=?\"",
                    "'()+_,-./:=?");
    /* 70 characters: the most RFC 2046 allows. */
    expect_boundary("multipart/form-data; boundary="
                    "0123456789012345678901234567890123456789"
                    "012345678901234567890123456789",
                    "0123456789012345678901234567890123456789"
                    "012345678901234567890123456789");

    expect_boundary("multipart/form-data; boundary="
                    "0123456789012345678901234567890123456789"
                    "0123456789012345678901234567890", NULL);
    expect_boundary("multipart/form-data", NULL);
    expect_boundary("multipart/form-data;", NULL);
    expect_boundary("multipart/form-data; boundary=", NULL);
    expect_boundary("multipart/form-data; boundary=\"\"", NULL);
    expect_boundary("multipart/mixed; boundary=x", NULL);
    expect_boundary("multipart/form-datax; boundary=x", NULL);
    expect_boundary("text/plain", NULL);
    expect_boundary("", NULL);
    expect_boundary("multipart/form-data boundary=x", NULL);
    expect_boundary("multipart/form-data; =x", NULL);
    expect_boundary("multipart/form-data; boundary", NULL);
    expect_boundary("multipart/form-data; boundary=x; boundary=y", NULL);
    expect_boundary("multipart/form-data; boundary=\"x", NULL);
    expect_boundary("multipart/form-data; boundary=a b", NULL);
    expect_boundary("multipart/form-data; boundary=\"a \"", NULL);
    expect_boundary("multipart/form-data; boundary=a@b", NULL);
    expect_boundary("multipart/form-data; boundary=\"a\\\"b\"", NULL);
    expect_boundary("multipart/form-data; boundary=a\"b", NULL);
    expect_boundary("multipart/form-data; boundary=\"a\"b", NULL);
    expect_boundary("multipart/form-data; boundary=\"a\x01\"", NULL);
    ck_assert_int_eq(sl_mp_boundary(NULL, 0, &b, &blen, &reason), -EINVAL);
}
END_TEST

START_TEST(test_init)
{
    sl_mp_parser p;
    sl_mp_limits l = roomy;

    ck_assert_int_eq(sl_mp_init(&p, "", 0, &l), -EINVAL);
    ck_assert_int_eq(sl_mp_init(&p, "a\r", 2, &l), -EINVAL);
    ck_assert_int_eq(sl_mp_init(&p, NULL, 1, &l), -EINVAL);
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, NULL), -EINVAL);
    l.max_parts = 0;
    ck_assert_int_eq(sl_mp_init(&p, "ab", 2, &l), -EINVAL);
    l = roomy;
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

/* tests/unit/multipart/NAME.form: the Content-Type, LF, the body. */
static char *fixture(const char *name, char **ctype, size_t *n)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/multipart/%s.form",
             top ? top : ".", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    ck_assert(fread(buf, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    buf[len] = '\0';
    char *lf = memchr(buf, '\n', (size_t)len);
    ck_assert_ptr_nonnull(lf);
    *lf = '\0';
    *ctype = buf;
    *n = (size_t)len - (size_t)(lf + 1 - buf);
    return lf + 1;
}

/* The transcript of a fixture, its boundary from its Content-Type. */
static char *parse_fixture(const char *name)
{
    char *ct, *bnd;
    size_t n, blen;
    const char *b, *reason;
    char *body = fixture(name, &ct, &n);

    ck_assert_msg(sl_mp_boundary(ct, strlen(ct), &b, &blen, &reason) == 0,
                  "%s: %s", name, reason);
    bnd = strndup(b, blen);
    char *t = parse_lim(bnd, body, n, &roomy);
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
    tbuf t = { NULL, 0, 0 };
    const char *mid = "\r\n--\r\n--not-the-boundary\r\n\r\n-\r";

    for (int i = 0; i < 256; i++)
        blob[n++] = (unsigned char)i;
    memcpy(blob + n, mid, strlen(mid));
    n += strlen(mid);
    for (int i = 255; i >= 0; i--)
        blob[n++] = (unsigned char)i;
    put_esc(&t, (const char *)blob, n);
    return t.p;
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

#define CD(name) "Content-Disposition: form-data; name=\"" name "\"\r\n"

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

START_TEST(test_headers)
{
    /* Names in any case, white space around values, unknown headers. */
    EXPECT("b", "--b\r\ncontent-DISPOSITION:form-data;name=a\r\n"
           "X-Other: 1\r\nContent-Type:   text/plain  \r\n"
           "Content-Transfer-Encoding: base64\r\n\r\nv\r\n--b--",
           "[a]<text/plain>v$#");
    /* Parameters: any case, any order, unknown ones, empty ones. */
    EXPECT("b", "--b\r\nContent-Disposition: FORM-DATA; x=1; FILENAME=\"f\";"
           " ;NAME=\"n\"; name*=x;\r\n\r\n\r\n--b--", "[n]{f}$#");
    /* An empty name; an unquoted value. */
    EXPECT("b", "--b\r\n" CD("") "\r\nv\r\n--b--", "[]v$#");
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a b ; "
           "filename=c.txt\r\n\r\nv\r\n--b--", "[a b]{c.txt}v$#");
    /* Escapes: \" and \\ only, other backslashes stay. */
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=\"q\\\"\\\\\";"
           " filename=\"C:\\dir\\a\\\"b.txt\"\r\n\r\n\r\n--b--",
           "[q\"\\\\]{C:\\\\dir\\\\a\"b.txt}$#");
    /* A ';' and '=' inside quotes; a tab in a value; UTF-8 as it is. */
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=\"a;b=c\";"
           "\tfilename=\"x\ty \xc3\xa9\"\r\n\r\n\r\n--b--",
           "[a;b=c]{x\\x09y \\xc3\\xa9}$#");
    /* An empty file name: a file input left empty. */
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=f; "
           "filename=\"\"\r\n\r\n\r\n--b--", "[f]{}$#");
    /* filename* (RFC 8187) wins over filename, UTF-8 or ISO-8859-1. */
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=f; "
           "filename*=UTF-8''%e2%82%ac%20rates.txt; filename=\"EUR rates.txt\""
           "\r\n\r\n\r\n--b--", "[f]{\\xe2\\x82\\xac rates.txt}$#");
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=f; "
           "filename*=iso-8859-1'en'%A3%20r%E9sum%e9.txt\r\n\r\n\r\n--b--",
           "[f]{\\xc2\\xa3 r\\xc3\\xa9sum\\xc3\\xa9.txt}$#");
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=f; "
           "filename*=\"utf-8''a.txt\"\r\n\r\n\r\n--b--", "[f]{a.txt}$#");
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=f; "
           "filename*=utf-8''\r\n\r\n\r\n--b--", "[f]{}$#");
    /* Header names are tokens: '!' and '#' are fine. */
    EXPECT("b", "--b\r\nX-!#: y\r\n" CD("a") "\r\n\r\n--b--", "[a]$#");
}
END_TEST

#define MAL(text) ERR(1) text

START_TEST(test_malformed)
{
    /* Framing. */
    EXPECT("b", "", MAL("a body that ends before its close delimiter"));
    EXPECT("b", "preamble only\r\n--", MAL("a body that ends before its "
                                           "close delimiter"));
    EXPECT("b", "--b\r\n" CD("a") "\r\nxyz",
           "[a]xyz" MAL("a body that ends before its close delimiter"));
    EXPECT("b", "--b\r\n" CD("a") "\r\nxyz\r\n--b",
           "[a]xyz" MAL("a body that ends before its close delimiter"));
    EXPECT("b", "--b\r\n" CD("a"),
           MAL("a body that ends before its close delimiter"));
    /* Header lines. */
    EXPECT("b", "--b\r\n\r\nv\r\n--b--", MAL("a part without "
                                             "Content-Disposition"));
    EXPECT("b", "--b\r\nX: 1\r\n\r\n\r\n--b--",
           MAL("a part without Content-Disposition"));
    EXPECT("b", "--b\r\n" CD("a") "\n\r\n--b--",
           MAL("a LF without CR in part headers"));
    EXPECT("b", "--b\r\nX: 1\n" CD("a") "\r\n--b--",
           MAL("a LF without CR in part headers"));
    EXPECT("b", "--b\r\nX: 1\rY\r\n",
           MAL("a CR without LF in part headers"));
    EXPECT("b", "--b\r\n" CD("a") "\r\r\n",
           MAL("a CR without LF in part headers"));
    EXPECT("b", "--b\r\n" CD("a") " x\r\n\r\n\r\n--b--",
           MAL("a folded part header line"));
    EXPECT("b", "--b\r\n\tx: y\r\n",
           MAL("a folded part header line"));
    EXPECT("b", "--b\r\nX: a\x01z\r\n",
           MAL("a control character in part headers"));
    EXPECT("b", "--b\r\nX: a\x7fz\r\n",
           MAL("a control character in part headers"));
    {
        static const char nul[] = "--b\r\nX: a\0z\r\n" CD("a") "\r\n\r\n--b--";
        char *t = parse_lim("b", nul, sizeof(nul) - 1, &roomy);
        ck_assert_str_eq(t, MAL("a control character in part headers"));
        free(t);
    }
    EXPECT("b", "--b\r\n: y\r\n", MAL("a part header with an empty name"));
    EXPECT("b", "--b\r\nContent Disposition: y\r\n",
           MAL("a part header name with a character not allowed"));
    EXPECT("b", "--b\r\nX\xc3\xa9: y\r\n",
           MAL("a part header name with a character not allowed"));
    EXPECT("b", "--b\r\nno colon here\r\n",
           MAL("a part header name with a character not allowed"));
    EXPECT("b", "--b\r\nnocolon\r\n", MAL("a part header line without ':'"));
    /* Which headers. */
    EXPECT("b", "--b\r\n" CD("a") CD("b") "\r\n\r\n--b--",
           MAL("a part with two Content-Disposition headers"));
    EXPECT("b", "--b\r\n" CD("a") "Content-Type: a\r\ncontent-type: b\r\n"
           "\r\n\r\n--b--", MAL("a part with two Content-Type headers"));
    /* Content-Disposition. */
    EXPECT("b", "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n",
           MAL("Content-Disposition is not form-data"));
    EXPECT("b", "--b\r\nContent-Disposition: \r\n\r\n",
           MAL("Content-Disposition is not form-data"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data\r\n\r\n",
           MAL("a part without a name"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n",
           MAL("a part without a name"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; Name=b\r\n\r\n",
           MAL("a Content-Disposition parameter given twice"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; filename=b; "
           "filename=c\r\n\r\n", MAL("a Content-Disposition parameter given "
                                     "twice"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n",
           MAL("a quoted parameter value without its closing quote"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=\"a\\\"\r\n\r\n",
           MAL("a quoted parameter value without its closing quote"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a\"b\r\n\r\n",
           MAL("a quote inside an unquoted parameter value"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=\"a\"b\r\n\r\n",
           MAL("junk where a ';' should be"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data name=a\r\n\r\n",
           MAL("junk where a ';' should be"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name\r\n\r\n",
           MAL("a parameter without '='"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; =a\r\n\r\n",
           MAL("a parameter without a name"));
    /* filename*. */
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=a.txt\r\n\r\n",
           MAL("filename* without charset'language'"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8'a.txt\r\n\r\n",
           MAL("filename* without charset'language'"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=koi8-r''a.txt\r\n\r\n",
           MAL("filename* in a charset other than UTF-8 or ISO-8859-1"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''a%2.txt\r\n\r\n",
           MAL("a malformed escape in filename*"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''a%\r\n\r\n",
           MAL("a malformed escape in filename*"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''a b\r\n\r\n",
           MAL("a character filename* does not allow"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''%ff\r\n\r\n",
           MAL("filename* is not valid UTF-8"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''%c3\r\n\r\n",
           MAL("filename* is not valid UTF-8"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''a%0Ab\r\n\r\n",
           MAL("a control character in filename*"));
    EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a; "
           "filename*=utf-8''a%00b\r\n\r\n",
           MAL("a control character in filename*"));
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
    char *full = parse("bnd", body);

    ck_assert_str_eq(full, "[a]<x/y>val\\x0d\\x0aue$[f]{\\xc3\\xa9}$#");
    for (size_t k = 0; k < n; k++) {
        char *t = parse_lim("bnd", body, k, &roomy);
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
    sl_mp_limits l = roomy;
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
    sl_mp_limits l = roomy;
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
    sl_mp_limits l = roomy;
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
    sl_mp_limits l = roomy;
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
    ck_assert_int_eq(sl_mp_init(&p, "XyZ", 3, &roomy), 0);
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

/* ---- file names ------------------------------------------------------------ */

static void expect_name(const char *in, size_t inlen, size_t cap,
                        const char *want)
{
    char *dst = malloc(cap);
    size_t n = sl_filename_sanitise(dst, cap, in, inlen);
    ck_assert_msg(n == strlen(want) && strcmp(dst, want) == 0,
                  "'%s' (cap %zu): got '%s' (%zu), want '%s'", in, cap, dst, n,
                  want);
    ck_assert(n < cap && dst[n] == '\0');
    ck_assert(sl_utf8_valid(dst, n));
    ck_assert(memchr(dst, '/', n) == NULL && memchr(dst, '\\', n) == NULL);
    ck_assert(n == 0 || (dst[0] != '.' && dst[0] != ' '));
    for (size_t i = 0; i < n; i++)
        ck_assert((unsigned char)dst[i] >= 0x20 && dst[i] != 0x7f);
    free(dst);
}

#define NAME(in, want) expect_name((in), strlen(in), SL_FILENAME_MAX + 1, (want))

START_TEST(test_sanitise)
{
    char in[1024], want[512];

    NAME("report.pdf", "report.pdf");
    NAME("na\xc3\xafve r\xc3\xa9sum\xc3\xa9.pdf", "na\xc3\xafve r\xc3\xa9sum\xc3\xa9.pdf");
    NAME("../../etc/passwd", "passwd");
    NAME("C:\\Users\\me\\hi.txt", "hi.txt");
    NAME("\\\\server\\share\\x.doc", "x.doc");
    NAME("dir/", "");
    NAME("/", "");
    NAME("", "");
    NAME(".", "");
    NAME("..", "");
    NAME("...", "");
    NAME(".hidden", "hidden");
    NAME(" . .x", "x");
    NAME("a.txt. . ", "a.txt");
    NAME("a b  c", "a b  c");
    NAME("we\"ird:*?<>|.txt", "we\"ird:*?<>|.txt");
    NAME("a\x01" "b\x7f" "c\t.txt", "abc.txt");
    NAME("\x01.profile", "profile");
    NAME("a\xc2\x85" "b", "ab");                           /* NEL, C1 */
    NAME("evil\xe2\x80\xaetxt.exe", "eviltxt.exe");        /* RLO */
    NAME("x\xe2\x81\xa6y\xe2\x81\xa9", "xy");              /* isolates */
    NAME("\xff\xfe" "ab", "__ab");
    NAME("\xc0\xaf" "x", "__x");                           /* overlong '/' */
    NAME("\xed\xa0\x80", "___");                           /* surrogate */
    NAME("\xf4\x90\x80\x80", "____");                      /* > U+10FFFF */
    NAME("caf\xc3", "caf_");                               /* cut short */
    NAME("\xf0\x9f\x98\x80.png", "\xf0\x9f\x98\x80.png");
    expect_name("a\0b", 3, 16, "ab");
    expect_name("a/b\0/c", 6, 16, "c");

    /* Length: the extension is kept, the stem cut. */
    memset(in, 'a', 300);
    strcpy(in + 300, ".pdf");
    memset(want, 'a', 251);
    strcpy(want + 251, ".pdf");
    NAME(in, want);
    /* ... at a character boundary: 300 two-byte characters. */
    for (int i = 0; i < 300; i++)
        memcpy(in + 2 * i, "\xc3\xa9", 2);
    in[600] = '\0';
    memcpy(want, in, 254);
    want[254] = '\0';
    NAME(in, want);
    /* An extension over 16 bytes is not one: plain cut. */
    memset(in, 'a', 300);
    in[300] = '.';
    memset(in + 301, 'b', 20);
    in[321] = '\0';
    memset(want, 'a', 255);
    want[255] = '\0';
    NAME(in, want);
    /* The cut stem loses its trailing dots and spaces. */
    expect_name("ab   cdefgh.txt", 15, 9, "ab.txt");
    expect_name("abcdefgh.txt", 12, 9, "abcd.txt");
    expect_name("abcdefgh.txt", 12, 8, "abcdefg");   /* ext > half */
    expect_name("abcdef", 6, 1, "");
    expect_name("abcdef", 6, 2, "a");
    expect_name("\xc3\xa9\xc3\xa9", 4, 4, "\xc3\xa9");
    /* Not one character of the stem fits: no extension then. */
    expect_name("\xf0\x9f\x98\x80\xf0\x9f\x98\x80.a", 10, 5,
                "\xf0\x9f\x98\x80");
    ck_assert_uint_eq(sl_filename_sanitise(NULL, 0, "x", 1), 0);
}
END_TEST

/* The parser's file names through the sanitiser, as an application does. */
START_TEST(test_sanitise_parsed)
{
    char out[SL_FILENAME_MAX + 1];
    char *ct, *bnd;
    size_t n, blen;
    const char *b, *reason;
    char *body = fixture("chromium-fetch", &ct, &n);
    sl_mp_parser p;
    sl_mp_event ev;
    int files = 0;

    ck_assert_int_eq(sl_mp_boundary(ct, strlen(ct), &b, &blen, &reason), 0);
    bnd = strndup(b, blen);
    ck_assert_int_eq(sl_mp_init(&p, bnd, blen, &roomy), 0);
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
    tcase_add_test(tc, test_boundary);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_rfc7578);
    tcase_add_test(tc, test_rfc2046);
    tcase_add_test(tc, test_fixtures);
    tcase_add_test(tc, test_near_misses);
    tcase_add_test(tc, test_preamble_epilogue);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_limit_parts);
    tcase_add_test(tc, test_limit_headers);
    tcase_add_test(tc, test_limit_total);
    tcase_add_test(tc, test_limit_part_size);
    tcase_add_test(tc, test_large_content);
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("filename");
    tcase_add_test(tn, test_sanitise);
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
