/*
 * Unit tests of src/api/starlette.c: the request's text as Starlette reads
 * it.  The expected values are Python 3.11's own answers: parse_qsl(
 * qs.decode("latin-1"), keep_blank_values=True), starlette.requests.
 * cookie_parser on the Latin-1 text, bytes.decode("utf-8", "replace"),
 * each encoded back to UTF-8.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "api/starlette.h"

typedef struct pair {
    const char *name, *value;
} pair;

/* kv equals want[0..n) exactly. */
static void same_pairs(const sl_kvlist *kv, const pair *want, size_t n, const char *what)
{
    ck_assert_msg(kv->n == n, "%s: %zu pairs, want %zu", what, kv->n, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(kv->kv[i].nlen == strlen(want[i].name) &&
                      memcmp(kv->kv[i].name, want[i].name, kv->kv[i].nlen) == 0,
                      "%s: name %zu is '%.*s', want '%s'", what, i, (int)kv->kv[i].nlen,
                      kv->kv[i].name, want[i].name);
        ck_assert_msg(kv->kv[i].vlen == strlen(want[i].value) &&
                      memcmp(kv->kv[i].value, want[i].value, kv->kv[i].vlen) == 0,
                      "%s: value %zu is '%.*s', want '%s'", what, i, (int)kv->kv[i].vlen,
                      kv->kv[i].value, want[i].value);
        ck_assert(kv->kv[i].name[kv->kv[i].nlen] == '\0');
        ck_assert(kv->kv[i].value[kv->kv[i].vlen] == '\0');
    }
}

#define QUERY(qs, ...) do { \
        static const pair want[] = { __VA_ARGS__ }; \
        sl_kvlist kv; \
        ck_assert_int_eq(sl_query_pairs(qs, sizeof(qs) - 1, &kv), 0); \
        same_pairs(&kv, want, sizeof want / sizeof *want, qs); \
        sl_kvlist_free(&kv); \
    } while (0)

#define COOKIE(c, ...) do { \
        static const pair want[] = { __VA_ARGS__ }; \
        sl_kvlist kv; \
        ck_assert_int_eq(sl_cookie_pairs(c, sizeof(c) - 1, &kv), 0); \
        same_pairs(&kv, want, sizeof want / sizeof *want, c); \
        sl_kvlist_free(&kv); \
    } while (0)

#define FFFD "\xef\xbf\xbd"

START_TEST(test_query)
{
    QUERY("a=1&b=2", {"a", "1"}, {"b", "2"});
    QUERY("a=1&&a=2&", {"a", "1"}, {"a", "2"});
    QUERY("=x&y", {"", "x"}, {"y", ""});
    QUERY("a+b=c+d%20e", {"a b", "c d e"});
    QUERY("k=%zz%4&k=%41%42", {"k", "%zz%4"}, {"k", "AB"});
    QUERY("k=%C3%A9&k=%C3&k=%E2%82&k=%F0%9F%98%80x",
          {"k", "\xc3\xa9"}, {"k", FFFD}, {"k", FFFD}, {"k", "\xf0\x9f\x98\x80x"});
    QUERY("k=\xe9", {"k", "\xc3\xa9"});
    QUERY("k=%e9\xe9%e9", {"k", FFFD "\xc3\xa9" FFFD});
    QUERY("a=b=c", {"a", "b=c"});
    QUERY("k=%ED%A0%80", {"k", FFFD FFFD FFFD});
    QUERY("k=%F4%90%80%80", {"k", FFFD FFFD FFFD FFFD});
    QUERY("k=%E0%80%AF", {"k", FFFD FFFD FFFD});
    QUERY("k=a;b", {"k", "a;b"});
}
END_TEST

START_TEST(test_query_empty)
{
    sl_kvlist kv;
    ck_assert_int_eq(sl_query_pairs("", 0, &kv), 0);
    ck_assert_uint_eq(kv.n, 0);
    sl_kvlist_free(&kv);
    ck_assert_int_eq(sl_query_pairs("&&&", 3, &kv), 0);
    ck_assert_uint_eq(kv.n, 0);
    sl_kvlist_free(&kv);
    /* a NUL sent as %00 stays inside the value: the lengths tell */
    ck_assert_int_eq(sl_query_pairs("k=a%00b", 7, &kv), 0);
    ck_assert_uint_eq(kv.n, 1);
    ck_assert_uint_eq(kv.kv[0].vlen, 3);
    ck_assert(memcmp(kv.kv[0].value, "a\0b", 3) == 0);
    sl_kvlist_free(&kv);
}
END_TEST

START_TEST(test_query_bound)
{
    /* the worst case for size: every byte a Latin-1 character */
    char qs[3001];
    memset(qs, 0xff, sizeof qs - 1);
    qs[0] = 'k';
    qs[1] = '=';
    qs[3000] = '\0';
    sl_kvlist kv;
    ck_assert_int_eq(sl_query_pairs(qs, 3000, &kv), 0);
    ck_assert_uint_eq(kv.n, 1);
    ck_assert_uint_eq(kv.kv[0].vlen, 2 * 2998);
    sl_kvlist_free(&kv);
}
END_TEST

START_TEST(test_cookies)
{
    COOKIE("a=1; b=2", {"a", "1"}, {"b", "2"});
    COOKIE("a=1;a=2", {"a", "2"});
    COOKIE(" x = \"q u\" ; y=\"a\\\"b\\\\c\"", {"x", "q u"}, {"y", "a\"b\\c"});
    COOKIE("z=\"\\101\\060x\"", {"z", "A0x"});
    COOKIE("nokey; =v;  ;k=", {"", "v"}, {"k", ""});
    COOKIE("k=\xe9", {"k", "\xc3\xa9"});
    COOKIE("q=\"x", {"q", "\"x"});
    COOKIE("q=\"\\\n\"", {"q", "\\\n"});
    COOKIE("a=1;b", {"a", "1"}, {"", "b"});
    COOKIE("\x85" "a=1\xa0", {"a", "1"});
    COOKIE("o=\"\\400\"", {"o", "400"});
    COOKIE("o=\"\\377\"", {"o", "\xc3\xbf"});
    COOKIE("e=\"\"", {"e", ""});
    COOKIE("s=a=b", {"s", "a=b"});
}
END_TEST

START_TEST(test_cookies_empty)
{
    sl_kvlist kv;
    ck_assert_int_eq(sl_cookie_pairs("", 0, &kv), 0);
    ck_assert_uint_eq(kv.n, 0);
    sl_kvlist_free(&kv);
    ck_assert_int_eq(sl_cookie_pairs(" ; ;", 4, &kv), 0);
    ck_assert_uint_eq(kv.n, 0);
    sl_kvlist_free(&kv);
}
END_TEST

START_TEST(test_utf8_replace)
{
    static const struct { const char *in, *out; } cases[] = {
        {"abc", "abc"},
        {"\xc3\xa9", "\xc3\xa9"},
        {"\xc3", FFFD},
        {"\xc3" "a", FFFD "a"},
        {"\xc0\xaf", FFFD FFFD},
        {"\xe0\x80\xaf", FFFD FFFD FFFD},
        {"\xe2\x82", FFFD},
        {"\xe2\x82\xac", "\xe2\x82\xac"},
        {"\xed\xa0\x80", FFFD FFFD FFFD},
        {"\xf0\x9f\x98", FFFD},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
        {"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD},
        {"\xf5", FFFD},
        {"\xff\xfe", FFFD FFFD},
        {"\x80", FFFD},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = sl_utf8_replace(out, cases[i].in, strlen(cases[i].in));
        ck_assert_msg(n == strlen(cases[i].out) && memcmp(out, cases[i].out, n) == 0,
                      "case %zu", i);
    }
    ck_assert_uint_eq(sl_latin1_utf8(out, "a\xe9\xff", 3), 5);
    ck_assert(memcmp(out, "a\xc3\xa9\xc3\xbf", 5) == 0);
}
END_TEST

START_TEST(test_content_type)
{
    ck_assert_int_eq(sl_content_type_json(NULL), -1);
    ck_assert_int_eq(sl_content_type_json(""), -1);
    ck_assert_int_eq(sl_content_type_json("application/json"), 1);
    ck_assert_int_eq(sl_content_type_json("Application/JSON; charset=utf-8"), 1);
    ck_assert_int_eq(sl_content_type_json("  application/json  "), 1);
    ck_assert_int_eq(sl_content_type_json("application/vnd.api+json"), 1);
    ck_assert_int_eq(sl_content_type_json("application/ld+JSON;x=1"), 1);
    ck_assert_int_eq(sl_content_type_json("text/plain"), 0);
    ck_assert_int_eq(sl_content_type_json("text/json"), 0);
    ck_assert_int_eq(sl_content_type_json("application/jsonx"), 0);
    ck_assert_int_eq(sl_content_type_json("application/json/x"), 0);
    ck_assert_int_eq(sl_content_type_json("application"), 0);
    ck_assert_int_eq(sl_content_type_json("application /json"), 0);
    ck_assert_int_eq(sl_content_type_json("application/+json"), 1);
    ck_assert_int_eq(sl_content_type_json(";application/json"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("starlette");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_query);
    tcase_add_test(tc, test_query_empty);
    tcase_add_test(tc, test_query_bound);
    tcase_add_test(tc, test_cookies);
    tcase_add_test(tc, test_cookies_empty);
    tcase_add_test(tc, test_utf8_replace);
    tcase_add_test(tc, test_content_type);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
