/*
 * test_notes.c: the notes API's tests, through sluice's in-process client
 * (sluice_test.h): notes.so runs as in a worker, its start and stop hooks
 * included, without a socket or a web server.  Each test gets a fresh
 * database in the current directory.
 *
 *     make check
 *
 * The 422 bodies are FastAPI's (with Pydantic 2) for the same models.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sluice_test.h>

#define JSON(...) #__VA_ARGS__
#define TOKEN "s3cret"

static sl_test *t;
static char db[64];

static sl_test *load(void)
{
    char err[256];
    sl_test *c = sl_test_load("./notes.so", err, sizeof err);
    ck_assert_msg(c != NULL, "sl_test_load: %s", err);
    return c;
}

static void setup(void)
{
    snprintf(db, sizeof db, "test-notes-%ld.db", (long)getpid());
    setenv("NOTES_DB", db, 1);
    setenv("NOTES_TOKEN", TOKEN, 1);
    t = load();
}

static void teardown(void)
{
    char f[80];
    sl_test_free(t);
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", db, (const char *[]){"", "-wal", "-shm"}[i]);
        unlink(f);
    }
}

/* A request with the token, and a JSON body unless `json` is NULL. */
static sl_test_resp *call_on(sl_test *c, const char *method, const char *target,
                             const char *json)
{
    static const char *const h[] = {"Authorization: Bearer " TOKEN,
                                    "Content-Type: application/json", NULL};
    return sl_test_request(c, method, target, h, json, json ? strlen(json) : 0);
}

static sl_test_resp *call(const char *method, const char *target, const char *json)
{
    return call_on(t, method, target, json);
}

/* The answer has `status` and the JSON `want` (NULL: no body at all). */
static void expect(sl_test_resp *r, int status, const char *want)
{
    const char *body = sl_test_body(r, NULL);
    ck_assert_msg(sl_test_status(r) == status, "status %d, not %d: %s",
                  sl_test_status(r), status, body);
    if (want == NULL) {
        ck_assert_str_eq(body, "");
        return;
    }
    json_object *w = json_tokener_parse(want);
    ck_assert_msg(w != NULL, "the expected answer is not JSON: %s", want);
    ck_assert_msg(json_object_equal(sl_test_json(r), w), "got %s\nwant %s", body, want);
    json_object_put(w);
}

START_TEST(crud)
{
    sl_test_resp *r = call("POST", "/notes", JSON({"title": "shopping", "tags": ["home"]}));
    expect(r, 201, JSON({"id": 1, "title": "shopping", "body": "", "tags": ["home"]}));
    ck_assert_str_eq(sl_test_header(r, "Location"), "/notes/1");
    ck_assert_str_eq(sl_test_header(r, "Content-Type"), "application/json");

    expect(call("GET", "/notes/1", NULL), 200,
           JSON({"id": 1, "title": "shopping", "body": "", "tags": ["home"]}));
    /* PUT replaces every field: those not given take their defaults. */
    expect(call("PUT", "/notes/1", JSON({"title": "groceries", "body": "milk"})), 200,
           JSON({"id": 1, "title": "groceries", "body": "milk", "tags": []}));
    /* PATCH changes only the fields given; none given changes nothing. */
    expect(call("PATCH", "/notes/1", JSON({"tags": ["home", "today"]})), 200,
           JSON({"id": 1, "title": "groceries", "body": "milk", "tags": ["home", "today"]}));
    expect(call("PATCH", "/notes/1", "{}"), 200,
           JSON({"id": 1, "title": "groceries", "body": "milk", "tags": ["home", "today"]}));
    expect(call("GET", "/notes/1", NULL), 200,
           JSON({"id": 1, "title": "groceries", "body": "milk", "tags": ["home", "today"]}));

    r = call("DELETE", "/notes/1", NULL);
    expect(r, 204, NULL);
    ck_assert_ptr_null(sl_test_header(r, "Content-Type"));
    expect(call("GET", "/notes/1", NULL), 404, JSON({"detail": "Note not found"}));
    /* A deleted note's id is not given to the next one. */
    expect(call("POST", "/notes", JSON({"title": "next"})), 201,
           JSON({"id": 2, "title": "next", "body": "", "tags": []}));
}
END_TEST

START_TEST(text_kept_exactly)
{
    /* Non-ASCII, quotes, a slash, an escaped NUL: stored and answered as
     * sent (JSON's escapes spelt out: the C preprocessor would take them). */
    const char *note = "{\"title\": \"caf\\u00e9 \\\"a/b\\\"\", \"body\": \"x\\u0000y\","
                       " \"tags\": [\"\xc3\xbc" "ber\"]}";
    expect(call("POST", "/notes", note), 201,
           "{\"id\": 1, \"title\": \"caf\xc3\xa9 \\\"a/b\\\"\", \"body\": \"x\\u0000y\","
           " \"tags\": [\"\xc3\xbc" "ber\"]}");
    const char *body = sl_test_body(call("GET", "/notes/1", NULL), NULL);
    ck_assert_msg(strstr(body, "\"caf\xc3\xa9 \\\"a/b\\\"\"") != NULL, "%s", body);
    ck_assert_msg(strstr(body, "\"x\\u0000y\"") != NULL, "%s", body);
}
END_TEST

START_TEST(not_found)
{
    expect(call("GET", "/notes/7", NULL), 404, JSON({"detail": "Note not found"}));
    expect(call("PUT", "/notes/7", JSON({"title": "x"})), 404, JSON({"detail": "Note not found"}));
    expect(call("PATCH", "/notes/7", "{}"), 404, JSON({"detail": "Note not found"}));
    expect(call("DELETE", "/notes/7", NULL), 404, JSON({"detail": "Note not found"}));
    /* sluice's own errors, also in FastAPI's words */
    expect(call("GET", "/nowhere", NULL), 404, JSON({"detail": "Not Found"}));
    sl_test_resp *r = call("POST", "/notes/7", "{}");
    expect(r, 405, JSON({"detail": "Method Not Allowed"}));
    ck_assert_str_eq(sl_test_header(r, "Allow"), "GET, HEAD, PUT, PATCH, DELETE");
}
END_TEST

START_TEST(pages)
{
    char note[64], page[64];
    for (int i = 1; i <= 25; i++) {
        snprintf(note, sizeof note, "{\"title\": \"note %d\"}", i);
        ck_assert_int_eq(sl_test_status(call("POST", "/notes", note)), 201);
    }
    /* By default the first 20, in the order made. */
    json_object *a = sl_test_json(call("GET", "/notes", NULL));
    ck_assert_int_eq(json_object_array_length(a), 20);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(
        json_object_array_get_idx(a, 19), "title")), "note 20");
    ck_assert_int_eq(json_object_array_length(sl_test_json(call("GET", "/notes?offset=20", NULL))), 5);
    ck_assert_int_eq(json_object_array_length(sl_test_json(call("GET", "/notes?limit=100", NULL))), 25);
    expect(call("GET", "/notes?offset=25", NULL), 200, "[]");
    for (int off = 0; off < 25; off += 7) {
        snprintf(page, sizeof page, "/notes?limit=2&offset=%d", off);
        a = sl_test_json(call("GET", page, NULL));
        ck_assert_int_eq(json_object_array_length(a), 2);
        ck_assert_int_eq(json_object_get_int(json_object_object_get(
            json_object_array_get_idx(a, 0), "id")), off + 1);
    }
}
END_TEST

START_TEST(tag_filter)
{
    call("POST", "/notes", JSON({"title": "a", "tags": ["x"]}));
    call("POST", "/notes", JSON({"title": "b", "tags": ["x", "y"]}));
    call("POST", "/notes", JSON({"title": "c", "tags": ["y"]}));
    call("POST", "/notes", JSON({"title": "d"}));
    const struct { const char *q; const char *ids; } cases[] = {
        {"", "1234"}, {"?tag=x", "12"}, {"?tag=y", "23"}, {"?tag=x&tag=y", "2"},
        {"?tag=y&tag=x", "2"}, {"?tag=z", ""}, {"?tag=x&tag=z", ""}, {"?tag=", ""},
        {"?tag=x&limit=1&offset=1", "2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char target[64], ids[8] = "";
        snprintf(target, sizeof target, "/notes%s", cases[i].q);
        json_object *a = sl_test_json(call("GET", target, NULL));
        ck_assert_msg(a != NULL, "%s", target);
        for (size_t j = 0; j < json_object_array_length(a) && j < 7; j++)
            ids[j] = (char)('0' + json_object_get_int(json_object_object_get(
                json_object_array_get_idx(a, j), "id")));
        ck_assert_msg(strcmp(ids, cases[i].ids) == 0, "%s: notes %s, not %s", target, ids,
                      cases[i].ids);
    }
}
END_TEST

START_TEST(bad_input)
{
    expect(call("POST", "/notes", JSON({"title": ""})), 422, JSON({"detail": [
        {"type": "string_too_short", "loc": ["body", "title"],
         "msg": "String should have at least 1 character", "input": "",
         "ctx": {"min_length": 1}}]}));
    expect(call("POST", "/notes", JSON({"body": "no title"})), 422, JSON({"detail": [
        {"type": "missing", "loc": ["body", "title"], "msg": "Field required",
         "input": {"body": "no title"}}]}));
    expect(call("POST", "/notes", JSON({"title": "t", "tags": ["ok", "", 5]})), 422,
           JSON({"detail": [
        {"type": "string_too_short", "loc": ["body", "tags", 1],
         "msg": "String should have at least 1 character", "input": "",
         "ctx": {"min_length": 1}},
        {"type": "string_type", "loc": ["body", "tags", 2],
         "msg": "Input should be a valid string", "input": 5}]}));
    expect(call("PUT", "/notes/1", JSON({"title": "t", "tags": "a"})), 422, JSON({"detail": [
        {"type": "list_type", "loc": ["body", "tags"], "msg": "Input should be a valid list",
         "input": "a"}]}));
    expect(call("PATCH", "/notes/1", JSON({"tags": ["a", "a", "a", "a", "a", "a", "a", "a",
                                                    "a", "a", "a"]})), 422, JSON({"detail": [
        {"type": "too_long", "loc": ["body", "tags"],
         "msg": "List should have at most 10 items after validation, not 11",
         "input": ["a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a"],
         "ctx": {"field_type": "List", "max_length": 10, "actual_length": 11}}]}));
    expect(call("PATCH", "/notes/1", JSON({"title": null})), 422, JSON({"detail": [
        {"type": "string_type", "loc": ["body", "title"], "msg": "Input should be a valid string",
         "input": null}]}));
    expect(call("POST", "/notes", "[1]"), 422, JSON({"detail": [
        {"type": "model_attributes_type", "loc": ["body"],
         "msg": "Input should be a valid dictionary or object to extract fields from",
         "input": [1]}]}));
    expect(call("POST", "/notes", NULL), 422, JSON({"detail": [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]}));
    expect(call("GET", "/notes?limit=0&offset=-1", NULL), 422, JSON({"detail": [
        {"type": "greater_than_equal", "loc": ["query", "limit"],
         "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}},
        {"type": "greater_than_equal", "loc": ["query", "offset"],
         "msg": "Input should be greater than or equal to 0", "input": "-1", "ctx": {"ge": 0}}]}));
    expect(call("GET", "/notes?limit=101", NULL), 422, JSON({"detail": [
        {"type": "less_than_equal", "loc": ["query", "limit"],
         "msg": "Input should be less than or equal to 100", "input": "101",
         "ctx": {"le": 100}}]}));
    expect(call("GET", "/notes/abc", NULL), 422, JSON({"detail": [
        {"type": "int_parsing", "loc": ["path", "id"],
         "msg": "Input should be a valid integer, unable to parse string as an integer",
         "input": "abc"}]}));

    /* At the limits: accepted. */
    char title[101], body[10001], big[10200];
    memset(title, 't', 100);
    title[100] = '\0';
    memset(body, 'b', 10000);
    body[10000] = '\0';
    snprintf(big, sizeof big, "{\"title\": \"%s\", \"body\": \"%s\", \"tags\": "
             "[\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\", \"10\"]}",
             title, body);
    ck_assert_int_eq(sl_test_status(call("POST", "/notes", big)), 201);
    /* One character more in each: every error listed. */
    snprintf(big, sizeof big, "{\"title\": \"%st\", \"body\": \"%sb\"}", title, body);
    json_object *e = json_object_object_get(sl_test_json(call("POST", "/notes", big)), "detail");
    ck_assert_int_eq(json_object_array_length(e), 2);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(
        json_object_array_get_idx(e, 1), "msg")), "String should have at most 10000 characters");
    /* Nothing refused was stored. */
    ck_assert_int_eq(json_object_array_length(sl_test_json(call("GET", "/notes", NULL))), 1);
}
END_TEST

START_TEST(auth)
{
    static const struct { const char *header; const char *detail; } cases[] = {
        {NULL, "Not authenticated"},
        {"Authorization: Basic " TOKEN, "Not authenticated"},
        {"Authorization: Bearer", "Not authenticated"},
        {"Authorization: Bearer ", "Not authenticated"},
        {"Authorization: " TOKEN, "Not authenticated"},
        {"Authorization: Bearer wrong", "Could not validate credentials"},
        {"Authorization: Bearer " TOKEN "x", "Could not validate credentials"},
        {"Authorization: Bearer s3cre", "Could not validate credentials"},
        {"Authorization: Bearer " TOKEN " " TOKEN, "Could not validate credentials"},
    };
    const char *routes[][2] = {{"POST", "/notes"}, {"GET", "/notes"}, {"GET", "/notes/1"},
                               {"PUT", "/notes/1"}, {"PATCH", "/notes/1"},
                               {"DELETE", "/notes/1"}};
    ck_assert_int_eq(sl_test_status(call("POST", "/notes", JSON({"title": "private"}))), 201);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t j = 0; j < sizeof routes / sizeof routes[0]; j++) {
            const char *h[] = {"Content-Type: application/json", cases[i].header, NULL};
            const char *body = JSON({"title": "taken"});
            sl_test_resp *r = sl_test_request(t, routes[j][0], routes[j][1], h, body,
                                              strlen(body));
            char want[80];
            snprintf(want, sizeof want, "{\"detail\": \"%s\"}", cases[i].detail);
            expect(r, 401, want);
            ck_assert_str_eq(sl_test_header(r, "WWW-Authenticate"), "Bearer");
        }
    }
    /* The scheme in any case, spaces around the token: as FastAPI. */
    const char *h[] = {"Authorization: bEARER   " TOKEN "  ", NULL};
    expect(sl_test_request(t, "GET", "/notes/1", h, NULL, 0), 200,
           JSON({"id": 1, "title": "private", "body": "", "tags": []}));
    /* Nothing was changed without the token. */
    expect(call("GET", "/notes", NULL), 200,
           JSON([{"id": 1, "title": "private", "body": "", "tags": []}]));
}
END_TEST

/* Two clients are two workers: each opens its own connection, and both
 * see the one file. */
START_TEST(workers_share_the_file)
{
    sl_test *other = load();
    expect(call_on(other, "POST", "/notes", JSON({"title": "from one"})), 201,
           JSON({"id": 1, "title": "from one", "body": "", "tags": []}));
    expect(call("PATCH", "/notes/1", JSON({"body": "and the other"})), 200,
           JSON({"id": 1, "title": "from one", "body": "and the other", "tags": []}));
    expect(call_on(other, "GET", "/notes/1", NULL), 200,
           JSON({"id": 1, "title": "from one", "body": "and the other", "tags": []}));
    sl_test_free(other);
    expect(call("GET", "/notes/1", NULL), 200,
           JSON({"id": 1, "title": "from one", "body": "and the other", "tags": []}));
}
END_TEST

/* Workers start at once on a new file: every one of them starts (each
 * wants the file locked to switch it to WAL, and SQLite does not wait for
 * that lock, so notes.c does).  Each child process is a worker. */
START_TEST(workers_start_together)
{
    enum { WORKERS = 8, ROUNDS = 10 };
    char file[80];
    /* t stays loaded, on its own file: the workers need not load notes.so
     * anew, and so start closer together. */
    for (int round = 0; round < ROUNDS; round++) {
        int go[2];
        pid_t pid[WORKERS];
        snprintf(file, sizeof file, "%s.%d", db, round);
        setenv("NOTES_DB", file, 1);
        ck_assert_int_eq(pipe(go), 0);
        for (int i = 0; i < WORKERS; i++) {
            if ((pid[i] = fork()) == 0) {
                char c, err[256];
                close(go[1]);
                if (read(go[0], &c, 1) != 0)    /* until the parent closes it */
                    _exit(3);
                sl_test *c1 = sl_test_load("./notes.so", err, sizeof err);
                int ok = c1 != NULL && sl_test_status(call_on(c1, "GET", "/notes", NULL)) == 200;
                if (!ok)
                    fprintf(stderr, "worker %d: %s\n", i, c1 ? "GET /notes failed" : err);
                sl_test_free(c1);
                _exit(ok ? 0 : 1);
            }
            ck_assert_int_gt(pid[i], 0);
        }
        close(go[0]);
        close(go[1]);
        int started = 0;
        for (int i = 0; i < WORKERS; i++) {
            int status;
            ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
            started += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        for (int i = 0; i < 3; i++) {
            char f[96];
            snprintf(f, sizeof f, "%s%s", file, (const char *[]){"", "-wal", "-shm"}[i]);
            unlink(f);
        }
        ck_assert_msg(started == WORKERS, "round %d: %d of %d workers started", round,
                      started, WORKERS);
    }
}
END_TEST

/* The stop hook closes the file: the last connection closed checkpoints
 * the WAL into it and removes it. */
START_TEST(closed_at_stop)
{
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", db);
    expect(call("POST", "/notes", JSON({"title": "kept"})), 201,
           JSON({"id": 1, "title": "kept", "body": "", "tags": []}));
    ck_assert_int_eq(access(wal, F_OK), 0);
    sl_test_free(t);
    ck_assert_int_ne(access(wal, F_OK), 0);
    t = load();
    expect(call("GET", "/notes/1", NULL), 200,
           JSON({"id": 1, "title": "kept", "body": "", "tags": []}));
}
END_TEST

START_TEST(no_token_no_start)
{
    char err[256];
    unsetenv("NOTES_TOKEN");
    sl_test *c = sl_test_load("./notes.so", err, sizeof err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "start hook failed") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notes");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* Check's default, 4 s, is short on a loaded machine: 8 workers start 10 times. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crud);
    tcase_add_test(tc, text_kept_exactly);
    tcase_add_test(tc, not_found);
    tcase_add_test(tc, pages);
    tcase_add_test(tc, tag_filter);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, auth);
    tcase_add_test(tc, workers_share_the_file);
    tcase_add_test(tc, workers_start_together);
    tcase_add_test(tc, closed_at_stop);
    tcase_add_test(tc, no_token_no_start);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
