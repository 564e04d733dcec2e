/* test_scoreboard.c: unit tests for the shared-memory scoreboard. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "worker/scoreboard.h"

static sl_scoreboard *sb;

static void setup(void)
{
    sb = sl_sb_create(4);
    ck_assert_ptr_nonnull(sb);
}

static void teardown(void)
{
    sl_sb_destroy(sb);
    sb = NULL;
}

/* One finished request on `slot`. */
static void serve(int slot, unsigned route, int status, uint64_t us)
{
    sl_sb_request_begin(sb, &sb->slots[slot]);
    sl_sb_request_end(sb, &sb->slots[slot], route, status, us, 100, 1000);
}

/* ---- layout and slots ---------------------------------------------------- */

START_TEST(test_create)
{
    ck_assert_uint_eq(sb->nslots, 4);
    uint64_t now = sl_sb_wall_ms();
    ck_assert(sb->pool.start_ms <= now && sb->pool.start_ms + 5000 > now);
    ck_assert_uint_eq(sb->pool.accepted, 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(sb->slots[i].state, SL_SB_EMPTY);
        ck_assert_int_eq(sb->slots[i].pid, 0);
    }
    ck_assert_uint_eq(sl_sb_bucket_us[0], 1000);
    ck_assert_uint_eq(sl_sb_bucket_us[1], 2500);
    ck_assert_uint_eq(sl_sb_bucket_us[SL_SB_BUCKETS - 1], 10000000);
    for (int i = 1; i < SL_SB_BUCKETS; i++)
        ck_assert_uint_gt(sl_sb_bucket_us[i], sl_sb_bucket_us[i - 1]);
    ck_assert_uint_gt(sl_sb_mono_ms(), 0);
}
END_TEST

START_TEST(test_claim_release_reuse)
{
    int a = sl_sb_slot_claim(sb, 100, 1);
    int b = sl_sb_slot_claim(sb, 101, 1);
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 1);
    sl_sb_slot *s = &sb->slots[a];
    ck_assert_uint_eq(s->state, SL_SB_STARTING);
    ck_assert_int_eq(s->pid, 100);
    ck_assert_uint_eq(s->generation, 1);
    ck_assert_uint_gt(s->heartbeat_ms, 0);

    unsigned r = sl_sb_route_id(sb, "GET", "/x");
    sl_sb_set_state(s, SL_SB_READY);
    serve(a, r, 200, 500);
    sl_sb_request_begin(sb, s);         /* left in flight when it dies */
    sl_sb_heartbeat(s, 4096, r, sl_sb_mono_ms());
    ck_assert_uint_eq(s->served, 1);
    ck_assert_uint_eq(s->in_flight, 1);

    sl_sb_slot_release(sb, a, SL_SB_R_CRASH);
    ck_assert_uint_eq(s->state, SL_SB_EMPTY);
    ck_assert_int_eq(s->pid, 0);
    ck_assert_uint_eq(s->in_flight, 0);
    ck_assert_uint_eq(s->current_start_ms, 0);
    ck_assert_uint_eq(sb->pool.restarts[SL_SB_R_CRASH], 1);

    /* The next worker gets the per-worker fields fresh, the counters kept. */
    ck_assert_int_eq(sl_sb_slot_claim(sb, 200, 2), a);
    ck_assert_int_eq(s->pid, 200);
    ck_assert_uint_eq(s->generation, 2);
    ck_assert_uint_eq(s->served, 0);
    ck_assert_uint_eq(s->in_flight, 0);
    ck_assert_uint_eq(s->rss_bytes, 0);
    ck_assert_uint_eq(s->bytes_in, 100);
    ck_assert_uint_eq(s->bytes_out, 1000);
    ck_assert_uint_eq(s->routes[r].count, 1);
    ck_assert_uint_eq(s->routes[r].by_class[1], 1);

    /* A normal stop is not a restart; bad slots and reasons are ignored. */
    sl_sb_slot_release(sb, b, -1);
    sl_sb_slot_release(sb, -1, SL_SB_R_STUCK);
    sl_sb_slot_release(sb, 4, SL_SB_R_STUCK);
    sl_sb_slot_release(sb, b, SL_SB_REASONS);
    for (int i = 0; i < SL_SB_REASONS; i++)
        ck_assert_uint_eq(sb->pool.restarts[i], i == SL_SB_R_CRASH);

    ck_assert_int_eq(sl_sb_slot_claim(sb, 300, 2), b);
    ck_assert_int_eq(sl_sb_slot_claim(sb, 301, 2), 2);
    ck_assert_int_eq(sl_sb_slot_claim(sb, 302, 2), 3);
    ck_assert_int_eq(sl_sb_slot_claim(sb, 303, 2), -ENOSPC);
}
END_TEST

/* ---- route ids ----------------------------------------------------------- */

START_TEST(test_route_ids)
{
    unsigned a = sl_sb_route_id(sb, "GET", "/items/{id:int}");
    unsigned b = sl_sb_route_id(sb, "POST", "/items/{id:int}");
    unsigned c = sl_sb_route_id(sb, "GET", "/items");
    ck_assert_uint_eq(a, 1);
    ck_assert_uint_ne(a, b);
    ck_assert_uint_ne(a, c);
    ck_assert_uint_ne(b, c);
    ck_assert_uint_eq(sl_sb_route_id(sb, "GET", "/items/{id:int}"), a);
    ck_assert_uint_eq(sl_sb_route_id(sb, "POST", "/items/{id:int}"), b);
    ck_assert_str_eq(sb->route_names[a].method, "GET");
    ck_assert_str_eq(sb->route_names[a].pattern, "/items/{id:int}");
    ck_assert_uint_eq(sb->route_names[a].used, 1);
}
END_TEST

START_TEST(test_route_table_full)
{
    char p[32];
    /* Names seen in requests fill the entries below SL_SB_ROUTES_SEEN... */
    for (unsigned i = 1; i < SL_SB_ROUTES_SEEN; i++) {
        snprintf(p, sizeof(p), "/r%u", i);
        if (sl_sb_route_id(sb, "GET", p) != i)
            ck_abort_msg("route %u got another id", i);
    }
    /* ...then go to the overflow route, which is named and never evicts. */
    ck_assert_uint_eq(sl_sb_route_id(sb, "GET", "/one-too-many"), SL_SB_ROUTE_OVERFLOW);
    ck_assert_uint_eq(sl_sb_route_id(sb, "PUT", "/r7"), SL_SB_ROUTE_OVERFLOW);
    ck_assert_uint_eq(sl_sb_route_id(sb, "GET", "/r7"), 7);
    ck_assert_str_eq(sb->route_names[SL_SB_ROUTE_OVERFLOW].pattern, "overflow");
    /* Registered routes still have their rows, up to the overflow route. */
    for (unsigned i = SL_SB_ROUTES_SEEN; i < SL_SB_ROUTE_OVERFLOW; i++) {
        snprintf(p, sizeof(p), "/app%u", i);
        if (sl_sb_route_register(sb, "GET", p) != i)
            ck_abort_msg("registered route %u got another id", i);
    }
    ck_assert_uint_eq(sl_sb_route_register(sb, "GET", "/no-room"), SL_SB_ROUTE_OVERFLOW);
    /* A registered name is found by requests, and a seen one by registering. */
    snprintf(p, sizeof(p), "/app%u", SL_SB_ROUTES_SEEN + 3);
    ck_assert_uint_eq(sl_sb_route_id(sb, "GET", p), SL_SB_ROUTES_SEEN + 3);
    ck_assert_uint_eq(sl_sb_route_register(sb, "GET", "/r9"), 9);
}
END_TEST

/* A peer's method is stored escaped: labels stay one line and UTF-8. */
START_TEST(test_route_method_escaped)
{
    unsigned r = sl_sb_route_id(sb, "A\n\xff\"", "/any");
    ck_assert_str_eq(sb->route_names[r].method, "A\\x0a\\xff\\x22");
    ck_assert_uint_eq(sl_sb_route_id(sb, "A\n\xff\"", "/any"), r);
    /* Cut before an escape that does not fit. */
    r = sl_sb_route_id(sb, "ABCDEFGHIJKL\x01", "/any");
    ck_assert_str_eq(sb->route_names[r].method, "ABCDEFGHIJKL");
}
END_TEST

START_TEST(test_route_truncated)
{
    char longp[300], longm[40];
    memset(longp, 'p', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    memset(longm, 'M', sizeof(longm) - 1);
    longm[sizeof(longm) - 1] = '\0';

    unsigned id = sl_sb_route_id(sb, longm, longp);
    ck_assert_uint_ne(id, SL_SB_ROUTE_UNMATCHED);
    ck_assert_uint_eq(strlen(sb->route_names[id].method), SL_SB_METHOD - 1);
    ck_assert_uint_eq(strlen(sb->route_names[id].pattern), SL_SB_PATTERN - 1);
    ck_assert_uint_eq(sl_sb_route_id(sb, longm, longp), id);
    /* Names alike up to the cut are one entry: documented, and harmless. */
    longp[200] = 'x';
    ck_assert_uint_eq(sl_sb_route_id(sb, longm, longp), id);

    /* A cut never splits a UTF-8 sequence: "é" straddling the limit goes. */
    char utf[SL_SB_PATTERN + 8];
    memset(utf, 'a', SL_SB_PATTERN - 2);
    strcpy(utf + SL_SB_PATTERN - 2, "\xc3\xa9zz");
    unsigned u = sl_sb_route_id(sb, "GET", utf);
    ck_assert_uint_eq(strlen(sb->route_names[u].pattern), SL_SB_PATTERN - 2);

    /* Exactly at the limit: kept whole, and different from its prefix. */
    utf[SL_SB_PATTERN - 1] = '\0';
    memset(utf, 'b', SL_SB_PATTERN - 1);
    unsigned w = sl_sb_route_id(sb, "GET", utf);
    ck_assert_str_eq(sb->route_names[w].pattern, utf);
    utf[SL_SB_PATTERN - 2] = '\0';
    ck_assert_uint_ne(sl_sb_route_id(sb, "GET", utf), w);
    ck_assert_uint_ne(sl_sb_route_id(sb, NULL, NULL), SL_SB_ROUTE_UNMATCHED);
}
END_TEST

/* ---- requests ------------------------------------------------------------- */

START_TEST(test_begin_end)
{
    int i = sl_sb_slot_claim(sb, 10, 1);
    sl_sb_slot *s = &sb->slots[i];
    unsigned r = sl_sb_route_id(sb, "GET", "/a");

    for (int k = 0; k < 3; k++)
        sl_sb_request_begin(sb, s);
    ck_assert_uint_eq(s->in_flight, 3);
    ck_assert_uint_eq(sb->pool.max_in_flight, 3);
    ck_assert_uint_eq(sb->pool.accepted, 3);
    sl_sb_heartbeat(s, 1, r, sl_sb_mono_ms());
    sl_sb_request_end(sb, s, r, 200, 1000, 10, 20);
    ck_assert_uint_ne(s->current_start_ms, 0);  /* two still running */
    sl_sb_request_end(sb, s, r, 503, 1001, 10, 20);
    sl_sb_request_end(sb, s, r, 504, 20000000, 10, 20);
    ck_assert_uint_eq(s->in_flight, 0);
    ck_assert_uint_eq(s->current_start_ms, 0);  /* idle: nothing running */
    ck_assert_uint_eq(s->served, 3);
    ck_assert_uint_eq(s->bytes_in, 30);
    ck_assert_uint_eq(s->bytes_out, 60);
    ck_assert_uint_eq(sb->pool.rejected_503, 1);
    ck_assert_uint_eq(sb->pool.timed_out_504, 1);

    /* The max is a high-water mark; in_flight never wraps below 0. */
    sl_sb_request_begin(sb, s);
    ck_assert_uint_eq(sb->pool.max_in_flight, 3);
    sl_sb_request_end(sb, s, r, 200, 1, 0, 0);
    sl_sb_request_end(sb, s, r, 200, 1, 0, 0);
    ck_assert_uint_eq(s->in_flight, 0);

    /* Cumulative buckets: 1000us is in all, 1001 in all but the first,
     * 20s in none (only the count, the +Inf bucket). */
    sl_sb_route_stats *st = &s->routes[r];
    ck_assert_uint_eq(st->count, 5);
    ck_assert_uint_eq(st->sum_us, 1000 + 1001 + 20000000 + 2);
    ck_assert_uint_eq(st->buckets[0], 3);
    for (int b = 1; b < SL_SB_BUCKETS; b++)
        ck_assert_uint_eq(st->buckets[b], 4);
    ck_assert_uint_eq(st->by_class[1], 3);
    ck_assert_uint_eq(st->by_class[4], 2);
}
END_TEST

START_TEST(test_classes_and_bad_route)
{
    int i = sl_sb_slot_claim(sb, 10, 1);
    int statuses[] = { 100, 204, 302, 404, 500, 599, 0, 99, 600, -1 };
    for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
        serve(i, SL_SB_ROUTES + 5, statuses[k], 1);
    sl_sb_route_stats *st = &sb->slots[i].routes[SL_SB_ROUTE_UNMATCHED];
    ck_assert_uint_eq(st->by_class[0], 1);
    ck_assert_uint_eq(st->by_class[1], 1);
    ck_assert_uint_eq(st->by_class[2], 1);
    ck_assert_uint_eq(st->by_class[3], 1);
    ck_assert_uint_eq(st->by_class[4], 6);
    ck_assert_uint_eq(st->count, 10);
}
END_TEST

/* ---- across processes ---------------------------------------------------- */

/* A child writes into its slot; the parent sees it: the mapping is shared. */
START_TEST(test_fork_shared)
{
    int i = sl_sb_slot_claim(sb, 0, 3);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sl_sb_slot *s = &sb->slots[i];
        unsigned r = sl_sb_route_id(sb, "GET", "/child");
        sl_sb_set_state(s, SL_SB_READY);
        serve(i, r, 201, 3000);
        sl_sb_heartbeat(s, 123456, r, 0);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sl_sb_slot *s = &sb->slots[i];
    ck_assert_uint_eq(s->state, SL_SB_READY);
    ck_assert_uint_eq(s->served, 1);
    ck_assert_uint_eq(s->rss_bytes, 123456);
    ck_assert_uint_eq(sb->pool.accepted, 1);
    ck_assert_uint_eq(sl_sb_route_id(sb, "GET", "/child"), 1);
    ck_assert_uint_eq(s->routes[1].by_class[1], 1);
    ck_assert_uint_eq(s->routes[1].buckets[1], 0);
    ck_assert_uint_eq(s->routes[1].buckets[2], 1);
}
END_TEST

/* Several processes register the same names at once and count into one
 * slot's cumulative fields: no duplicate entries, no lost counts. */
START_TEST(test_fork_concurrent)
{
    enum { KIDS = 4, N = 2000, NAMES = 8 };
    pid_t kids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] > 0)
            continue;
        char p[16];
        for (int n = 0; n < N; n++) {
            snprintf(p, sizeof(p), "/n%d", (n + k) % NAMES);
            unsigned r = sl_sb_route_id(sb, "GET", p);
            sl_sb_request_begin(sb, &sb->slots[k]);
            sl_sb_request_end(sb, &sb->slots[0], r, 200, 1, 1, 2);
        }
        _exit(0);
    }
    for (int k = 0; k < KIDS; k++) {
        int status;
        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_uint_eq(sb->pool.accepted, KIDS * N);
    ck_assert_uint_eq(sb->slots[0].bytes_out, 2 * KIDS * N);
    uint64_t total = 0;
    for (unsigned r = 1; r < SL_SB_ROUTES; r++)
        total += sb->slots[0].routes[r].count;
    ck_assert_uint_eq(total, KIDS * N);
    for (unsigned r = 1; r <= NAMES; r++)
        ck_assert_uint_eq(sb->route_names[r].used, 1);
    ck_assert_uint_eq(sb->route_names[NAMES + 1].used, 0);
}
END_TEST

/* ---- the status document ------------------------------------------------- */

static json_object *status(int full, long listen_queue)
{
    sl_buf out;
    sl_buf_init(&out);
    ck_assert_int_eq(sl_sb_status_json(sb, full, listen_queue, &out), 0);
    ck_assert_int_eq(sl_buf_append(&out, "", 1), 0);
    json_object *o = json_tokener_parse(out.data);
    ck_assert_msg(o != NULL, "not JSON: %.300s", out.data);
    ck_assert_ptr_null(strstr(out.data, "\\/"));    /* slashes left plain */
    sl_buf_free(&out);
    return o;
}

static int64_t get_int(json_object *o, const char *path)
{
    char key[64];
    snprintf(key, sizeof(key), "%s", path);
    for (char *k = key, *dot; ; k = dot + 1) {
        dot = strchr(k, '.');
        if (dot != NULL)
            *dot = '\0';
        json_object *v;
        ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", path);
        o = v;
        if (dot == NULL)
            break;
    }
    ck_assert_msg(json_object_is_type(o, json_type_int), "%s not int", path);
    return json_object_get_int64(o);
}

START_TEST(test_status_json)
{
    int a = sl_sb_slot_claim(sb, 11, 2);
    int b = sl_sb_slot_claim(sb, 12, 2);
    int c = sl_sb_slot_claim(sb, 13, 2);
    sl_sb_slot_claim(sb, 14, 2);                     /* stays starting */
    unsigned r = sl_sb_route_id(sb, "GET", "/items/{id:int}");
    sl_sb_set_state(&sb->slots[a], SL_SB_READY);
    sl_sb_set_state(&sb->slots[b], SL_SB_READY);
    sl_sb_set_state(&sb->slots[c], SL_SB_DRAINING);
    serve(a, r, 503, 10);
    serve(a, r, 504, 10);
    sl_sb_request_begin(sb, &sb->slots[b]);
    sl_sb_heartbeat(&sb->slots[b], 777, r, sl_sb_mono_ms() - 1500);
    sl_sb_slot_release(sb, c, SL_SB_R_RELOAD);
    c = sl_sb_slot_claim(sb, 15, 3);
    sl_sb_set_state(&sb->slots[c], SL_SB_DRAINING);
    sb->pool.generation = 3;
    sb->pool.start_ms = 1700000000123ULL;

    json_object *o = status(0, -1), *v;
    ck_assert_str_eq(json_object_get_string(
        json_object_object_get(o, "start_time")), "2023-11-14T22:13:20Z");
    ck_assert_int_gt(get_int(o, "uptime_seconds"), 1000000);
    ck_assert_int_eq(get_int(o, "accepted_requests"), 3);
    ck_assert_int_eq(get_int(o, "in_flight"), 1);
    ck_assert(json_object_object_get_ex(o, "listen_queue", &v) && v == NULL);
    ck_assert_int_eq(get_int(o, "workers.starting"), 1);
    ck_assert_int_eq(get_int(o, "workers.ready"), 1);
    ck_assert_int_eq(get_int(o, "workers.busy"), 1);
    ck_assert_int_eq(get_int(o, "workers.draining"), 1);
    ck_assert_int_eq(get_int(o, "workers.total"), 4);
    ck_assert_int_eq(get_int(o, "max_in_flight"), 1);
    ck_assert_int_eq(get_int(o, "responses_503"), 1);
    ck_assert_int_eq(get_int(o, "responses_504"), 1);
    ck_assert_int_eq(get_int(o, "restarts.reload"), 1);
    ck_assert_int_eq(get_int(o, "restarts.crash"), 0);
    ck_assert_int_eq(get_int(o, "restarts.scale"), 0);
    ck_assert_int_eq(get_int(o, "generation"), 3);
    ck_assert(json_object_get_boolean(json_object_object_get(o, "draining")) == 0);
    ck_assert(!json_object_object_get_ex(o, "workers_detail", NULL));
    json_object_put(o);

    sb->pool.draining = 1;
    o = status(1, 5);
    ck_assert_int_eq(get_int(o, "listen_queue"), 5);
    ck_assert(json_object_get_boolean(json_object_object_get(o, "draining")));
    json_object *d = json_object_object_get(o, "workers_detail");
    ck_assert_int_eq(json_object_array_length(d), 4);
    json_object *w = json_object_array_get_idx(d, 1);
    ck_assert_int_eq(get_int(w, "slot"), b);
    ck_assert_int_eq(get_int(w, "pid"), 12);
    ck_assert_int_eq(get_int(w, "in_flight"), 1);
    ck_assert_int_eq(get_int(w, "rss_bytes"), 777);
    ck_assert_int_le(get_int(w, "heartbeat_age_ms"), 1000);
    ck_assert_int_ge(get_int(w, "current_elapsed_ms"), 1500);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(w, "state")), "busy");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(w, "current_route")),
                     "GET /items/{id:int}");
    w = json_object_array_get_idx(d, 0);
    ck_assert_int_eq(get_int(w, "requests"), 2);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(w, "state")), "ready");
    ck_assert(json_object_object_get_ex(w, "current_route", &v) && v == NULL);
    ck_assert(json_object_object_get_ex(w, "current_elapsed_ms", &v) && v == NULL);
    w = json_object_array_get_idx(d, 2);
    ck_assert_int_eq(get_int(w, "generation"), 3);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(w, "state")), "draining");
    w = json_object_array_get_idx(d, 3);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(w, "state")), "starting");
    json_object_put(o);
}
END_TEST

/* ---- the Prometheus text ------------------------------------------------- */

static const char *name_end(const char *p, int colon)
{
    if (!(isalpha((unsigned char)*p) || *p == '_' || (colon && *p == ':')))
        return NULL;
    while (isalnum((unsigned char)*p) || *p == '_' || (colon && *p == ':'))
        p++;
    return p;
}

/* {name="value",...}: the end, or NULL when malformed. */
static const char *labels_end(const char *p)
{
    if (*p++ != '{')
        return NULL;
    while (*p != '}') {
        if ((p = name_end(p, 0)) == NULL || *p++ != '=' || *p++ != '"')
            return NULL;
        for (; *p != '"'; p++) {
            if (*p == '\0' || *p == '\n')
                return NULL;
            if (*p == '\\' && *++p != '\\' && *p != '"' && *p != 'n')
                return NULL;
        }
        p++;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

/* Is the sample's name of the family last declared by # TYPE? */
static int in_family(const char *name, size_t len, const char *family, const char *type)
{
    size_t f = strlen(family);
    if (len == f)
        return strncmp(name, family, f) == 0;
    if (strcmp(type, "histogram") != 0 || len < f || strncmp(name, family, f) != 0)
        return 0;
    const char *sfx = name + f;
    size_t n = len - f;
    return (n == 7 && !strncmp(sfx, "_bucket", 7)) || (n == 4 && !strncmp(sfx, "_sum", 4)) ||
           (n == 6 && !strncmp(sfx, "_count", 6));
}

/* The line's problem, or NULL when it is valid exposition syntax. */
static const char *check_line(const char *line, char *family, char *type)
{
    const char *e;
    if (strncmp(line, "# HELP ", 7) == 0) {
        e = name_end(line + 7, 1);
        return e != NULL && *e == ' ' ? NULL : "bad HELP";
    }
    if (strncmp(line, "# TYPE ", 7) == 0) {
        if ((e = name_end(line + 7, 1)) == NULL || *e != ' ')
            return "bad TYPE name";
        if (strcmp(e + 1, "counter") && strcmp(e + 1, "gauge") &&
            strcmp(e + 1, "histogram"))
            return "bad TYPE";
        snprintf(family, 128, "%.*s", (int)(e - line - 7), line + 7);
        snprintf(type, 16, "%s", e + 1);
        return NULL;
    }
    if ((e = name_end(line, 1)) == NULL)
        return "bad metric name";
    if (!in_family(line, (size_t)(e - line), family, type))
        return "sample outside its family";
    if (*e == '{' && (e = labels_end(e)) == NULL)
        return "bad labels";
    if (*e++ != ' ')
        return "no space before value";
    char *end;
    strtod(e, &end);
    return end != e && *end == '\0' ? NULL : "bad value";
}

/* Validate every line of a metrics dump; abort with the bad one. */
static void check_exposition(const char *text)
{
    char family[128] = "", type[16] = "", line[1024];
    size_t len = strlen(text);
    ck_assert_msg(len > 0 && text[len - 1] == '\n', "no final newline");
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
        const char *why = check_line(line, family, type);
        if (why != NULL)
            ck_abort_msg("%s: %s", why, line);
        p = nl + 1;
    }
}

static char *metrics(void)
{
    sl_buf out;
    sl_buf_init(&out);
    ck_assert_int_eq(sl_sb_metrics_text(sb, &out), 0);
    ck_assert_int_eq(sl_buf_append(&out, "", 1), 0);
    return out.data;
}

static void assert_has(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "\n%s\n", line);
    if (strstr(text, want) != NULL)
        return;
    /* The dump goes to stderr: Check caps the size of a failure message. */
    fprintf(stderr, "%s", text);
    ck_abort_msg("missing: %s", line);
}

START_TEST(test_checker_rejects)
{
    char f[128] = "m", t[16] = "counter";
    ck_assert_ptr_null(check_line("m{a=\"x\\\"y\"} 1", f, t));
    ck_assert_ptr_nonnull(check_line("m{a=\"x\"y\"} 1", f, t));
    ck_assert_ptr_nonnull(check_line("m{a=\"x\\q\"} 1", f, t));
    ck_assert_ptr_nonnull(check_line("m{1a=\"x\"} 1", f, t));
    ck_assert_ptr_nonnull(check_line("m 1x", f, t));
    ck_assert_ptr_nonnull(check_line("m_bucket 1", f, t));
    ck_assert_ptr_nonnull(check_line("9m 1", f, t));
    ck_assert_ptr_nonnull(check_line("# TYPE m thing", f, t));
}
END_TEST

START_TEST(test_metrics_empty)
{
    char *m = metrics();
    check_exposition(m);
    ck_assert_ptr_nonnull(strstr(m, "# TYPE sluice_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(m, "# TYPE sluice_request_duration_seconds histogram\n"));
    ck_assert_ptr_null(strstr(m, "sluice_requests_total{"));
    ck_assert_ptr_null(strstr(m, "_bucket{"));
    assert_has(m, "sluice_workers{state=\"busy\"} 0");
    assert_has(m, "sluice_worker_restarts_total{reason=\"scale\"} 0");
    assert_has(m, "sluice_requests_in_flight 0");
    free(m);
}
END_TEST

START_TEST(test_metrics_values)
{
    int a = sl_sb_slot_claim(sb, 11, 1);
    int b = sl_sb_slot_claim(sb, 12, 1);
    sl_sb_set_state(&sb->slots[a], SL_SB_READY);
    sl_sb_set_state(&sb->slots[b], SL_SB_READY);
    unsigned r = sl_sb_route_id(sb, "GET", "/items/{id:int}");
    serve(a, r, 200, 1500);
    serve(b, r, 200, 2500);
    serve(b, r, 404, 30000);
    serve(a, SL_SB_ROUTE_UNMATCHED, 404, 10);
    sl_sb_request_begin(sb, &sb->slots[b]);
    sl_sb_slot_release(sb, a, SL_SB_R_MAX_REQUESTS);   /* counts stay */
    sb->pool.start_ms = 1700000000123ULL;

    char *m = metrics();
    check_exposition(m);
    const char *lb = "{route=\"/items/{id:int}\",method=\"GET\"";
    char line[256];
    snprintf(line, sizeof(line), "sluice_requests_total%s,status=\"2xx\"} 2", lb);
    assert_has(m, line);
    snprintf(line, sizeof(line), "sluice_requests_total%s,status=\"4xx\"} 1", lb);
    assert_has(m, line);
    ck_assert_ptr_null(strstr(m, "status=\"5xx\""));
    assert_has(m, "sluice_requests_total{route=\"unmatched\",method=\"\",status=\"4xx\"} 1");
    struct { const char *le; int n; } want[] = {
        { "0.001", 0 }, { "0.0025", 2 }, { "0.005", 2 }, { "0.025", 2 },
        { "0.05", 3 }, { "1", 3 }, { "10", 3 }, { "+Inf", 3 },
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        snprintf(line, sizeof(line), "sluice_request_duration_seconds_bucket%s,le=\"%s\"} %d",
                 lb, want[k].le, want[k].n);
        assert_has(m, line);
    }
    snprintf(line, sizeof(line), "sluice_request_duration_seconds_sum%s} 0.034", lb);
    assert_has(m, line);
    snprintf(line, sizeof(line), "sluice_request_duration_seconds_count%s} 3", lb);
    assert_has(m, line);
    assert_has(m, "sluice_requests_in_flight 1");
    assert_has(m, "sluice_workers{state=\"busy\"} 1");
    assert_has(m, "sluice_workers{state=\"ready\"} 0");
    assert_has(m, "sluice_workers{state=\"starting\"} 0");
    assert_has(m, "sluice_worker_restarts_total{reason=\"max_requests\"} 1");
    assert_has(m, "sluice_received_bytes_total 400");
    assert_has(m, "sluice_sent_bytes_total 4000");
    assert_has(m, "sluice_accepted_requests_total 5");
    assert_has(m, "sluice_responses_503_total 0");
    assert_has(m, "sluice_start_time_seconds 1700000000.123");
    assert_has(m, "sluice_max_in_flight 1");
    free(m);
}
END_TEST

START_TEST(test_metrics_escaped)
{
    int a = sl_sb_slot_claim(sb, 11, 1);
    unsigned r = sl_sb_route_id(sb, "GET", "/a\"b\\c\nd");
    serve(a, r, 200, 1);
    char *m = metrics();
    check_exposition(m);
    assert_has(m, "sluice_requests_total{route=\"/a\\\"b\\\\c\\nd\",method=\"GET\","
                  "status=\"2xx\"} 1");
    free(m);
}
END_TEST

/* The documents are appended: what the buffer held stays in front. */
START_TEST(test_appends)
{
    sl_buf out;
    sl_buf_init(&out);
    ck_assert_int_eq(sl_buf_append_str(&out, "HEAD"), 0);
    ck_assert_int_eq(sl_sb_metrics_text(sb, &out), 0);
    ck_assert_int_eq(memcmp(out.data, "HEAD# HELP ", 11), 0);
    size_t len = out.len;
    ck_assert_int_eq(sl_sb_status_json(sb, 1, -1, &out), 0);
    ck_assert_int_eq(out.data[len], '{');
    ck_assert_int_eq(out.data[out.len - 1], '}');
    sl_buf_free(&out);
}
END_TEST

/* ---- the crash table ------------------------------------------------------- */

static uint64_t digest2(const char *a, const char *b)
{
    uint64_t h = sl_sb_digest(SL_SB_DIGEST_INIT, a, strlen(a));
    return sl_sb_digest(h, b, strlen(b));
}

START_TEST(test_crash_digest)
{
    /* Same parts, same digest; parts are delimited by their lengths. */
    ck_assert_uint_eq(digest2("GET", "/boom"), digest2("GET", "/boom"));
    ck_assert_uint_ne(digest2("GET", "/boom"), digest2("GET", "/boo"));
    ck_assert_uint_ne(digest2("ab", "c"), digest2("a", "bc"));
    ck_assert_uint_ne(digest2("", "x"), digest2("x", ""));
    /* An empty part still counts (NULL allowed when the length is 0). */
    ck_assert_uint_ne(sl_sb_digest(SL_SB_DIGEST_INIT, NULL, 0), SL_SB_DIGEST_INIT);
    ck_assert_uint_eq(sl_sb_digest(SL_SB_DIGEST_INIT, NULL, 0),
                      sl_sb_digest(SL_SB_DIGEST_INIT, "", 0));
    /* Bytes past 0x7f and NULs are hashed like any other. */
    ck_assert_uint_ne(sl_sb_digest(SL_SB_DIGEST_INIT, "a\0b", 3),
                      sl_sb_digest(SL_SB_DIGEST_INIT, "a\0c", 3));
    ck_assert_uint_ne(sl_sb_digest(SL_SB_DIGEST_INIT, "\xff", 1),
                      sl_sb_digest(SL_SB_DIGEST_INIT, "\xfe", 1));
}
END_TEST

START_TEST(test_crash_window)
{
    uint64_t t0 = 1000000, d = digest2("GET", "/boom"), other = digest2("GET", "/hello");
    ck_assert(!sl_sb_crash_pending(sb));
    ck_assert_int_eq(sl_sb_crash_seen(sb, d, t0), 0);

    sl_sb_crash_record(sb, d, t0);
    ck_assert(sl_sb_crash_pending(sb));
    ck_assert_uint_eq(sb->crashes.latest_until, t0 + SL_SB_CRASH_WINDOW_MS);
    ck_assert_int_eq(sl_sb_crash_seen(sb, d, t0), 1);
    ck_assert_int_eq(sl_sb_crash_seen(sb, d, t0 + SL_SB_CRASH_WINDOW_MS - 1), 1);
    ck_assert_int_eq(sl_sb_crash_seen(sb, other, t0 + 1), 0);
    ck_assert(sl_sb_crash_pending(sb));         /* a miss leaves it be */

    /* Expired: not seen, and the hot path is back to one load that says 0. */
    ck_assert_int_eq(sl_sb_crash_seen(sb, d, t0 + SL_SB_CRASH_WINDOW_MS), 0);
    ck_assert(!sl_sb_crash_pending(sb));
    ck_assert_int_eq(sl_sb_crash_seen(sb, d, t0 + 1), 0);

    /* A later crash opens it again, for its own window. */
    uint64_t t1 = t0 + 60000;
    sl_sb_crash_record(sb, other, t1);
    ck_assert(sl_sb_crash_pending(sb));
    ck_assert_int_eq(sl_sb_crash_seen(sb, other, t1 + 10), 1);
    ck_assert_int_eq(sl_sb_crash_seen(sb, d, t1 + 10), 0);
}
END_TEST

START_TEST(test_crash_latest_grows)
{
    /* Two crashes: the window stays open until the later one expires. */
    uint64_t t0 = 5000000;
    sl_sb_crash_record(sb, 1, t0 + 3000);
    sl_sb_crash_record(sb, 2, t0);          /* recorded late, with an older now */
    ck_assert_uint_eq(sb->crashes.latest_until, t0 + 3000 + SL_SB_CRASH_WINDOW_MS);
    uint64_t t = t0 + SL_SB_CRASH_WINDOW_MS + 1;
    ck_assert_int_eq(sl_sb_crash_seen(sb, 2, t), 0);
    ck_assert_int_eq(sl_sb_crash_seen(sb, 1, t), 1);
    ck_assert(sl_sb_crash_pending(sb));
}
END_TEST

START_TEST(test_crash_ring)
{
    /* One more crash than entries: the oldest is forgotten, no other. */
    uint64_t t0 = 2000000;
    for (uint64_t i = 0; i <= SL_SB_CRASHES; i++)
        sl_sb_crash_record(sb, 100 + i, t0 + i);
    uint64_t t = t0 + SL_SB_CRASHES + 1;
    ck_assert_int_eq(sl_sb_crash_seen(sb, 100, t), 0);
    for (uint64_t i = 1; i <= SL_SB_CRASHES; i++)
        ck_assert_int_eq(sl_sb_crash_seen(sb, 100 + i, t), 1);
}
END_TEST

/* The way a worker records: from a signal handler, in another process. */
static volatile uint64_t crash_digest;

static void record_from_handler(int sig)
{
    (void)sig;
    sl_sb_crash_record(sb, crash_digest, sl_sb_mono_ms());
}

START_TEST(test_crash_from_signal_handler)
{
    crash_digest = digest2("POST", "/boom");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = record_from_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(sl_sb_crash_pending(sb));
    ck_assert_int_eq(sl_sb_crash_seen(sb, crash_digest, sl_sb_mono_ms()), 1);
    ck_assert_int_eq(sl_sb_crash_seen(sb, digest2("POST", "/boo"), sl_sb_mono_ms()), 0);
}
END_TEST

static TCase *crash_tcase(void)
{
    TCase *tc = tcase_create("crashes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_crash_digest);
    tcase_add_test(tc, test_crash_window);
    tcase_add_test(tc, test_crash_latest_grows);
    tcase_add_test(tc, test_crash_ring);
    tcase_add_test(tc, test_crash_from_signal_handler);
    return tc;
}

static Suite *scoreboard_suite(void)
{
    Suite *s = suite_create("scoreboard");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_create);
    tcase_add_test(tc, test_claim_release_reuse);
    tcase_add_test(tc, test_route_ids);
    tcase_add_test(tc, test_route_table_full);
    tcase_add_test(tc, test_route_method_escaped);
    tcase_add_test(tc, test_route_truncated);
    tcase_add_test(tc, test_begin_end);
    tcase_add_test(tc, test_classes_and_bad_route);
    tcase_add_test(tc, test_fork_shared);
    tcase_add_test(tc, test_fork_concurrent);
    tcase_add_test(tc, test_status_json);
    tcase_add_test(tc, test_checker_rejects);
    tcase_add_test(tc, test_metrics_empty);
    tcase_add_test(tc, test_metrics_values);
    tcase_add_test(tc, test_metrics_escaped);
    tcase_add_test(tc, test_appends);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, crash_tcase());
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scoreboard_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
