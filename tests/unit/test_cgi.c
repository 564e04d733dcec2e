/*
 * test_cgi.c: unit tests for the CGI parameter rules (src/proto/cgi.c): the one
 * CONTENT_LENGTH rule the FastCGI and SCGI paths share.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include "proto/cgi.h"

static unsigned long long ok(const char *s)
{
    unsigned long long v = 12345;

    ck_assert_msg(sl_cgi_content_length(s, &v) == 0, "'%s' refused", s ? s : "(null)");
    return v;
}

static void bad(const char *s)
{
    unsigned long long v = 12345;

    ck_assert_msg(sl_cgi_content_length(s, &v) == -EINVAL, "'%s' accepted", s);
    ck_assert(v == 0);
}

/* What nginx passes: the client's text as it came, "" without a body. */
START_TEST(test_what_nginx_sends)
{
    ck_assert(ok(NULL) == 0);
    ck_assert(ok("") == 0);
    ck_assert(ok("0") == 0);
    ck_assert(ok("5") == 5);
    ck_assert(ok("204800") == 204800);
    ck_assert(ok("007") == 7);
    ck_assert(ok("000") == 0);
    ck_assert(ok("00000000000000000000000000000000000000001") == 1);
}
END_TEST

START_TEST(test_64_bits)
{
    ck_assert(ok("18446744073709551615") == 18446744073709551615ULL);
    ck_assert(ok("018446744073709551615") == 18446744073709551615ULL);
    bad("18446744073709551616");
    bad("18446744073709551620");
    bad("99999999999999999999");
    bad("100000000000000000000");
}
END_TEST

START_TEST(test_malformed)
{
    static const char *const cases[] = {
        "-1", "-0", "+1", " 5", "5 ", "5\t", "\t5", "1e3", "0x10", "12abc",
        "1,000", "1.0", "1_000", "\xd9\xa3", "five", " ", "-",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        bad(cases[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cgi");
    TCase *tc = tcase_create("content_length");

    tcase_add_test(tc, test_what_nginx_sends);
    tcase_add_test(tc, test_64_bits);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
