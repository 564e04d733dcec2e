/* test_url.c: unit tests for percent-decoding, query strings and form
 * bodies (url.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/url.h"

/* ---- percent-decoding --------------------------------------------------- */

static void expect_decode(const char *in, int plus, const char *want,
                          long wantlen)
{
    char out[256];
    long n = sl_percent_decode(out, in, strlen(in), plus);
    ck_assert_msg(n == wantlen, "'%s': %ld", in, n);
    if (n >= 0)
        ck_assert_int_eq(memcmp(out, want, (size_t)n), 0);
}

START_TEST(test_percent_decode)
{
    expect_decode("", 0, "", 0);
    expect_decode("abc", 0, "abc", 3);
    expect_decode("a%20b", 0, "a b", 3);
    expect_decode("%2f%2F", 0, "//", 2);
    expect_decode("%41%6a%6A", 0, "Ajj", 3);
    expect_decode("%00x", 0, "\0x", 2);
    expect_decode("%ff", 0, "\xff", 1);
    expect_decode("a+b", 0, "a+b", 3);
    expect_decode("a+b", 1, "a b", 3);
    expect_decode("%2B", 1, "+", 1);
    expect_decode("%25", 0, "%", 1);
    expect_decode("%2541", 0, "%41", 3);   /* decoded once only */

    expect_decode("%", 0, NULL, -EINVAL);
    expect_decode("%4", 0, NULL, -EINVAL);
    expect_decode("a%", 0, NULL, -EINVAL);
    expect_decode("%zz", 0, NULL, -EINVAL);
    expect_decode("%g0", 0, NULL, -EINVAL);
    expect_decode("%0g", 0, NULL, -EINVAL);
    expect_decode("% 1", 0, NULL, -EINVAL);
    expect_decode("%-1", 0, NULL, -EINVAL);
}
END_TEST

START_TEST(test_percent_decode_inplace)
{
    char buf[] = "%2Fa%20b+c%41";
    long n = sl_percent_decode(buf, buf, strlen(buf), 1);
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(memcmp(buf, "/a b cA", 7), 0);

    /* Exact-size heap source: no read past len. */
    char *src = malloc(3);
    memcpy(src, "a%4", 3);
    char out[3];
    ck_assert_int_eq(sl_percent_decode(out, src, 3, 0), -EINVAL);
    memcpy(src, "%41", 3);
    ck_assert_int_eq(sl_percent_decode(src, src, 3, 0), 1);
    ck_assert_int_eq(src[0], 'A');
    free(src);
}
END_TEST

/* ---- query lookup ------------------------------------------------------- */

static long q(const char *query, const char *name, char *dst, size_t cap)
{
    size_t len = strlen(query);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, query, len);
    long n = sl_query_get(copy, len, name, dst, cap);
    free(copy);
    return n;
}

START_TEST(test_query_basic)
{
    char v[64];

    ck_assert_int_eq(q("a=1&b=two&c=3", "b", v, sizeof(v)), 3);
    ck_assert_str_eq(v, "two");
    ck_assert_int_eq(q("a=1&b=two&c=3", "a", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "1");
    ck_assert_int_eq(q("a=1&b=two&c=3", "c", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "3");
    ck_assert_int_eq(q("a=1&b=two&c=3", "d", v, sizeof(v)), -ENOENT);
    ck_assert_int_eq(q("a=1", "", v, sizeof(v)), -ENOENT);
    ck_assert_int_eq(q("ab=1", "a", v, sizeof(v)), -ENOENT);
    ck_assert_int_eq(q("a=1", "ab", v, sizeof(v)), -ENOENT);
    /* Empty query. */
    ck_assert_int_eq(q("", "a", v, sizeof(v)), -ENOENT);
    ck_assert_int_eq(sl_query_get(NULL, 0, "a", v, sizeof(v)), -ENOENT);
    /* Value containing '='. */
    ck_assert_int_eq(q("a=b=c", "a", v, sizeof(v)), 3);
    ck_assert_str_eq(v, "b=c");
}
END_TEST

START_TEST(test_query_edges)
{
    char v[64];

    /* Repeated names: the first wins. */
    ck_assert_int_eq(q("x=1&x=2", "x", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "1");
    /* No '=' or empty value: empty string. */
    strcpy(v, "junk");
    ck_assert_int_eq(q("flag&x=1", "flag", v, sizeof(v)), 0);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(q("x=&y=1", "x", v, sizeof(v)), 0);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(q("x", "x", v, sizeof(v)), 0);
    /* Empty pairs skipped. */
    ck_assert_int_eq(q("&&x=1&&", "x", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "1");
    /* ';' is not a separator. */
    ck_assert_int_eq(q("a=1;b=2", "b", v, sizeof(v)), -ENOENT);
    ck_assert_int_eq(q("a=1;b=2", "a", v, sizeof(v)), 5);
    ck_assert_str_eq(v, "1;b=2");
    /* Decoding of values: '+' and escapes. */
    ck_assert_int_eq(q("s=hello+world%21", "s", v, sizeof(v)), 12);
    ck_assert_str_eq(v, "hello world!");
    ck_assert_int_eq(q("s=a%26b%3Dc", "s", v, sizeof(v)), 5);
    ck_assert_str_eq(v, "a&b=c");
    /* Encoded names are compared decoded. */
    ck_assert_int_eq(q("my%20name=1", "my name", v, sizeof(v)), 1);
    ck_assert_int_eq(q("my+name=2", "my name", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "2");
    ck_assert_int_eq(q("%61=3", "a", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "3");
    ck_assert_int_eq(q("a%00=3", "a", v, sizeof(v)), -ENOENT);
}
END_TEST

START_TEST(test_query_malformed)
{
    char v[8];

    ck_assert_int_eq(q("a=%zz", "a", v, sizeof(v)), -EINVAL);
    ck_assert_int_eq(q("a=%4", "a", v, sizeof(v)), -EINVAL);
    ck_assert_int_eq(q("a=%", "a", v, sizeof(v)), -EINVAL);
    /* A malformed name matches nothing; other pairs are unaffected. */
    ck_assert_int_eq(q("%zz=1&a=2", "a", v, sizeof(v)), 1);
    ck_assert_str_eq(v, "2");
    ck_assert_int_eq(q("%zz=1", "%zz", v, sizeof(v)), -ENOENT);
    ck_assert_int_eq(q("a=1&b=%zz", "a", v, sizeof(v)), 1);

    /* Capacity includes the NUL. */
    ck_assert_int_eq(q("a=1234567", "a", v, 8), 7);
    ck_assert_str_eq(v, "1234567");
    ck_assert_int_eq(q("a=12345678", "a", v, 8), -ENOBUFS);
    /* Escapes shrink: 7 decoded bytes from longer input fit. */
    ck_assert_int_eq(q("a=%41%41%41%41%41%41%41", "a", v, 8), 7);
    ck_assert_str_eq(v, "AAAAAAA");
    ck_assert_int_eq(q("a=", "a", v, 1), 0);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(q("a=", "a", NULL, 0), -ENOBUFS);
    ck_assert_int_eq(q("a=x", "a", v, 1), -ENOBUFS);
}
END_TEST

/* ---- pairs, and every value of a name ------------------------------------ */

/* The pairs of q as "name=value|..." (raw, still encoded). */
static void expect_pairs(const char *query, const char *want)
{
    size_t len = strlen(query), pos = 0, nl, vl;
    char *copy = malloc(len ? len : 1), out[256] = "";
    const char *n, *v;
    int rc;

    memcpy(copy, query, len);
    while ((rc = sl_query_next(copy, len, &pos, &n, &nl, &v, &vl)) == 1) {
        ck_assert(n >= copy && n + nl <= copy + len);
        ck_assert(v >= copy && v + vl <= copy + len);
        ck_assert_uint_le(pos, len);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%.*s=%.*s|",
                 (int)nl, n, (int)vl, v);
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(pos, len);
    ck_assert_msg(strcmp(out, want) == 0, "'%s': '%s', want '%s'", query, out,
                  want);
    free(copy);
}

START_TEST(test_query_next)
{
    const char *n, *v;
    size_t pos = 0, nl, vl;

    expect_pairs("", "");
    expect_pairs("a=1", "a=1|");
    expect_pairs("a=1&b=two&a=3", "a=1|b=two|a=3|");
    expect_pairs("&&a=1&&b&", "a=1|b=|");
    expect_pairs("=v&k=", "=v|k=|");
    expect_pairs("a=b=c;d=e", "a=b=c;d=e|");
    expect_pairs("x=%zz&y=%41+b", "x=%zz|y=%41+b|");   /* raw: not decoded */
    ck_assert_int_eq(sl_query_next(NULL, 0, &pos, &n, &nl, &v, &vl), 0);
    ck_assert_int_eq(sl_query_next(NULL, 1, &pos, &n, &nl, &v, &vl), -EINVAL);
}
END_TEST

/* Every value of name in query, decoded, as "v1|v2|", with the final rc. */
static void expect_all(const char *query, const char *name, size_t cap,
                       const char *want, long want_rc)
{
    size_t len = strlen(query), pos = 0;
    char *copy = malloc(len ? len : 1), *dst = malloc(cap ? cap : 1);
    char out[256] = "";
    long rc;

    memcpy(copy, query, len);
    while ((rc = sl_query_get_next(copy, len, name, &pos, dst, cap)) >= 0 ||
           rc == -EINVAL) {
        if (rc == -EINVAL) {
            strcat(out, "!|");
            continue;
        }
        ck_assert_uint_eq(strlen(dst), (size_t)rc);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s|", dst);
    }
    ck_assert_int_eq(rc, want_rc);
    ck_assert_msg(strcmp(out, want) == 0, "'%s' %s: '%s', want '%s'", query,
                  name, out, want);
    free(copy);
    free(dst);
}

START_TEST(test_query_all_values)
{
    char v[8];
    size_t pos;

    /* A form body as a browser sends it: '+' is a space. */
    expect_all("tag=a&note=two+words&tag=b%2Bc&tag=&tag", "tag", 64,
               "a|b+c|||", -ENOENT);
    expect_all("tag=a&note=two+words", "note", 64, "two words|", -ENOENT);
    expect_all("a=1", "b", 64, "", -ENOENT);
    expect_all("", "a", 64, "", -ENOENT);
    /* Names are compared decoded. */
    expect_all("my+name=1&my%20name=2&myname=3", "my name", 64, "1|2|",
               -ENOENT);
    /* A malformed value: reported, then skipped; later values still come. */
    expect_all("a=1&a=%zz&a=3", "a", 64, "1|!|3|", -ENOENT);
    /* Too long: -ENOBUFS, and the same pair again with more room. */
    expect_all("a=1&a=12345678&a=3", "a", 8, "1|", -ENOBUFS);
    pos = 0;
    ck_assert_int_eq(sl_query_get_next("a=1&a=12345678", 14, "a", &pos, v, 8), 1);
    ck_assert_int_eq(sl_query_get_next("a=1&a=12345678", 14, "a", &pos, v, 8),
                     -ENOBUFS);
    ck_assert_uint_eq(pos, 4);
    char big[16];
    ck_assert_int_eq(sl_query_get_next("a=1&a=12345678", 14, "a", &pos, big, 16),
                     8);
    ck_assert_str_eq(big, "12345678");
    ck_assert_int_eq(sl_query_get_next("a=1&a=12345678", 14, "a", &pos, big, 16),
                     -ENOENT);
    /* cap 0 and bad arguments. */
    pos = 0;
    ck_assert_int_eq(sl_query_get_next("a=1", 3, "a", &pos, NULL, 0), -ENOBUFS);
    ck_assert_uint_eq(pos, 0);
    ck_assert_int_eq(sl_query_get_next("a=1", 3, NULL, &pos, v, 8), -EINVAL);
    ck_assert_int_eq(sl_query_get_next("a=1", 3, "a", NULL, v, 8), -EINVAL);
    ck_assert_int_eq(sl_query_get_next(NULL, 3, "a", &pos, v, 8), -EINVAL);

    ck_assert_uint_eq(sl_query_count("a=1&b=2&a=3&a&%61=5", 19, "a"), 4);
    ck_assert_uint_eq(sl_query_count("a=1&b=2", 7, "c"), 0);
    ck_assert_uint_eq(sl_query_count("a=1", 3, NULL), 0);
    ck_assert_uint_eq(sl_query_count(NULL, 0, "a"), 0);
}
END_TEST

static Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *td = tcase_create("decode");
    tcase_add_test(td, test_percent_decode);
    tcase_add_test(td, test_percent_decode_inplace);
    tcase_add_test(td, test_query_basic);
    tcase_add_test(td, test_query_edges);
    tcase_add_test(td, test_query_malformed);
    tcase_add_test(td, test_query_next);
    tcase_add_test(td, test_query_all_values);
    suite_add_tcase(s, td);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(url_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
