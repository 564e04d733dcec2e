/*
 * test_backtrace.c: the lines the signal handlers write, as a peer could
 * shape them through what a thread runs (a method of its choosing): each
 * stays one line, valid UTF-8, and in the JSON format one JSON object.
 */
#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/backtrace.h"

/* Every escape the handlers make, in one string: C0 controls and DEL, a
 * C1 control (NEL), U+2028, an overlong '/', a surrogate, a code point past U+10FFFF, a lone byte, a sequence cut short; and what
 * stays as it is: the backslash, '"', 'é', CJK and an emoji. */
static const char ODD[] =
    "GET\nX\r\x1b[1m\x7f\\ \"q\" \xc2\x85 \xe2\x80\xa8 \xc0\xaf \xed\xa0\x80 "
    "\xf4\x90\x80\x80 \xff \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 /x \xe2\x82";
static const char ODD_SAFE[] =
    "GET\\x0aX\\x0d\\x1b[1m\\x7f\\ \"q\" \\xc2\\x85 \\xe2\\x80\\xa8 \\xc0\\xaf "
    "\\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80 \\xff \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 "
    "/x \\xe2\\x82";

/* Make the calling thread write its stack into a fresh file; returns the
 * file's first line (the "backtrace of thread N running ...:" one). */
static char *first_line(int json, const char *what)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    sl_bt_install(fileno(f), json);
    sl_bt_set_current(what);
    raise(SL_BT_SIGNAL);
    sl_bt_set_current(NULL);
    static char buf[8192];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    return buf;
}

/* The message of a text line: what follows "sluice[pid] ". */
static const char *text_msg(const char *line)
{
    ck_assert_int_eq(strncmp(line, "sluice[", 7), 0);
    const char *p = strstr(line, "] ");
    ck_assert_ptr_nonnull(p);
    return p + 2;
}

/* The "msg" of a JSON line, which must parse whole, as valid UTF-8. */
static char *json_msg(const char *line)
{
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
    ck_assert_msg(o != NULL && json_tokener_get_parse_end(tok) == strlen(line),
                  "not one JSON object: %s", line);
    json_tokener_free(tok);
    json_object *m;
    ck_assert(json_object_object_get_ex(o, "msg", &m));
    char *s = strdup(json_object_get_string(m));
    json_object_put(o);
    return s;
}

static int printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

START_TEST(test_text_escapes)
{
    const char *msg = text_msg(first_line(0, ODD));
    char want[512];
    snprintf(want, sizeof want, "running %s:", ODD_SAFE);
    ck_assert_msg(strstr(msg, want) != NULL, "got: %s", msg);
    ck_assert(printable(msg));
}
END_TEST

START_TEST(test_json_escapes)
{
    /* Decoded, the message reads as the text format's does. */
    char *msg = json_msg(first_line(1, ODD));
    char want[512];
    snprintf(want, sizeof want, "running %s:", ODD_SAFE);
    ck_assert_msg(strstr(msg, want) != NULL, "got: %s", msg);
    ck_assert(printable(msg));
    free(msg);
}
END_TEST

START_TEST(test_plain_unchanged)
{
    const char *msg = text_msg(first_line(0, "GET /items/{id:int}"));
    ck_assert_msg(strstr(msg, "running GET /items/{id:int}:") != NULL, "got: %s", msg);
    char *m = json_msg(first_line(1, "POST /a/{rest:path}"));
    ck_assert_msg(strstr(m, "running POST /a/{rest:path}:") != NULL, "got: %s", m);
    free(m);
}
END_TEST

/* Far more than a line holds: cut between escapes, never inside one, and
 * the JSON line still ends its string and object. */
START_TEST(test_long_cut_whole)
{
    static char what[3001];
    memset(what, '\n', 3000);
    const char *line = first_line(0, what);
    ck_assert_uint_le(strlen(line), 1023);
    const char *p = strstr(text_msg(line), "running ");
    ck_assert_ptr_nonnull(p);
    p += 8;
    ck_assert_uint_gt(strlen(p), 900);
    ck_assert_uint_eq(strlen(p) % 4, 0);
    for (; *p != '\0'; p += 4)
        ck_assert_int_eq(strncmp(p, "\\x0a", 4), 0);

    memset(what, '"', 3000);
    line = first_line(1, what);
    ck_assert_uint_le(strlen(line), 1023);
    char *m = json_msg(line);
    ck_assert_uint_gt(strlen(m), 400);
    free(m);
    memset(what, '\xff', 3000);
    m = json_msg(first_line(1, what));
    ck_assert_uint_gt(strlen(m), 150);
    free(m);
}
END_TEST

static Suite *backtrace_suite(void)
{
    Suite *s = suite_create("backtrace");
    TCase *tc = tcase_create("lines");
    tcase_add_test(tc, test_text_escapes);
    tcase_add_test(tc, test_json_escapes);
    tcase_add_test(tc, test_plain_unchanged);
    tcase_add_test(tc, test_long_cut_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(backtrace_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
