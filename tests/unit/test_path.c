/* test_path.c: unit tests for the request path normaliser
 * (src/proto/path.c). */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/path.h"

/*
 * Normalise src[0..len) with buffers of exactly the documented size, on
 * the heap (so ASan sees a byte too far), and the input in an exact-size
 * block too.  Returns the rc; *out is a malloc'd NUL-terminated copy of
 * the path (or NULL on error), enc/nenc the offsets.
 */
struct result {
    int rc;
    char *path;
    size_t len;
    uint32_t enc[64];
    size_t nenc;
    const char *error;
};

static struct result norm_mode(const char *src, size_t len, int decoded)
{
    struct result r;
    memset(&r, 0, sizeof r);
    char *in = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(in);
    memcpy(in, src, len);
    size_t cap = len + 2, ecap = sl_path_max_enc(in, len);
    char *buf = malloc(cap);
    uint32_t *enc = ecap ? malloc(ecap * sizeof *enc) : NULL;
    ck_assert_ptr_nonnull(buf);
    sl_path p = { .decoded = decoded, .buf = buf, .cap = cap, .enc = enc, .enc_cap = ecap };
    r.rc = sl_path_normalise(&p, in, len);
    r.error = p.error;
    if (r.rc == 0) {
        ck_assert_uint_lt(p.len, cap);
        ck_assert_int_eq(buf[p.len], '\0');
        ck_assert_uint_eq(strlen(buf), p.len);
        r.path = strdup(buf);
        r.len = p.len;
        ck_assert_uint_le(p.nenc, ecap);
        for (size_t i = 0; i < p.nenc && i < 64; i++) {
            r.enc[i] = enc[i];
            ck_assert_uint_lt(enc[i], p.len);
            ck_assert_int_eq(buf[enc[i]], '/');
            if (i > 0)
                ck_assert_uint_lt(enc[i - 1], enc[i]);
        }
        r.nenc = p.nenc;
    } else {
        ck_assert_uint_eq(p.len, 0);
        ck_assert_uint_eq(p.nenc, 0);
    }
    free(in);
    free(buf);
    free(enc);
    return r;
}

static struct result norm_n(const char *src, size_t len)
{
    return norm_mode(src, len, 0);
}

static struct result norm(const char *src)
{
    return norm_n(src, strlen(src));
}

static void ok(const char *src, const char *want)
{
    struct result r = norm(src);
    ck_assert_msg(r.rc == 0, "'%s': rc %d (%s)", src, r.rc, r.error ? r.error : "");
    ck_assert_msg(strcmp(r.path, want) == 0, "'%s' -> '%s', want '%s'", src, r.path, want);
    free(r.path);
}

static void bad(const char *src, const char *why)
{
    struct result r = norm(src);
    ck_assert_msg(r.rc == -EINVAL, "'%s': rc %d, path '%s'", src, r.rc,
                  r.path ? r.path : "");
    ck_assert_str_eq(r.error, why);
}

/* The path and its encoded-slash offsets, given as a string of ^ marks. */
static void enc_ok(const char *src, const char *want, const char *marks)
{
    struct result r = norm(src);
    ck_assert_msg(r.rc == 0, "'%s': rc %d", src, r.rc);
    ck_assert_msg(strcmp(r.path, want) == 0, "'%s' -> '%s', want '%s'", src, r.path, want);
    size_t k = 0;
    for (size_t i = 0; marks[i] != '\0'; i++) {
        if (marks[i] != '^')
            continue;
        ck_assert_msg(k < r.nenc && r.enc[k] == i, "'%s': no encoded slash at %zu", src, i);
        k++;
    }
    ck_assert_msg(k == r.nenc, "'%s': %zu encoded slashes, want %zu", src, r.nenc, k);
    free(r.path);
}

/* ---- RFC 3986 ---------------------------------------------------------- */

/* The examples of 5.2.4, and the merged paths of 5.4's examples (base
 * "http://a/b/c/d;p?q", so a reference "g" is the path "/b/c/g"). */
START_TEST(test_rfc3986)
{
    ok("/a/b/c/./../../g", "/a/g");
    ok("/mid/content=5/../6", "/mid/6");
    /* 5.4.1 normal examples */
    ok("/b/c/g", "/b/c/g");
    ok("/b/c/./g", "/b/c/g");
    ok("/b/c/g/", "/b/c/g/");
    ok("/g", "/g");
    ok("/b/c/d;p", "/b/c/d;p");
    ok("/b/c/.", "/b/c/");
    ok("/b/c/./", "/b/c/");
    ok("/b/c/..", "/b/");
    ok("/b/c/../", "/b/");
    ok("/b/c/../g", "/b/g");
    ok("/b/c/../..", "/");
    ok("/b/c/../../", "/");
    ok("/b/c/../../g", "/g");
    /* 5.4.2 abnormal examples (those that do not climb) */
    ok("/./g", "/g");
    ok("/b/c/g.", "/b/c/g.");
    ok("/b/c/.g", "/b/c/.g");
    ok("/b/c/g..", "/b/c/g..");
    ok("/b/c/..g", "/b/c/..g");
    ok("/b/c/./../g", "/b/g");
    ok("/b/c/./g/.", "/b/c/g/");
    ok("/b/c/g/./h", "/b/c/g/h");
    ok("/b/c/g/../h", "/b/c/h");
    ok("/b/c/g;x=1/./y", "/b/c/g;x=1/y");
    ok("/b/c/g;x=1/../y", "/b/c/y");
    /* The target whole, in absolute form. */
    ok("http://a/b/c/d;p?q", "/b/c/d;p");
}
END_TEST

/* RFC 3986 drops a ".." above the root ("/../g" is "/g"); nginx refuses
 * it with 400, and so does this. */
START_TEST(test_climb)
{
    static const char *climbs[] = {
        "/..", "/../", "/../g", "/b/c/../../../g", "/a/../..", "/./..",
        "/./../x", "//..", "//..//", "/a//../..", "/%2e%2e", "/%2E%2E/x",
        "/.%2e", "/a/%2e%2e/..", "/a%2F..%2F..%2Fb", "/x/..%2F..%2Fadmin/y",
        "/a/b/c/../../../..", "http://h/..", "http://h/a/../../b",
    };
    for (size_t i = 0; i < sizeof climbs / sizeof climbs[0]; i++)
        bad(climbs[i], SL_PATH_ECLIMB);
    /* Down to the root, not above it. */
    ok("/a/..", "/");
    ok("/a/b/c/../../..", "/");
    ok("/a/../b/..", "/");
    ok("/a//..", "/");
}
END_TEST

/* ---- decoding ---------------------------------------------------------- */

START_TEST(test_decode)
{
    ok("/hello", "/hello");
    ok("/", "/");
    ok("/a%20b", "/a b");
    ok("/caf%C3%A9", "/caf\xc3\xa9");
    ok("/a+b", "/a+b");                 /* '+' is a plus in a path */
    ok("/a/%3Fb", "/a/?b");             /* an encoded '?' is data */
    ok("/a/%23b", "/a/#b");
    ok("/a/%252F", "/a/%2F");           /* decoded once */
    ok("/a%5C..%5Cb", "/a\\..\\b");     /* a backslash is data */
    ok("/a/%0a", "/a/\n");
    /* The query and the fragment are not the path, whatever they hold. */
    ok("/a?b/../c", "/a");
    ok("/a?%zz%00", "/a");
    ok("/public#/../admin/x", "/public");
    ok("/a/b#x/../c", "/a/b");
    ok("/a?x#y", "/a");
}
END_TEST

START_TEST(test_malformed)
{
    static const char *bads[] = {
        "/%", "/%4", "/%zz", "/%4g", "/%g4", "/a%2", "/a%2?x", "/a%?b",
        "/a%#", "/%%41", "/a/%2F%2", "http://h/%",
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        bad(bads[i], SL_PATH_EESCAPE);
}
END_TEST

START_TEST(test_nul)
{
    bad("/a%00b", SL_PATH_ENUL);
    bad("/%00", SL_PATH_ENUL);
    bad("/a/%00/..", SL_PATH_ENUL);
    /* A raw NUL inside the given length, too. */
    struct result r = norm_n("/a\0b", 4);
    ck_assert_int_eq(r.rc, -EINVAL);
    ck_assert_str_eq(r.error, SL_PATH_ENUL);
}
END_TEST

/* Encoded dots are dots after decoding, as nginx has them. */
START_TEST(test_encoded_dots)
{
    ok("/a/%2e%2e/b", "/b");
    ok("/a/%2E%2E/b", "/b");
    ok("/a/%2e./b", "/b");
    ok("/a/.%2E/b", "/b");
    ok("/a/%2e/b", "/a/b");
    ok("/a/%2e", "/a/");
    ok("/a/b/%2e%2E", "/a/");
    ok("/a/.%2e", "/");
    ok("/%2e", "/");
    ok("/admin/%2e%2e/x", "/x");
    ok("/a/%2e%2e%2fb", "/b");
    ok("/a/b/.%2E%2f../c", "/c");
    ok("/a/%2e%2e%2e", "/a/...");      /* three dots are a name */
    ok("/a/...", "/a/...");
    ok("/..a/b", "/..a/b");
    ok("/a/..b/", "/a/..b/");
}
END_TEST

/* ---- slashes ----------------------------------------------------------- */

START_TEST(test_merge)
{
    ok("//", "/");
    ok("//a///b//", "/a/b/");
    ok("//admin/x", "/admin/x");
    ok("/a/b//../c", "/a/c");           /* merged first, as nginx does */
    ok("/a/.//b", "/a/b");
    ok("/a/b/..//c", "/a/c");
    ok("/a/./", "/a/");
    ok("/a/././", "/a/");
    ok("/public/../admin/x", "/admin/x");
    ok("/admin/..", "/");
    ok("/admin/..%2Fpublic", "/public");
}
END_TEST

START_TEST(test_encoded_slash)
{
    /* A %2F separates like '/' for dot segments and merging ... */
    enc_ok("/u/a%2Fb", "/u/a/b", "    ^");
    enc_ok("/u/a%2fb", "/u/a/b", "    ^");
    enc_ok("/a%2F%2Fb", "/a/b", "  ^");
    enc_ok("/a%2F", "/a/", "  ^");
    enc_ok("/a%2F.", "/a/", "  ^");
    enc_ok("/f/a%2Fb%2Fc", "/f/a/b/c", "    ^ ^");
    enc_ok("/x%2Fa%2F..%2Fb", "/x/b", "  ^");
    /* ... and where slashes collapse, a real one among them wins. */
    enc_ok("/a/%2Fb", "/a/b", "");
    enc_ok("/a%2F/b", "/a/b", "");
    enc_ok("/a/.%2Fb", "/a/b", "");
    enc_ok("/a%2F./b", "/a/b", "");
    enc_ok("/x/a%2F..%2Fb", "/x/b", "");
    enc_ok("/x%2Fa/..%2Fb", "/x/b", "");
    enc_ok("/%2F", "/", "");
    enc_ok("/%2Fa", "/a", "");
    enc_ok("/a/b%2F..", "/a/", "");
    /* ".." after an encoded slash removes what follows that slash only. */
    enc_ok("/a/b%2Fc/..", "/a/b/", "");
    enc_ok("/a/b%2Fc/../d%2Fe", "/a/b/d/e", "      ^");
    enc_ok("/a/b%2Fc%2Fd/../../..", "/a/", "");
    /* A removed segment takes its encoded slash with it. */
    enc_ok("/k/a%2Fb%2F..%2Fc", "/k/a/c", "    ^");
    /* Double-encoded is not a slash at all. */
    enc_ok("/a%252Fb", "/a%2Fb", "");

    ck_assert_uint_eq(sl_path_max_enc("/a%2F%2fb%2x%2G?%2F", 19), 3);
    ck_assert_uint_eq(sl_path_max_enc("/a#%2F", 6), 1);    /* a bound */
    ck_assert_uint_eq(sl_path_max_enc("%2", 2), 0);
}
END_TEST

/* ---- forms of the target ----------------------------------------------- */

START_TEST(test_absolute_form)
{
    ok("http://h/abs/../x?y", "/x");
    ok("http://h", "/");
    ok("http://h?x=1", "/");
    ok("http://h#f", "/");
    ok("HTTPS://h:8080/p", "/p");
    ok("h2c+x.y-z://user@h/p//q", "/p/q");
    ok("http://h//admin/x", "/admin/x");
    ok("http://h/u/a%2Fb", "/u/a/b");
    bad("http:/p", SL_PATH_ERELATIVE);
    bad("http:p", SL_PATH_ERELATIVE);
    bad("1http://h/p", SL_PATH_ERELATIVE);
    bad("://h/p", SL_PATH_ERELATIVE);
    bad("*", SL_PATH_ERELATIVE);
    bad("", SL_PATH_ERELATIVE);
    bad("a", SL_PATH_ERELATIVE);
    bad("?x", SL_PATH_ERELATIVE);
    bad("%2Fadmin", SL_PATH_ERELATIVE);     /* not a real '/' */
}
END_TEST

/* ---- a path decoded already (DOCUMENT_URI, PATH_INFO) ------------------- */

static void dec_ok(const char *src, const char *want)
{
    struct result r = norm_mode(src, strlen(src), 1);
    ck_assert_msg(r.rc == 0, "'%s': rc %d (%s)", src, r.rc, r.error ? r.error : "");
    ck_assert_msg(strcmp(r.path, want) == 0, "'%s' -> '%s', want '%s'", src, r.path, want);
    ck_assert_uint_eq(r.nenc, 0);
    free(r.path);
}

static void dec_bad(const char *src, const char *why)
{
    struct result r = norm_mode(src, strlen(src), 1);
    ck_assert_msg(r.rc == -EINVAL, "'%s': rc %d", src, r.rc);
    ck_assert_str_eq(r.error, why);
}

/* Never decoded twice: "%2e%2e" in a decoded path is a name, not "..". */
START_TEST(test_decoded)
{
    dec_ok("/public/../admin/x", "/admin/x");
    dec_ok("//a//b/./", "/a/b/");
    dec_ok("/public/%2e%2e/admin/x", "/public/%2e%2e/admin/x");
    dec_ok("/files/100%", "/files/100%");
    dec_ok("/a%2Fb", "/a%2Fb");
    dec_ok("/a%zz", "/a%zz");
    dec_ok("/a?b/../c", "/c");          /* '?' and '#' are data */
    dec_ok("/a#x/..", "/");
    dec_ok("/app/x/../y", "/app/y");
    dec_bad("/..", SL_PATH_ECLIMB);
    dec_bad("/a/../..", SL_PATH_ECLIMB);
    dec_bad("http://h/x", SL_PATH_ERELATIVE);
    dec_bad("", SL_PATH_ERELATIVE);
    struct result r = norm_mode("/a\0b", 4, 1);
    ck_assert_int_eq(r.rc, -EINVAL);
    ck_assert_str_eq(r.error, SL_PATH_ENUL);
}
END_TEST

/* ---- sizes ------------------------------------------------------------- */

START_TEST(test_long)
{
    enum { N = 1 << 20 };
    char *s = malloc(N + 1);
    ck_assert_ptr_nonnull(s);

    /* A megabyte of "/a": unchanged. */
    for (size_t i = 0; i < N; i += 2)
        memcpy(s + i, "/a", 2);
    struct result r = norm_n(s, N);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_uint_eq(r.len, N);
    free(r.path);

    /* "/x/.." a hundred thousand times and more: linear, ends at the root. */
    size_t n = 0;
    while (n + 5 <= N) {
        memcpy(s + n, "/x/..", 5);
        n += 5;
    }
    r = norm_n(s, n);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.path, "/");
    free(r.path);

    /* Deep, then as many ".." back: the root; one more climbs. */
    n = 0;
    for (int i = 0; i < 100000; i++, n += 2)
        memcpy(s + n, "/d", 2);
    for (int i = 0; i < 100000; i++, n += 3)
        memcpy(s + n, "/..", 3);
    r = norm_n(s, n);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.path, "/");
    free(r.path);
    memcpy(s + n, "/..", 3);
    r = norm_n(s, n + 3);
    ck_assert_int_eq(r.rc, -EINVAL);
    ck_assert_str_eq(r.error, SL_PATH_ECLIMB);

    /* One long segment, all escapes. */
    n = 0;
    s[n++] = '/';
    while (n + 3 <= N) {
        memcpy(s + n, "%41", 3);
        n += 3;
    }
    r = norm_n(s, n);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_uint_eq(r.len, 1 + (n - 1) / 3);
    free(r.path);
    free(s);
}
END_TEST

START_TEST(test_many_encoded)
{
    enum { K = 20000 };
    size_t len = 2 + 4 * K;
    char *s = malloc(len);
    ck_assert_ptr_nonnull(s);
    memcpy(s, "/a", 2);
    for (int i = 0; i < K; i++)
        memcpy(s + 2 + 4 * i, "%2Fb", 4);
    ck_assert_uint_eq(sl_path_max_enc(s, len), K);
    char *buf = malloc(len + 2);
    uint32_t *enc = malloc(K * sizeof *enc);
    sl_path p = { .buf = buf, .cap = len + 2, .enc = enc, .enc_cap = K };
    ck_assert_int_eq(sl_path_normalise(&p, s, len), 0);
    ck_assert_uint_eq(p.len, 2 + 2 * K);
    ck_assert_uint_eq(p.nenc, K);
    for (int i = 0; i < K; i++)
        ck_assert_uint_eq(p.enc[i], 2 + 2 * i);
    /* Too little room for the offsets, or for the path: -ENOBUFS, never
     * a write past either. */
    p.enc_cap = K - 1;
    ck_assert_int_eq(sl_path_normalise(&p, s, len), -ENOBUFS);
    ck_assert_uint_eq(p.len, 0);
    p.enc_cap = K;
    p.cap = 2 + 2 * K;
    ck_assert_int_eq(sl_path_normalise(&p, s, len), -ENOBUFS);
    p.cap = 1;
    ck_assert_int_eq(sl_path_normalise(&p, s, len), -ENOBUFS);
    free(s);
    free(buf);
    free(enc);
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("path");
    TCase *tc = tcase_create("normalise");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_rfc3986);
    tcase_add_test(tc, test_climb);
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_nul);
    tcase_add_test(tc, test_encoded_dots);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_encoded_slash);
    tcase_add_test(tc, test_absolute_form);
    tcase_add_test(tc, test_decoded);
    tcase_add_test(tc, test_long);
    tcase_add_test(tc, test_many_encoded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(path_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
