/*
 * test_cookie.c: the pure parts of cookies: base64url, HMAC-SHA256 against
 * RFC 4231's vectors, Set-Cookie lines and their refusals, HTTP dates, and
 * signed values (tampered value, tampered MAC, wrong secret, wrong name,
 * cut short, malformed).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/app.h"
#include "api/cookie.h"
#include "api/cookie_sign.h"
#include "util/base64url.h"
#include "util/hmac.h"

/* ---- base64url --------------------------------------------------------- */

static void enc_is(const char *in, size_t n, const char *want)
{
    sl_buf b;
    sl_buf_init(&b);
    ck_assert_int_eq(sl_b64url_encode(&b, in, n), 0);
    ck_assert_str_eq(b.data, want);
    ck_assert_uint_eq(b.len, sl_b64url_len(n));
    unsigned char back[64];
    size_t len = 99;
    ck_assert_int_eq(sl_b64url_decode(back, &len, b.data, b.len), 0);
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(back, in, n) == 0);
    sl_buf_free(&b);
}

START_TEST(b64url_vectors)
{
    /* RFC 4648 section 10, without padding, and the two URL-safe letters. */
    sl_buf b;
    sl_buf_init(&b);
    ck_assert_int_eq(sl_b64url_encode(&b, "", 0), 0);
    ck_assert_str_eq(b.data, "");
    sl_buf_free(&b);
    enc_is("f", 1, "Zg");
    enc_is("fo", 2, "Zm8");
    enc_is("foo", 3, "Zm9v");
    enc_is("foob", 4, "Zm9vYg");
    enc_is("fooba", 5, "Zm9vYmE");
    enc_is("foobar", 6, "Zm9vYmFy");
    enc_is("\xfb\xff\xbf", 3, "-_-_");
}
END_TEST

START_TEST(b64url_refusals)
{
    unsigned char out[64];
    size_t len;
    const char *bad[] = {
        "Z",            /* a length of 1 mod 4 */
        "Zh",           /* unused bits set: only "Zg" is 'f' */
        "Zm9=",         /* padding */
        "Zm9v=",
        "Zm 9",         /* whitespace */
        "Zm+v",         /* base64's own letters */
        "Zm/v",
        "Zm9v\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sl_b64url_decode(out, &len, bad[i], strlen(bad[i])) == -EINVAL,
                      "accepted %s", bad[i]);
    ck_assert_int_eq(sl_b64url_decode(out, &len, "", 0), 0);
    ck_assert_uint_eq(len, 0);
}
END_TEST

/* ---- HMAC-SHA256: RFC 4231 section 4 ----------------------------------- */

static void hex_is(const unsigned char *mac, const char *want)
{
    char got[2 * SL_HMAC_LEN + 1];
    for (int i = 0; i < SL_HMAC_LEN; i++)
        snprintf(got + 2 * i, 3, "%02x", mac[i]);
    ck_assert_str_eq(got, want);
}

/* FIPS 180-4's examples, and lengths either side of where the padding
 * takes a second block (55/56, 63/64/65, 119/120), fed whole and split. */
START_TEST(sha256_vectors)
{
    static const struct { size_t n; const char *hex; } as[] = {
        {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"},
    };
    unsigned char d[SL_SHA256_LEN];
    static char a[1000];
    memset(a, 'a', sizeof a);
    sl_sha256("abc", 3, d);
    hex_is(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sl_sha256(two, strlen(two), d);
    hex_is(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    for (size_t i = 0; i < sizeof as / sizeof *as; i++) {
        sl_sha256(a, as[i].n, d);
        hex_is(d, as[i].hex);
    }
}
END_TEST

START_TEST(hmac_rfc4231)
{
    unsigned char key[131], data[160], mac[SL_HMAC_LEN];
    /* 1 */
    memset(key, 0x0b, 20);
    ck_assert_int_eq(sl_hmac_sha256(key, 20, "Hi There", 8, mac), 0);
    hex_is(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* 2: a key shorter than the output */
    const char *d2 = "what do ya want for nothing?";
    ck_assert_int_eq(sl_hmac_sha256("Jefe", 4, d2, strlen(d2), mac), 0);
    hex_is(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* 3 */
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    ck_assert_int_eq(sl_hmac_sha256(key, 20, data, 50, mac), 0);
    hex_is(mac, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* 4 */
    for (int i = 0; i < 25; i++)
        key[i] = (unsigned char)(i + 1);
    memset(data, 0xcd, 50);
    ck_assert_int_eq(sl_hmac_sha256(key, 25, data, 50, mac), 0);
    hex_is(mac, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    /* 6, 7: a key longer than the block, hashed first */
    memset(key, 0xaa, 131);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    ck_assert_int_eq(sl_hmac_sha256(key, 131, d6, strlen(d6), mac), 0);
    hex_is(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *d7 = "This is a test using a larger than block-size key and a larger "
                     "than block-size data. The key needs to be hashed before being "
                     "used by the HMAC algorithm.";
    ck_assert_int_eq(sl_hmac_sha256(key, 131, d7, strlen(d7), mac), 0);
    hex_is(mac, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

/* An app's secret longer than a block is kept hashed: the same MACs. */
START_TEST(secret_kept_hashed)
{
    struct sl_app app;
    memset(&app, 0, sizeof app);
    unsigned char key[131], mac[SL_HMAC_LEN];
    memset(key, 0xaa, sizeof key);
    ck_assert_int_eq(sl_app_set_secret(&app, key, sizeof key), 0);
    ck_assert_uint_eq(app.secret_len, 32);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    ck_assert_int_eq(sl_hmac_sha256(app.secret, app.secret_len, d6, strlen(d6), mac), 0);
    hex_is(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* too short: refused, the old one kept */
    ck_assert_int_eq(sl_app_set_secret(&app, "short", 5), -EINVAL);
    ck_assert_uint_eq(app.secret_len, 32);
    ck_assert_int_eq(sl_app_set_secret(&app, "0123456789abcdef", 16), 0);
    ck_assert_uint_eq(app.secret_len, 16);
}
END_TEST

START_TEST(ct_equal)
{
    ck_assert_int_eq(sl_ct_equal("abcd", "abcd", 4), 1);
    ck_assert_int_eq(sl_ct_equal("abcd", "abce", 4), 0);
    ck_assert_int_eq(sl_ct_equal("xbcd", "abcd", 4), 0);
    unsigned char r1[32], r2[32];
    ck_assert_int_eq(sl_random_bytes(r1, sizeof r1), 0);
    ck_assert_int_eq(sl_random_bytes(r2, sizeof r2), 0);
    ck_assert_int_eq(sl_ct_equal(r1, r2, sizeof r1), 0);
}
END_TEST

/* ---- Set-Cookie -------------------------------------------------------- */

static int fmt(const char *name, const char *value, const sl_cookie *o, int del, char *out)
{
    sl_buf b;
    sl_buf_init(&b);
    int rc = sl_cookie_format(&b, name, value, o, del);
    snprintf(out, 512, "%s", rc == 0 ? b.data : "");
    sl_buf_free(&b);
    return rc;
}

START_TEST(set_cookie_lines)
{
    char s[512];
    ck_assert_int_eq(fmt("a", "b", NULL, 0, s), 0);
    ck_assert_str_eq(s, "a=b; Path=/; SameSite=Lax");
    ck_assert_int_eq(fmt("a", "", NULL, 0, s), 0);
    ck_assert_str_eq(s, "a=; Path=/; SameSite=Lax");
    sl_cookie all = {.max_age = 3600, .expires = 1445412480, .path = "/app",
                     .domain = "example.com", .secure = true, .httponly = true,
                     .samesite = SL_SAMESITE_STRICT};
    ck_assert_int_eq(fmt("sid", "x-1!#$%&'()*+./:<=>?@[]^_`{|}~", &all, 0, s), 0);
    ck_assert_str_eq(s, "sid=x-1!#$%&'()*+./:<=>?@[]^_`{|}~; Expires=Wed, 21 Oct 2015 "
                        "07:28:00 GMT; Max-Age=3600; Domain=example.com; Path=/app; "
                        "Secure; HttpOnly; SameSite=Strict");
    /* SameSite=None brings Secure, which browsers require with it */
    sl_cookie none = {.samesite = SL_SAMESITE_NONE};
    ck_assert_int_eq(fmt("a", "b", &none, 0, s), 0);
    ck_assert_str_eq(s, "a=b; Path=/; Secure; SameSite=None");
    sl_cookie omit = {.samesite = SL_SAMESITE_OMIT, .path = ""};
    ck_assert_int_eq(fmt("a", "b", &omit, 0, s), 0);
    ck_assert_str_eq(s, "a=b");
    /* deleting: Starlette's delete_cookie, an Expires in the past */
    ck_assert_int_eq(fmt("a", "ignored", &all, 1, s), 0);
    ck_assert_str_eq(s, "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
                        "Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Strict");
}
END_TEST

START_TEST(set_cookie_refusals)
{
    char s[512];
    const char *names[] = {"", "a b", "a;b", "a=b", "a,b", "a\"", "\x01", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_msg(fmt(names[i], "v", NULL, 0, s) == -EINVAL, "name %s", names[i]);
    ck_assert_int_eq(fmt(NULL, "v", NULL, 0, s), -EINVAL);
    ck_assert_int_eq(fmt("a", NULL, NULL, 0, s), -EINVAL);
    const char *values[] = {"a b", "\"q\"", "a,b", "a;b", "a\\b", "a\x7f", "a\tb",
                            "caf\xc3\xa9", "\r\nSet-Cookie: x=y"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        ck_assert_msg(fmt("a", values[i], NULL, 0, s) == -EINVAL, "value %s", values[i]);
    sl_cookie bad[] = {
        {.max_age = -1}, {.expires = -5}, {.expires = INT64_C(253402300800)},
        {.path = "/a;b"}, {.path = "/a\nb"}, {.domain = "a/b"}, {.domain = ""},
        {.domain = "a;b"}, {.samesite = 4}, {.samesite = -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(fmt("a", "b", &bad[i], 0, s) == -EINVAL, "attributes %zu", i);
    /* 4096 bytes in all at most */
    char big[4200];
    memset(big, 'x', sizeof big);
    size_t fixed = strlen("a=; Path=/; SameSite=Lax");
    big[4096 - fixed] = '\0';
    ck_assert_int_eq(fmt("a", big, NULL, 0, s), 0);
    big[4096 - fixed] = 'x';
    big[4097 - fixed] = '\0';
    ck_assert_int_eq(fmt("a", big, NULL, 0, s), -EMSGSIZE);
}
END_TEST

START_TEST(http_dates)
{
    char d[40];
    ck_assert_int_eq(sl_http_date(d, 0), 0);
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_assert_int_eq(sl_http_date(d, 1445412480), 0);
    ck_assert_str_eq(d, "Wed, 21 Oct 2015 07:28:00 GMT");
    ck_assert_int_eq(sl_http_date(d, INT64_C(253402300799)), 0);
    ck_assert_str_eq(d, "Fri, 31 Dec 9999 23:59:59 GMT");
    ck_assert_int_eq(sl_http_date(d, -1), -EINVAL);
    ck_assert_int_eq(sl_http_date(d, INT64_C(253402300800)), -EINVAL);
}
END_TEST

/* ---- signed values ----------------------------------------------------- */

static const char KEY[] = "0123456789abcdef0123456789abcdef";
#define KLEN (sizeof KEY - 1)
/* Python: hmac.new(KEY, b"demo=" + v, sha256), base64url without padding */
static const char HELLO[] = "aGVsbG8gd29ybGQ.r_bVO0ZGlqv3-TBhm-kJOXst9ie-qWje3-VVx-8mkl0";

static int verify(const char *key, const char *name, const char *s, size_t n, char *out)
{
    size_t len = 0;
    char *dst = malloc(n + 1);
    int rc = sl_verify_value(key, strlen(key), name, s, n, dst, &len);
    if (rc == 0) {
        ck_assert_uint_eq(strlen(dst), len);
        strcpy(out, dst);
    }
    free(dst);
    return rc;
}

START_TEST(sign_known_answer)
{
    sl_buf b;
    sl_buf_init(&b);
    ck_assert_int_eq(sl_sign_value(&b, KEY, KLEN, "demo", "hello world", 11), 0);
    ck_assert_str_eq(b.data, HELLO);
    ck_assert(sl_cookie_value_ok(b.data, b.len));
    char out[256];
    ck_assert_int_eq(verify(KEY, "demo", b.data, b.len, out), 0);
    ck_assert_str_eq(out, "hello world");
    sl_buf_free(&b);
    /* any text, and the empty one */
    const char *texts[] = {"", "a", "ab", "abc", "a b; c=\"d\", \\e \xc3\xa9\x01\x7f",
                           "{\"user\":\"ann\"}"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sl_buf_init(&b);
        ck_assert_int_eq(sl_sign_value(&b, KEY, KLEN, "s", texts[i], strlen(texts[i])), 0);
        ck_assert(sl_cookie_value_ok(b.data, b.len));
        ck_assert_int_eq(verify(KEY, "s", b.data, b.len, out), 0);
        ck_assert_str_eq(out, texts[i]);
        sl_buf_free(&b);
    }
}
END_TEST

START_TEST(sign_tampered)
{
    char s[sizeof HELLO], out[256];
    size_t n = strlen(HELLO);
    /* every single character changed, value or MAC: refused */
    for (size_t i = 0; i < n; i++) {
        memcpy(s, HELLO, sizeof HELLO);
        s[i] = s[i] == 'A' ? 'B' : 'A';
        ck_assert_msg(verify(KEY, "demo", s, n, out) == -EBADMSG, "changed at %zu", i);
    }
    /* the MAC's last character carries 2 unused bits: another encoding of
     * the same MAC is refused too ('0' is 52, '1' 53: low bits 0, 1) */
    memcpy(s, HELLO, sizeof HELLO);
    ck_assert(s[n - 1] == '0');
    s[n - 1] = '1';
    ck_assert_int_eq(verify(KEY, "demo", s, n, out), -EBADMSG);
    /* a wrong secret, another cookie's name */
    ck_assert_int_eq(verify("0123456789abcdef0123456789abcdeX", "demo", HELLO, n, out),
                     -EBADMSG);
    ck_assert_int_eq(verify(KEY, "demo2", HELLO, n, out), -EBADMSG);
    ck_assert_int_eq(verify(KEY, "dem", HELLO, n, out), -EBADMSG);
    /* cut short at every length, and grown */
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(verify(KEY, "demo", HELLO, k, out) == -EBADMSG, "cut to %zu", k);
    char longer[sizeof HELLO + 1];
    memcpy(longer, HELLO, n);
    longer[n] = 'A';
    ck_assert_int_eq(verify(KEY, "demo", longer, n + 1, out), -EBADMSG);
    /* a MAC moved in front, the value left unsigned */
    const char *forms[] = {"", ".", "aGVsbG8gd29ybGQ", "aGVsbG8gd29ybGQ.",
                           "r_bVO0ZGlqv3-TBhm-kJOXst9ie-qWje3-VVx-8mkl0",
                           ".r_bVO0ZGlqv3-TBhm-kJOXst9ie-qWje3-VVx-8mkl0"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        ck_assert_msg(verify(KEY, "demo", forms[i], strlen(forms[i]), out) == -EBADMSG,
                      "form %s", forms[i]);
}
END_TEST

/* A NUL inside a signed value: it verifies, but the text would be cut. */
START_TEST(sign_nul_refused)
{
    sl_buf b;
    sl_buf_init(&b);
    ck_assert_int_eq(sl_sign_value(&b, KEY, KLEN, "s", "a\0b", 3), 0);
    char out[64];
    ck_assert_int_eq(verify(KEY, "s", b.data, b.len, out), -EBADMSG);
    sl_buf_free(&b);
}
END_TEST

static Suite *cookie_suite(void)
{
    Suite *s = suite_create("cookie");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, b64url_vectors);
    tcase_add_test(tc, b64url_refusals);
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, hmac_rfc4231);
    tcase_add_test(tc, secret_kept_hashed);
    tcase_add_test(tc, ct_equal);
    tcase_add_test(tc, set_cookie_lines);
    tcase_add_test(tc, set_cookie_refusals);
    tcase_add_test(tc, http_dates);
    tcase_add_test(tc, sign_known_answer);
    tcase_add_test(tc, sign_tampered);
    tcase_add_test(tc, sign_nul_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cookie_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
