/*
 * test_hparam.c: unit tests for what multipart/form-data reads in header
 * values (src/proto/hparam.c: the request's boundary, a part's headers and
 * Content-Disposition, filename*), through the parser
 * (src/proto/multipart.c) with the harness of tests/lib/mp_run.c, and for
 * the file name sanitiser (src/proto/filename.c).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mp_run.h"
#include "proto/filename.h"
#include "proto/hparam.h"
#include "proto/multipart.h"

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
        char *t = mp_parse("b", nul, sizeof(nul) - 1, &mp_roomy);
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

static Suite *hparam_suite(void)
{
    Suite *s = suite_create("hparam");
    TCase *tc = tcase_create("headers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_boundary);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("filename");
    tcase_add_test(tn, test_sanitise);
    suite_add_tcase(s, tn);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hparam_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
