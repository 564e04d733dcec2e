/*
 * sbreport.c: the scoreboard read out (see scoreboard.h, "readers"): the
 * status document (JSON) and the Prometheus exposition, for the whole
 * pool, by any worker.
 *
 * Choices readers of the output should know:
 *   - histogram buckets are stored cumulatively, as Prometheus exposes
 *     them; rendering only clamps them into a monotonic sequence, since a
 *     reader may catch a request half counted;
 *   - a READY worker with requests in flight is "busy", an idle one
 *     "ready": the two never overlap, and starting + ready + busy +
 *     draining is the total of occupied slots.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "worker/scoreboard.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/* What readers call a slot's state; "busy" is READY with work. */
enum view { V_STARTING, V_READY, V_BUSY, V_DRAINING, V_VIEWS };
static const char *const view_names[V_VIEWS] = {
    "starting", "ready", "busy", "draining",
};

/* A slot as readers see it: V_VIEWS when empty. */
static enum view slot_view(const sl_sb_slot *s)
{
    switch (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) {
    case SL_SB_STARTING:
        return V_STARTING;
    case SL_SB_READY:
        return LOAD(&s->in_flight) > 0 ? V_BUSY : V_READY;
    case SL_SB_DRAINING:
        return V_DRAINING;
    default:
        return V_VIEWS;
    }
}

/* Name of route i, or NULL when the entry is not (yet) in use. */
static const sl_sb_route_name *route_name(const sl_scoreboard *sb, unsigned i)
{
    const sl_sb_route_name *e = &sb->route_names[i];
    if (i == SL_SB_ROUTE_UNMATCHED)
        return e;
    if (__atomic_load_n(&e->used, __ATOMIC_ACQUIRE) != SL_SB_NAME_READY)
        return NULL;
    return e;
}

/* The pool's slots summed: workers by view (plus empty ones), in flight,
 * bytes.  Shared by both documents so they always agree. */
struct tally {
    uint64_t views[V_VIEWS + 1];
    uint64_t in_flight, bytes_in, bytes_out;
};

static void tally(const sl_scoreboard *sb, struct tally *t)
{
    memset(t, 0, sizeof(*t));
    for (unsigned i = 0; i < sb->nslots; i++) {
        const sl_sb_slot *s = &sb->slots[i];
        t->views[slot_view(s)]++;
        t->in_flight += LOAD(&s->in_flight);
        t->bytes_in += LOAD(&s->bytes_in);
        t->bytes_out += LOAD(&s->bytes_out);
    }
}

static uint64_t since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* ---- the status document ------------------------------------------------ */

/* Add v under k; a NULL v means json-c ran out of memory.  0 or -ENOMEM. */
static int put(struct json_object *o, const char *k, struct json_object *v)
{
    if (v == NULL)
        return -ENOMEM;
    if (json_object_object_add(o, k, v) != 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

static int put_u64(struct json_object *o, const char *k, uint64_t v)
{
    return put(o, k, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

static int put_null(struct json_object *o, const char *k)
{
    return json_object_object_add(o, k, NULL) != 0 ? -1 : 0;
}

static struct json_object *worker_json(const sl_scoreboard *sb, unsigned i,
                                       enum view v, uint64_t now)
{
    const sl_sb_slot *s = &sb->slots[i];
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    int err = put_u64(o, "slot", i);
    err |= put(o, "pid", json_object_new_int(LOAD(&s->pid)));
    err |= put_u64(o, "generation", LOAD(&s->generation));
    err |= put(o, "state", json_object_new_string(view_names[v]));
    err |= put_u64(o, "requests", LOAD(&s->served));
    err |= put_u64(o, "in_flight", LOAD(&s->in_flight));
    err |= put_u64(o, "rss_bytes", LOAD(&s->rss_bytes));
    err |= put_u64(o, "started_seconds_ago", since(now, LOAD(&s->started_ms)) / 1000);
    err |= put_u64(o, "heartbeat_age_ms", since(now, LOAD(&s->heartbeat_ms)));

    uint64_t start = LOAD(&s->current_start_ms);
    uint32_t route = LOAD(&s->current_route);
    const sl_sb_route_name *name = route < SL_SB_ROUTES ? route_name(sb, route) : NULL;
    if (start == 0 || name == NULL) {
        err |= put_null(o, "current_route");
        err |= put_null(o, "current_elapsed_ms");
    } else {
        char text[SL_SB_METHOD + SL_SB_PATTERN + 1];
        if (route == SL_SB_ROUTE_UNMATCHED || route == SL_SB_ROUTE_OVERFLOW)
            snprintf(text, sizeof(text), "%s",
                     route == SL_SB_ROUTE_UNMATCHED ? "unmatched" : "overflow");
        else
            snprintf(text, sizeof(text), "%s %s", name->method, name->pattern);
        err |= put(o, "current_route", json_object_new_string(text));
        err |= put_u64(o, "current_elapsed_ms", since(now, start));
    }
    if (err) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static int workers_detail(const sl_scoreboard *sb, struct json_object *root)
{
    struct json_object *a = json_object_new_array();
    if (put(root, "workers_detail", a) != 0)
        return -ENOMEM;
    uint64_t now = sl_sb_mono_ms();
    for (unsigned i = 0; i < sb->nslots; i++) {
        enum view v = slot_view(&sb->slots[i]);
        if (v == V_VIEWS)
            continue;
        struct json_object *w = worker_json(sb, i, v, now);
        if (w == NULL || json_object_array_add(a, w) != 0) {
            json_object_put(w);
            return -ENOMEM;
        }
    }
    return 0;
}

static int status_fields(const sl_scoreboard *sb, long listen_queue,
                         struct json_object *root)
{
    const sl_sb_pool *p = &sb->pool;
    struct tally n;
    tally(sb, &n);

    char when[32];
    time_t t = (time_t)(p->start_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

    int err = put(root, "start_time", json_object_new_string(when));
    err |= put_u64(root, "uptime_seconds", since(sl_sb_wall_ms(), p->start_ms) / 1000);
    err |= put_u64(root, "accepted_requests", LOAD(&p->accepted));
    err |= put_u64(root, "in_flight", n.in_flight);
    if (listen_queue >= 0)
        err |= put(root, "listen_queue", json_object_new_int64(listen_queue));
    else
        err |= put_null(root, "listen_queue");

    struct json_object *w = json_object_new_object();
    if (put(root, "workers", w) != 0)
        w = NULL, err = -ENOMEM;    /* put freed it */
    for (int v = 0; w != NULL && v < V_VIEWS; v++)
        err |= put_u64(w, view_names[v], n.views[v]);
    if (w != NULL)
        err |= put_u64(w, "total", sb->nslots - n.views[V_VIEWS]);

    err |= put_u64(root, "max_in_flight", LOAD(&p->max_in_flight));
    err |= put_u64(root, "responses_503", LOAD(&p->rejected_503));
    err |= put_u64(root, "responses_504", LOAD(&p->timed_out_504));
    struct json_object *r = json_object_new_object();
    if (put(root, "restarts", r) != 0)
        r = NULL, err = -ENOMEM;
    for (int i = 0; r != NULL && i < SL_SB_REASONS; i++)
        err |= put_u64(r, sl_sb_reason_label((int)i), LOAD(&p->restarts[i]));
    err |= put_u64(root, "generation", LOAD(&p->generation));
    err |= put(root, "draining", json_object_new_boolean(LOAD(&p->draining) != 0));
    return err ? -ENOMEM : 0;
}

int sl_sb_status_json(const sl_scoreboard *sb, int full, long listen_queue, sl_buf *out)
{
    struct json_object *root = json_object_new_object();
    if (root == NULL)
        return -ENOMEM;
    int rc = -ENOMEM;
    if (status_fields(sb, listen_queue, root) == 0 &&
        (!full || workers_detail(sb, root) == 0)) {
        size_t len;
        const char *text = json_object_to_json_string_length(
            root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (text != NULL)
            rc = sl_buf_append(out, text, len);
    }
    json_object_put(root);
    return rc;
}

/* ---- the Prometheus exposition ------------------------------------------ */

/* Text output that remembers the first failure, so the renderers can
 * write straight through and check once at the end. */
struct text {
    sl_buf *out;
    int err;
};

static void emit(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void emit(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->err || n < 0 || sl_buf_reserve(t->out, (size_t)n + 1) != 0) {
        t->err = -ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(t->out->data + t->out->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->out->len += (size_t)n;
}

static void emit_raw(struct text *t, const char *p, size_t n)
{
    if (t->err == 0 && sl_buf_append(t->out, p, n) != 0)
        t->err = -ENOMEM;
}

/* A label value: backslash, double quote and newline escaped; the runs
 * between them are copied as they are. */
static void emit_label(struct text *t, const char *s)
{
    for (;;) {
        size_t n = strcspn(s, "\\\"\n");
        emit_raw(t, s, n);
        s += n;
        if (*s == '\0')
            return;
        emit_raw(t, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
        s++;
    }
}

static void emit_family(struct text *t, const char *name, const char *type,
                        const char *help)
{
    emit(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Microseconds as decimal seconds, exact: 2500 -> "0.0025", 10^7 -> "10". */
static void fmt_seconds(uint64_t us, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
}

/* {route="...",method="..." with no closing brace, for more labels. */
static void emit_route_labels(struct text *t, const sl_sb_route_name *e, unsigned i)
{
    emit(t, "{route=\"");
    emit_label(t, i == SL_SB_ROUTE_UNMATCHED ? "unmatched" : e->pattern);
    emit(t, "\",method=\"");
    emit_label(t, i == SL_SB_ROUTE_UNMATCHED ? "" : e->method);
    emit(t, "\"");
}

/* One route's counters summed over every slot, empty ones included. */
static void route_sum(const sl_scoreboard *sb, unsigned route, sl_sb_route_stats *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (unsigned i = 0; i < sb->nslots; i++) {
        const sl_sb_route_stats *r = &sb->slots[i].routes[route];
        for (int c = 0; c < SL_SB_CLASSES; c++)
            sum->by_class[c] += LOAD(&r->by_class[c]);
        for (int b = 0; b < SL_SB_BUCKETS; b++)
            sum->buckets[b] += LOAD(&r->buckets[b]);
        sum->count += LOAD(&r->count);
        sum->sum_us += LOAD(&r->sum_us);
    }
    /* A request caught half counted could make a bucket exceed a wider one
     * or the count; Prometheus wants them non-decreasing. */
    for (int b = 1; b < SL_SB_BUCKETS; b++)
        if (sum->buckets[b] < sum->buckets[b - 1])
            sum->buckets[b] = sum->buckets[b - 1];
    if (sum->count < sum->buckets[SL_SB_BUCKETS - 1])
        sum->count = sum->buckets[SL_SB_BUCKETS - 1];
}

static void emit_requests(struct text *t, const sl_scoreboard *sb,
                          const sl_sb_route_stats *sums)
{
    emit_family(t, "sluice_requests_total", "counter",
                "Requests answered, by route pattern, method and status class.");
    for (unsigned i = 0; i < SL_SB_ROUTES; i++) {
        const sl_sb_route_name *e = route_name(sb, i);
        for (int c = 0; e != NULL && c < SL_SB_CLASSES; c++) {
            if (sums[i].by_class[c] == 0)
                continue;
            emit(t, "sluice_requests_total");
            emit_route_labels(t, e, i);
            emit(t, ",status=\"%dxx\"} %" PRIu64 "\n", c + 1, sums[i].by_class[c]);
        }
    }
}

static void emit_histogram(struct text *t, const sl_sb_route_name *e, unsigned i,
                           const sl_sb_route_stats *r)
{
    const char *name = "sluice_request_duration_seconds";
    char num[32];
    for (int b = 0; b < SL_SB_BUCKETS; b++) {
        fmt_seconds(sl_sb_bucket_us[b], num, sizeof(num));
        emit(t, "%s_bucket", name);
        emit_route_labels(t, e, i);
        emit(t, ",le=\"%s\"} %" PRIu64 "\n", num, r->buckets[b]);
    }
    emit(t, "%s_bucket", name);
    emit_route_labels(t, e, i);
    emit(t, ",le=\"+Inf\"} %" PRIu64 "\n", r->count);
    fmt_seconds(r->sum_us, num, sizeof(num));
    emit(t, "%s_sum", name);
    emit_route_labels(t, e, i);
    emit(t, "} %s\n%s_count", num, name);
    emit_route_labels(t, e, i);
    emit(t, "} %" PRIu64 "\n", r->count);
}

static void emit_durations(struct text *t, const sl_scoreboard *sb,
                           const sl_sb_route_stats *sums)
{
    emit_family(t, "sluice_request_duration_seconds", "histogram",
                "Time from request received to response sent, by route pattern.");
    for (unsigned i = 0; i < SL_SB_ROUTES; i++) {
        const sl_sb_route_name *e = route_name(sb, i);
        if (e != NULL && sums[i].count > 0)
            emit_histogram(t, e, i, &sums[i]);
    }
}

static void emit_one(struct text *t, const char *name, const char *type,
                     const char *help, uint64_t v)
{
    emit_family(t, name, type, help);
    emit(t, "%s %" PRIu64 "\n", name, v);
}

static void emit_pool(struct text *t, const sl_scoreboard *sb)
{
    const sl_sb_pool *p = &sb->pool;
    struct tally n;
    tally(sb, &n);

    emit_one(t, "sluice_requests_in_flight", "gauge",
             "Requests being handled now.", n.in_flight);
    emit_family(t, "sluice_workers", "gauge",
                "Workers by state (busy: ready with requests in flight).");
    for (int v = 0; v < V_VIEWS; v++)
        emit(t, "sluice_workers{state=\"%s\"} %" PRIu64 "\n", view_names[v], n.views[v]);
    emit_family(t, "sluice_worker_restarts_total", "counter",
                "Workers replaced, by reason.");
    for (int i = 0; i < SL_SB_REASONS; i++)
        emit(t, "sluice_worker_restarts_total{reason=\"%s\"} %" PRIu64 "\n",
             sl_sb_reason_label((int)i), LOAD(&p->restarts[i]));
    emit_one(t, "sluice_received_bytes_total", "counter",
             "Request bytes received.", n.bytes_in);
    emit_one(t, "sluice_sent_bytes_total", "counter", "Response bytes sent.", n.bytes_out);
    emit_one(t, "sluice_accepted_requests_total", "counter",
             "Requests received.", LOAD(&p->accepted));
    emit_one(t, "sluice_responses_503_total", "counter",
             "Requests refused with 503 (overload).", LOAD(&p->rejected_503));
    emit_one(t, "sluice_responses_504_total", "counter",
             "Requests answered with 504 (timeout).", LOAD(&p->timed_out_504));

    char num[32];
    fmt_seconds(p->start_ms * 1000, num, sizeof(num));
    emit_family(t, "sluice_start_time_seconds", "gauge",
                "When the pool started, seconds since the epoch.");
    emit(t, "sluice_start_time_seconds %s\n", num);
    emit_one(t, "sluice_max_in_flight", "gauge",
             "Most requests one worker had in flight at once.",
             LOAD(&p->max_in_flight));
}

int sl_sb_metrics_text(const sl_scoreboard *sb, sl_buf *out)
{
    /* Summed once, used by two families: ~7 KB, fine on the stack. */
    sl_sb_route_stats sums[SL_SB_ROUTES];
    for (unsigned i = 0; i < SL_SB_ROUTES; i++)
        route_sum(sb, i, &sums[i]);

    struct text t = { out, 0 };
    size_t mark = out->len;
    emit_requests(&t, sb, sums);
    emit_durations(&t, sb, sums);
    emit_pool(&t, sb);
    if (t.err)
        out->len = mark;        /* nothing half written */
    return t.err;
}
