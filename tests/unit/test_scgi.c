/* test_scgi.c: unit tests for the SCGI header codec. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/scgi.h"

#define MAX_HDR 65536

/* The example request from the SCGI spec, followed by its body. */
static const char spec_req[] =
    "70:"
    "CONTENT_LENGTH\0" "27\0"
    "SCGI\0" "1\0"
    "REQUEST_METHOD\0" "POST\0"
    "REQUEST_URI\0" "/deepthought\0"
    ","
    "What is the answer to life?";

/*
 * Build "LEN:" + block + "," from a raw block (which may contain NULs).
 * Returns a malloc'd buffer of exactly *outlen bytes so that ASan catches
 * any read past the end.
 */
static char *netstring(const char *block, size_t blen, size_t *outlen)
{
    char prefix[32];
    int n = snprintf(prefix, sizeof(prefix), "%zu:", blen);
    *outlen = (size_t)n + blen + 1;
    char *out = malloc(*outlen);
    ck_assert_ptr_nonnull(out);
    memcpy(out, prefix, (size_t)n);
    memcpy(out + n, block, blen);
    out[n + blen] = ',';
    return out;
}

/* Parse an exact-size heap copy of in[0..len). */
static int parse(const char *in, size_t len, size_t max, scgi_header *h,
                 const char **reason)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, in, len);
    int rc = scgi_parse_header(copy, len, max, h, reason);
    free(copy);
    return rc;
}

/* Parse a block wrapped in a netstring; returns the result code. */
static int parse_block(const char *block, size_t blen, const char **reason)
{
    size_t len;
    char *in = netstring(block, blen, &len);
    scgi_header h;
    *reason = NULL;
    int rc = scgi_parse_header(in, len, MAX_HDR, &h, reason);
    free(in);
    return rc;
}

/* Parse a raw string (no NULs) and expect an error. */
static void expect_error(const char *in, size_t max)
{
    scgi_header h;
    const char *reason = NULL;
    int rc = parse(in, strlen(in), max, &h, &reason);
    ck_assert_msg(rc == SCGI_ERROR, "'%s': rc %d", in, rc);
    ck_assert_ptr_nonnull(reason);
    ck_assert(strlen(reason) > 0);
}

static void expect_need_more(const char *in, size_t max)
{
    scgi_header h;
    const char *reason = NULL;
    int rc = parse(in, strlen(in), max, &h, &reason);
    ck_assert_msg(rc == SCGI_NEED_MORE, "'%s': rc %d", in, rc);
}

#define BLOCK_ERROR(lit) do {                                           \
        const char *reason;                                             \
        int rc = parse_block(lit, sizeof(lit) - 1, &reason);            \
        ck_assert_msg(rc == SCGI_ERROR, "rc %d", rc);                   \
        ck_assert_ptr_nonnull(reason);                                  \
    } while (0)

START_TEST(test_spec_example)
{
    scgi_header h;
    const char *reason = NULL;
    size_t len = sizeof(spec_req) - 1;
    int rc = scgi_parse_header(spec_req, len, MAX_HDR, &h, &reason);

    ck_assert_int_eq(rc, SCGI_OK);
    ck_assert_uint_eq(h.block_len, 70);
    ck_assert_ptr_eq(h.block, spec_req + 3);
    ck_assert_uint_eq(h.consumed, 74);
    ck_assert_uint_eq(h.content_length, 27);
    ck_assert_uint_eq(len - h.consumed, 27);
}
END_TEST

START_TEST(test_pairs_walk)
{
    scgi_header h;
    const char *reason, *name, *value;
    size_t off = 0;
    static const char *want[] = {
        "CONTENT_LENGTH", "27", "SCGI", "1", "REQUEST_METHOD", "POST",
        "REQUEST_URI", "/deepthought",
    };

    ck_assert_int_eq(scgi_parse_header(spec_req, sizeof(spec_req) - 1,
                                       MAX_HDR, &h, &reason), SCGI_OK);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(scgi_pairs_next(&h, &off, &name, &value), 1);
        ck_assert_str_eq(name, want[2 * i]);
        ck_assert_str_eq(value, want[2 * i + 1]);
    }
    ck_assert_int_eq(scgi_pairs_next(&h, &off, &name, &value), 0);
    ck_assert_int_eq(scgi_pairs_next(&h, &off, &name, &value), 0);
}
END_TEST

START_TEST(test_empty_values_and_zero_length)
{
    static const char block[] =
        "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "QUERY_STRING\0" "\0";
    size_t len;
    char *in = netstring(block, sizeof(block) - 1, &len);
    scgi_header h;
    const char *reason, *name, *value;
    size_t off = 0;

    ck_assert_int_eq(scgi_parse_header(in, len, MAX_HDR, &h, &reason),
                     SCGI_OK);
    ck_assert_uint_eq(h.content_length, 0);
    ck_assert_uint_eq(h.consumed, len);
    scgi_pairs_next(&h, &off, &name, &value);
    scgi_pairs_next(&h, &off, &name, &value);
    ck_assert_int_eq(scgi_pairs_next(&h, &off, &name, &value), 1);
    ck_assert_str_eq(name, "QUERY_STRING");
    ck_assert_str_eq(value, "");
    free(in);
}
END_TEST

START_TEST(test_max_content_length)
{
    static const char ok[] =
        "CONTENT_LENGTH\0" "18446744073709551615\0" "SCGI\0" "1\0";
    size_t len;
    char *in = netstring(ok, sizeof(ok) - 1, &len);
    scgi_header h;
    const char *reason;

    ck_assert_int_eq(scgi_parse_header(in, len, MAX_HDR, &h, &reason),
                     SCGI_OK);
    ck_assert(h.content_length == 18446744073709551615ULL);
    free(in);

    BLOCK_ERROR("CONTENT_LENGTH\0" "18446744073709551616\0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "99999999999999999999\0" "SCGI\0" "1\0");
}
END_TEST

/* Every strict prefix is NEED_MORE; the whole gives the same result. */
START_TEST(test_split_every_byte)
{
    size_t total = sizeof(spec_req) - 1;
    scgi_header full, h;
    const char *reason;

    ck_assert_int_eq(scgi_parse_header(spec_req, total, MAX_HDR, &full,
                                       &reason), SCGI_OK);
    for (size_t n = 0; n < full.consumed; n++) {
        int rc = parse(spec_req, n, MAX_HDR, &h, &reason);
        ck_assert_msg(rc == SCGI_NEED_MORE, "prefix %zu: rc %d", n, rc);
    }
    for (size_t n = full.consumed; n <= total; n++) {
        char *copy = malloc(n);
        memcpy(copy, spec_req, n);
        ck_assert_int_eq(scgi_parse_header(copy, n, MAX_HDR, &h, &reason),
                         SCGI_OK);
        ck_assert_ptr_eq(h.block, copy + 3);
        ck_assert_uint_eq(h.block_len, full.block_len);
        ck_assert_uint_eq(h.consumed, full.consumed);
        ck_assert(h.content_length == full.content_length);
        ck_assert_int_eq(memcmp(h.block, full.block, h.block_len), 0);
        free(copy);
    }
}
END_TEST

START_TEST(test_need_more)
{
    expect_need_more("", MAX_HDR);
    expect_need_more("1", MAX_HDR);
    expect_need_more("12", MAX_HDR);
    expect_need_more("0", MAX_HDR);
    expect_need_more("1234567890", (size_t)-1);
    expect_need_more("12:", MAX_HDR);
    expect_need_more("12:CONTENT_LEN", MAX_HDR);
}
END_TEST

START_TEST(test_bad_length)
{
    expect_error("012:", MAX_HDR);
    expect_error("01", MAX_HDR);           /* leading zero seen early */
    expect_error("00:", MAX_HDR);
    expect_error("+12:", MAX_HDR);
    expect_error("-12:", MAX_HDR);
    expect_error(" 12:", MAX_HDR);
    expect_error("12 :", MAX_HDR);
    expect_error(":", MAX_HDR);
    expect_error("abc", MAX_HDR);
    expect_error("12;", MAX_HDR);          /* no colon */
    expect_error("12,", MAX_HDR);
    expect_error("0:,", MAX_HDR);          /* empty block */
    expect_error("0:", MAX_HDR);
    expect_error("12345678901", (size_t)-1);  /* 11 digits */
    expect_error("12345678901234567890:", (size_t)-1);
}
END_TEST

START_TEST(test_reasons)
{
    scgi_header h;
    const char *reason = NULL;

    ck_assert_int_eq(parse("012:", 4, MAX_HDR, &h, &reason), SCGI_ERROR);
    ck_assert_str_eq(reason, "netstring length has a leading zero");
    ck_assert_int_eq(parse("12345678901", 11, (size_t)-1, &h, &reason),
                     SCGI_ERROR);
    ck_assert_str_eq(reason, "netstring length has too many digits");
    /* Reason may be NULL. */
    ck_assert_int_eq(scgi_parse_header("x", 1, MAX_HDR, &h, NULL),
                     SCGI_ERROR);
}
END_TEST

static void expect_too_large(const char *in, size_t max)
{
    scgi_header h, before;
    const char *reason = NULL;

    memset(&h, 0x5a, sizeof(h));
    before = h;
    int rc = parse(in, strlen(in), max, &h, &reason);
    ck_assert_msg(rc == SCGI_TOO_LARGE, "'%s': rc %d", in, rc);
    ck_assert_str_eq(reason, "header block is larger than allowed");
    ck_assert(memcmp(&h, &before, sizeof(h)) == 0);
}

/* Too long is known once the digits are read, before the block: the
 * caller can refuse it (431) without buffering it. */
START_TEST(test_over_max)
{
    scgi_header h;
    const char *reason = NULL;

    expect_too_large("101:", 100);
    expect_too_large("1000", 100);         /* no colon yet, already over */
    expect_too_large("101:CONTENT_LENGTH", 100);
    expect_too_large("9999999999", 1024);
    expect_need_more("100", 100);
    expect_need_more("100:", 100);
    /* Malformed before it is too large: an error. */
    expect_error("0101:", 100);
    ck_assert_int_eq(parse("70:", 3, 69, &h, &reason), SCGI_TOO_LARGE);
    ck_assert_int_eq(scgi_parse_header(spec_req, sizeof(spec_req) - 1, 70,
                                       &h, &reason), SCGI_OK);
}
END_TEST

START_TEST(test_no_comma)
{
    static const char block[] = "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0";
    size_t len;
    char *in = netstring(block, sizeof(block) - 1, &len);
    scgi_header h;
    const char *reason = NULL;

    in[len - 1] = ';';
    ck_assert_int_eq(scgi_parse_header(in, len, MAX_HDR, &h, &reason),
                     SCGI_ERROR);
    ck_assert_str_eq(reason, "netstring is not terminated by ','");
    /* Until the byte after the block arrives we cannot tell. */
    ck_assert_int_eq(scgi_parse_header(in, len - 1, MAX_HDR, &h, &reason),
                     SCGI_NEED_MORE);
    free(in);
}
END_TEST

START_TEST(test_bad_blocks)
{
    const char *reason;

    /* Not ending with NUL. */
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1");
    /* Odd number of strings. */
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "X\0");
    BLOCK_ERROR("CONTENT_LENGTH\0");
    /* First header not CONTENT_LENGTH. */
    BLOCK_ERROR("SCGI\0" "1\0" "CONTENT_LENGTH\0" "0\0");
    BLOCK_ERROR("content_length\0" "0\0" "SCGI\0" "1\0");
    /* Duplicates. */
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "A\0" "x\0"
                "B\0" "y\0" "A\0" "z\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"
                "CONTENT_LENGTH\0" "0\0");
    /* SCGI missing or not 1. */
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "2\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "01\0");
    /* Empty name. */
    BLOCK_ERROR("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "\0" "x\0");
    /* Just NULs. */
    BLOCK_ERROR("\0");
    BLOCK_ERROR("\0\0");

    /* Check a couple of reasons verbatim. */
    parse_block("SCGI\0" "1\0", 7, &reason);
    ck_assert_str_eq(reason, "first header is not CONTENT_LENGTH");
    parse_block("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "SCGI\0" "1\0",
                31, &reason);
    ck_assert_str_eq(reason, "duplicate header name");
    parse_block("CONTENT_LENGTH\0" "0\0", 17, &reason);
    ck_assert_str_eq(reason, "SCGI header is missing");
}
END_TEST

START_TEST(test_bad_content_length)
{
    BLOCK_ERROR("CONTENT_LENGTH\0" "-1\0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "+1\0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" " 1\0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "1 \0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "0x10\0" "SCGI\0" "1\0");
    BLOCK_ERROR("CONTENT_LENGTH\0" "1e3\0" "SCGI\0" "1\0");
}
END_TEST

/* The rule FastCGI uses too (cgi.h): what nginx passes is accepted. */
static unsigned long long block_length(const char *block, size_t blen)
{
    size_t len;
    char *in = netstring(block, blen, &len);
    scgi_header h;
    const char *reason = NULL;

    ck_assert_int_eq(scgi_parse_header(in, len, MAX_HDR, &h, &reason), SCGI_OK);
    free(in);
    return h.content_length;
}

#define BLOCK_LENGTH(lit) block_length(lit, sizeof(lit) - 1)

START_TEST(test_content_length_shared_rule)
{
    ck_assert(BLOCK_LENGTH("CONTENT_LENGTH\0" "012\0" "SCGI\0" "1\0") == 12);
    ck_assert(BLOCK_LENGTH("CONTENT_LENGTH\0" "00\0" "SCGI\0" "1\0") == 0);
    ck_assert(BLOCK_LENGTH("CONTENT_LENGTH\0" "\0" "SCGI\0" "1\0") == 0);
    ck_assert(BLOCK_LENGTH("CONTENT_LENGTH\0"
                           "000000000000000000000018446744073709551615\0"
                           "SCGI\0" "1\0") == 18446744073709551615ULL);
}
END_TEST

/* Many distinct names exercise the sort-based duplicate check. */
START_TEST(test_many_headers)
{
    char block[8192];
    size_t n = 0;

    memcpy(block, "CONTENT_LENGTH\0" "5\0" "SCGI\0" "1\0", 24);
    n = 24;
    /* Names "H0".."H499" (snprintf writes their NUL), empty values. */
    for (int i = 0; i < 500; i++) {
        n += (size_t)snprintf(block + n, sizeof(block) - n, "H%d", i) + 1;
        block[n++] = '\0';
    }

    const char *reason = NULL;
    ck_assert_int_eq(parse_block(block, n, &reason), SCGI_OK);
    /* Repeat one name at the end. */
    memcpy(block + n, "H250\0v\0", 7);
    ck_assert_int_eq(parse_block(block, n + 7, &reason), SCGI_ERROR);
    ck_assert_str_eq(reason, "duplicate header name");
}
END_TEST

static Suite *scgi_suite(void)
{
    Suite *s = suite_create("scgi");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_spec_example);
    tcase_add_test(tc, test_pairs_walk);
    tcase_add_test(tc, test_empty_values_and_zero_length);
    tcase_add_test(tc, test_max_content_length);
    tcase_add_test(tc, test_split_every_byte);
    tcase_add_test(tc, test_need_more);
    tcase_add_test(tc, test_bad_length);
    tcase_add_test(tc, test_reasons);
    tcase_add_test(tc, test_over_max);
    tcase_add_test(tc, test_no_comma);
    tcase_add_test(tc, test_bad_blocks);
    tcase_add_test(tc, test_bad_content_length);
    tcase_add_test(tc, test_content_length_shared_rule);
    tcase_add_test(tc, test_many_headers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scgi_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
