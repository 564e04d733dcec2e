/*
 * scoreboard.c: the shared-memory scoreboard (see scoreboard.h).
 *
 * Concurrency rules, in short:
 *   - every shared field is read and written with __atomic builtins, so a
 *     reader in another process never sees a torn integer;
 *   - a slot's per-worker fields have one writer at a time (the master
 *     while handing the slot out or taking it back, else its worker), so
 *     plain load-then-store is enough for them;
 *   - cumulative fields (bytes, route stats) and pool counters use relaxed
 *     atomic adds: a slot's next holder may add while a reader sums;
 *   - route names are claimed with a CAS on `used` (0 -> 2 while being
 *     written -> 1 with release ordering), always at the lowest free entry,
 *     and never freed, so two workers registering the same name end up on
 *     the same entry (see route_claim_at).
 *
 * Choices readers of the output should know:
 *   - histogram buckets are stored cumulatively (a request counts in every
 *     bucket whose bound is >= its latency), as the header documents and
 *     Prometheus exposes them; rendering only clamps them into a monotonic
 *     sequence, since a reader may catch a request half counted;
 *   - a READY worker with requests in flight is "busy", an idle one
 *     "ready": the two never overlap, and starting + ready + busy +
 *     draining is the total of occupied slots.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <json-c/json.h>
#include "util/escape.h"
#include "worker/scoreboard.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* used values of a route name entry */
#define ROUTE_FREE 0
#define ROUTE_READY 1
#define ROUTE_WRITING 2

/* How long to wait on an entry another process is writing (a memcpy of a
 * hundred bytes: only a writer killed mid-copy makes us give up). */
#define ROUTE_SPINS 10000

const uint64_t sl_sb_bucket_us[SL_SB_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000,
    100000, 250000, 500000, 1000000, 2500000, 10000000,
};

/* Why workers are replaced: metric labels, and words for log lines. */
static const struct reason_name {
    const char *label;
    const char *text;
} reason_names[SL_SB_REASONS] = {
    [SL_SB_R_CRASH] = {"crash", "crash"},
    [SL_SB_R_HEARTBEAT] = {"heartbeat", "heartbeat"},
    [SL_SB_R_MAX_REQUESTS] = {"max_requests", "max-requests"},
    [SL_SB_R_MAX_MEMORY] = {"max_memory", "max-worker-memory"},
    [SL_SB_R_STUCK] = {"stuck", "stuck thread"},
    [SL_SB_R_RELOAD] = {"reload", "reload"},
    [SL_SB_R_SCALE] = {"scale", "scale down"},
};

const char *sl_sb_reason_label(int reason)
{
    return reason >= 0 && reason < SL_SB_REASONS ? reason_names[reason].label : "?";
}

const char *sl_sb_reason_text(int reason)
{
    return reason >= 0 && reason < SL_SB_REASONS ? reason_names[reason].text : "?";
}

/* What readers call a slot's state; "busy" is READY with work. */
enum view { V_STARTING, V_READY, V_BUSY, V_DRAINING, V_VIEWS };
static const char *const view_names[V_VIEWS] = {
    "starting", "ready", "busy", "draining",
};

static size_t map_size(unsigned nslots)
{
    return sizeof(sl_scoreboard) + (size_t)nslots * sizeof(sl_sb_slot);
}

sl_scoreboard *sl_sb_create(unsigned nslots)
{
    if ((uint64_t)nslots * sizeof(sl_sb_slot) > SIZE_MAX - sizeof(sl_scoreboard))
        return NULL;            /* only possible with a 32-bit size_t */
    /* Anonymous mappings come zeroed: every slot EMPTY, every count 0. */
    void *p = mmap(NULL, map_size(nslots), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    sl_scoreboard *sb = p;
    sb->nslots = nslots;
    /* The overflow route is named from the start; no one claims it. */
    sl_sb_route_name *o = &sb->route_names[SL_SB_ROUTE_OVERFLOW];
    memcpy(o->pattern, "overflow", sizeof("overflow"));
    o->used = ROUTE_READY;
    sb->pool.start_ms = sl_sb_wall_ms();
    return sb;
}

void sl_sb_destroy(sl_scoreboard *sb)
{
    if (sb != NULL)
        munmap(sb, map_size(sb->nslots));
}

static uint64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t sl_sb_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }
uint64_t sl_sb_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* ---- the master ------------------------------------------------------- */

int sl_sb_slot_claim(sl_scoreboard *sb, pid_t pid, unsigned generation)
{
    uint64_t now = sl_sb_mono_ms();

    for (unsigned i = 0; i < sb->nslots; i++) {
        sl_sb_slot *s = &sb->slots[i];
        uint32_t expect = SL_SB_EMPTY;
        if (LOAD(&s->pid) != 0)
            continue;
        if (!__atomic_compare_exchange_n(&s->state, &expect, SL_SB_STARTING, 0,
                                         __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        /* Ours now: start the per-worker fields over, never the
         * cumulative ones (bytes, routes), so pool totals only grow. */
        STORE(&s->pid, (int32_t)pid);
        STORE(&s->generation, (uint32_t)generation);
        STORE(&s->in_flight, 0);
        STORE(&s->served, 0);
        STORE(&s->started_ms, now);
        STORE(&s->heartbeat_ms, now);
        STORE(&s->rss_bytes, 0);
        STORE(&s->current_route, 0);
        STORE(&s->current_start_ms, 0);
        STORE(&s->retire, 0);
        memset(s->inflight, 0, sizeof s->inflight);
        return (int)i;
    }
    return -ENOSPC;
}

void sl_sb_slot_release(sl_scoreboard *sb, int slot, int reason)
{
    if (slot < 0 || (unsigned)slot >= sb->nslots)
        return;
    sl_sb_slot *s = &sb->slots[slot];
    STORE(&s->in_flight, 0);
    STORE(&s->current_route, 0);
    STORE(&s->current_start_ms, 0);
    STORE(&s->retire, 0);
    STORE(&s->pid, 0);
    /* Last, with release: a claimer that sees EMPTY also sees pid 0. */
    __atomic_store_n(&s->state, SL_SB_EMPTY, __ATOMIC_RELEASE);
    if (reason >= 0 && reason < SL_SB_REASONS)
        ADD(&sb->pool.restarts[reason], 1);
}

/* ---- route names ------------------------------------------------------ */

/* Bytes of s kept in a field of `size` bytes: at most size - 1, backed off
 * so no UTF-8 sequence is cut in half (labels must stay valid UTF-8). */
static size_t kept_len(const char *s, size_t size)
{
    size_t n = strnlen(s, size - 1);
    if (s[n] != '\0')
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    return n;
}

static int name_eq(const char *field, size_t size, const char *s)
{
    size_t n = kept_len(s, size);
    return strnlen(field, size) == n && memcmp(field, s, n) == 0;
}

static int route_matches(const sl_sb_route_name *e, const char *method,
                         const char *pattern)
{
    return name_eq(e->method, sizeof(e->method), method) &&
           name_eq(e->pattern, sizeof(e->pattern), pattern);
}

/* Wait for an entry someone else is writing; its final `used`. */
static uint32_t route_wait(sl_sb_route_name *e)
{
    uint32_t used = __atomic_load_n(&e->used, __ATOMIC_ACQUIRE);
    for (int i = 0; used == ROUTE_WRITING && i < ROUTE_SPINS; i++) {
        sched_yield();
        used = __atomic_load_n(&e->used, __ATOMIC_ACQUIRE);
    }
    return used;
}

/*
 * Entry i: claim it when free, or report whether it holds our name.
 * Entries are claimed strictly in index order and never freed, so if
 * another process is registering the same name it is on the lowest entry
 * not yet ready, where we both stop: whoever loses the CAS waits for the
 * winner and then sees the name.  No duplicates, no lock.
 */
static int route_claim_at(sl_sb_route_name *e, const char *method,
                          const char *pattern)
{
    uint32_t expect = ROUTE_FREE;
    if (__atomic_compare_exchange_n(&e->used, &expect, ROUTE_WRITING, 0,
                                    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
        size_t m = kept_len(method, sizeof(e->method));
        size_t p = kept_len(pattern, sizeof(e->pattern));
        memcpy(e->method, method, m);
        e->method[m] = '\0';
        memcpy(e->pattern, pattern, p);
        e->pattern[p] = '\0';
        __atomic_store_n(&e->used, ROUTE_READY, __ATOMIC_RELEASE);
        return 1;
    }
    /* Ready, or being written: a writer that never finishes (killed
     * mid-copy) leaves the entry unusable, and we move on. */
    return route_wait(e) == ROUTE_READY && route_matches(e, method, pattern);
}

/*
 * Entries are in use from 1 up to the first free one, so a free entry at or
 * past `limit` means the name is not in the table and may not be added:
 * it is counted under the overflow route.  The method is a peer's bytes:
 * escaped, so that labels and the status document stay valid UTF-8.
 */
static unsigned route_find(sl_scoreboard *sb, const char *method, const char *pattern,
                           unsigned limit)
{
    char m[SL_SB_METHOD];
    sl_escape_cut(m, sizeof(m), method ? method : "");
    if (pattern == NULL)
        pattern = "";
    for (unsigned i = 1; i < SL_SB_ROUTE_OVERFLOW; i++) {
        sl_sb_route_name *e = &sb->route_names[i];
        if (i >= limit && __atomic_load_n(&e->used, __ATOMIC_ACQUIRE) == ROUTE_FREE)
            return SL_SB_ROUTE_OVERFLOW;
        if (route_claim_at(e, m, pattern))
            return i;
    }
    return SL_SB_ROUTE_OVERFLOW;
}

unsigned sl_sb_route_id(sl_scoreboard *sb, const char *method, const char *pattern)
{
    return route_find(sb, method, pattern, SL_SB_ROUTES_SEEN);
}

unsigned sl_sb_route_register(sl_scoreboard *sb, const char *method, const char *pattern)
{
    return route_find(sb, method, pattern, SL_SB_ROUTE_OVERFLOW);
}

/* ---- a worker ---------------------------------------------------------- */

void sl_sb_set_state(sl_sb_slot *s, enum sl_sb_state state)
{
    __atomic_store_n(&s->state, (uint32_t)state, __ATOMIC_RELEASE);
}

void sl_sb_heartbeat(sl_sb_slot *s, uint64_t rss_bytes, unsigned current_route,
                     uint64_t current_start_ms)
{
    STORE(&s->rss_bytes, rss_bytes);
    STORE(&s->current_route, (uint32_t)current_route);
    STORE(&s->current_start_ms, current_start_ms);
    STORE(&s->heartbeat_ms, sl_sb_mono_ms());
}

void sl_sb_request_begin(sl_scoreboard *sb, sl_sb_slot *s)
{
    ADD(&sb->pool.accepted, 1);
    uint32_t n = LOAD(&s->in_flight) + 1;
    STORE(&s->in_flight, n);

    uint64_t max = LOAD(&sb->pool.max_in_flight);
    while (n > max &&
           !__atomic_compare_exchange_n(&sb->pool.max_in_flight, &max, n, 1,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void route_count(sl_sb_route_stats *r, int status, uint64_t latency_us)
{
    int class = status / 100;
    if (class < 1 || class > SL_SB_CLASSES)
        class = SL_SB_CLASSES;      /* nonsense statuses count as errors */
    ADD(&r->by_class[class - 1], 1);
    /* Cumulative buckets: the request is in every bucket it fits under. */
    for (int i = SL_SB_BUCKETS - 1; i >= 0 && latency_us <= sl_sb_bucket_us[i]; i--)
        ADD(&r->buckets[i], 1);
    ADD(&r->count, 1);
    ADD(&r->sum_us, latency_us);
}

void sl_sb_request_end(sl_scoreboard *sb, sl_sb_slot *s, unsigned route, int status,
                       uint64_t latency_us, uint64_t bytes_in, uint64_t bytes_out)
{
    uint32_t n = LOAD(&s->in_flight);
    if (n > 0)
        STORE(&s->in_flight, --n);
    /* Idle: nothing is running, whatever the last heartbeat said. */
    if (n == 0)
        STORE(&s->current_start_ms, 0);
    STORE(&s->served, LOAD(&s->served) + 1);
    ADD(&s->bytes_in, bytes_in);
    ADD(&s->bytes_out, bytes_out);

    if (route >= SL_SB_ROUTES)
        route = SL_SB_ROUTE_UNMATCHED;
    route_count(&s->routes[route], status, latency_us);

    if (status == 503)
        ADD(&sb->pool.rejected_503, 1);
    else if (status == 504)
        ADD(&sb->pool.timed_out_504, 1);
}

/* ---- the crash table ---------------------------------------------------- */

/*
 * Written from a signal handler in the dying worker, so: no locks, no
 * allocation, only lock-free atomics (hence the assertion below).  An
 * entry's digest is stored before its until_ms, with release, and read
 * after it, with acquire, so a reader that sees the new deadline sees the
 * new digest; a reader that sees the old deadline with the new digest
 * matches a request that did crash a worker a moment ago, which is right
 * too.  Two crashes at once take different entries (the fetch-add on
 * `next`); more than SL_SB_CRASHES within the window reuse the oldest.
 */
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
               "the crash table is written from signal handlers");

uint64_t sl_sb_digest(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t len = n;
    for (int i = 0; i < 8; i++, len >>= 8) {
        h ^= len & 0xff;
        h *= 0x100000001b3ull;
    }
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void sl_sb_crash_record(sl_scoreboard *sb, uint64_t digest, uint64_t now_ms)
{
    sl_sb_crashes *c = &sb->crashes;
    uint64_t until = now_ms + SL_SB_CRASH_WINDOW_MS;
    sl_sb_crash *e = &c->e[ADD(&c->next, 1) % SL_SB_CRASHES];
    STORE(&e->digest, digest);
    __atomic_store_n(&e->until_ms, until, __ATOMIC_RELEASE);
    /* latest_until only grows here; sl_sb_crash_seen() may have zeroed it,
     * which the CAS then sees. */
    uint64_t cur = LOAD(&c->latest_until);
    while (cur < until &&
           !__atomic_compare_exchange_n(&c->latest_until, &cur, until, 1,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
}

int sl_sb_crash_seen(sl_scoreboard *sb, uint64_t digest, uint64_t now_ms)
{
    sl_sb_crashes *c = &sb->crashes;
    uint64_t latest = __atomic_load_n(&c->latest_until, __ATOMIC_ACQUIRE);
    if (latest == 0)
        return 0;
    if (latest <= now_ms) {
        /* All expired: back to one load per request.  Should a crash be
         * recorded meanwhile, latest_until has changed and the CAS fails. */
        __atomic_compare_exchange_n(&c->latest_until, &latest, 0, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        return 0;
    }
    for (int i = 0; i < SL_SB_CRASHES; i++) {
        const sl_sb_crash *e = &c->e[i];
        if (__atomic_load_n(&e->until_ms, __ATOMIC_ACQUIRE) > now_ms &&
            LOAD(&e->digest) == digest)
            return 1;
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

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
    if (__atomic_load_n(&e->used, __ATOMIC_ACQUIRE) != ROUTE_READY)
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
        err |= put_u64(r, reason_names[i].label, LOAD(&p->restarts[i]));
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
             reason_names[i].label, LOAD(&p->restarts[i]));
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
