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
 * Histogram buckets are stored cumulatively (a request counts in every
 * bucket whose bound is >= its latency), as the header documents and
 * Prometheus exposes them.  The two documents made from all this are
 * sbreport.c's.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "util/escape.h"
#include "worker/scoreboard.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* used values of a route name entry (SL_SB_NAME_READY: scoreboard.h) */
#define ROUTE_FREE 0
#define ROUTE_READY SL_SB_NAME_READY
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
        STORE(&s->conns, 0);
        STORE(&s->served, 0);
        STORE(&s->started_ms, now);
        STORE(&s->heartbeat_ms, now);
        STORE(&s->rss_bytes, 0);
        STORE(&s->current_route, 0);
        STORE(&s->current_start_ms, 0);
        STORE(&s->retire, 0);
        memset(s->inflight, 0, sizeof s->inflight);
        if (LOAD(&sb->slots_high) < i + 1)
            __atomic_store_n(&sb->slots_high, i + 1, __ATOMIC_RELEASE);
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
    STORE(&s->conns, 0);
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
