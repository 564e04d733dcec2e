/*
 * scoreboard.h: the shared table every worker writes its state into and
 * every process reads: the master to watch heartbeats, any worker to answer
 * the status and metrics documents for the whole pool.
 *
 * One anonymous shared mapping, made by the master before the first fork.
 * Each worker slot is written only by the worker that holds it (and by the
 * master when it hands the slot out or takes it back); pool-wide counters
 * are updated with atomic adds.  Readers never block writers: every field
 * is a naturally aligned integer read and written with __atomic loads and
 * stores, and a reader may see one request's counters half updated, which
 * is fine for monitoring.
 *
 * Counters in a slot are cumulative over every worker that ever held it: a
 * slot's counters are never reset, so the pool's totals (the sums over all
 * slots) only ever grow, as Prometheus counters must.  Only the per-worker
 * fields (pid, state, served, in flight, current request) start over.
 */
#ifndef SLUICE_SCOREBOARD_H
#define SLUICE_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/buf.h"

#define SL_SB_ROUTES 64            /* distinct route patterns tracked */
#define SL_SB_PATTERN 96           /* bytes of a pattern, with its NUL */
#define SL_SB_METHOD 16            /* bytes of a method, with its NUL */
#define SL_SB_BUCKETS 12           /* latency buckets, +Inf not counted */
#define SL_SB_CLASSES 5            /* status classes 1xx..5xx */

/* Upper bounds of the latency buckets, in microseconds. */
extern const uint64_t sl_sb_bucket_us[SL_SB_BUCKETS];

/* Route 0 is where requests that matched no route are counted
 * (404, 405, 422 from the router, 400/413/431 from the connection). */
#define SL_SB_ROUTE_UNMATCHED 0
/*
 * The table is bounded and never evicts.  The last route counts every
 * (method, pattern) pair that found no room ("overflow").  Pairs first
 * seen in a request (a HEAD, any method of a "*" route) take entries below
 * SL_SB_ROUTES_SEEN only: the entries above are kept for the routes a
 * worker registers at start, so that the app's routes, also those a reload
 * adds, have their rows however many methods peers send.
 */
#define SL_SB_ROUTE_OVERFLOW (SL_SB_ROUTES - 1)
#define SL_SB_ROUTES_SEEN 48

enum sl_sb_state {
    SL_SB_EMPTY = 0,
    SL_SB_STARTING,                /* forked, loading the app */
    SL_SB_READY,                   /* accepting */
    SL_SB_DRAINING,                /* stopping: finishing what it has */
    SL_SB_STATES
};

/* Why a worker was replaced. */
enum sl_sb_reason {
    SL_SB_R_CRASH = 0,             /* died on its own: signal or exit code */
    SL_SB_R_HEARTBEAT,             /* its loop stopped turning; killed */
    SL_SB_R_MAX_REQUESTS,          /* --max-requests */
    SL_SB_R_MAX_MEMORY,            /* --max-worker-memory */
    SL_SB_R_STUCK,                 /* a pool thread stuck past --timeout */
    SL_SB_R_RELOAD,                /* SIGHUP: a new generation replaced it */
    SL_SB_R_SCALE,                 /* SIGTTOU */
    SL_SB_REASONS
};

/* A reason's names, from one table: its label in the status document and
 * the metrics ("max_requests"), and its text in log lines, spelled as the
 * option that caused it ("max-requests").  "?" for a reason out of range. */
const char *sl_sb_reason_label(int reason);
const char *sl_sb_reason_text(int reason);

/* Per-route counters inside one slot. */
typedef struct sl_sb_route_stats {
    uint64_t by_class[SL_SB_CLASSES];   /* requests by status class */
    uint64_t buckets[SL_SB_BUCKETS];    /* requests with latency <= bound */
    uint64_t count;                     /* all requests (the +Inf bucket) */
    uint64_t sum_us;                    /* total latency */
} sl_sb_route_stats;

/*
 * The requests a worker has in flight, so that if it dies the master can
 * still write their access log lines (up to SL_SB_INFLIGHT of them).
 */
#define SL_SB_INFLIGHT 16

typedef struct sl_sb_inflight {
    uint64_t start_ms;                  /* wall clock; 0: a free entry */
    char method[16];
    char uri[160];
    char remote[48];
    char request_id[64];
    uint32_t route;
    uint32_t pad;
} sl_sb_inflight;

typedef struct sl_sb_slot {
    /* Per worker: reset by the master when it hands the slot out. */
    int32_t pid;
    uint32_t generation;
    uint32_t state;                     /* enum sl_sb_state */
    uint32_t in_flight;
    uint32_t conns;                     /* connections open */
    uint64_t served;                    /* requests answered by this worker */
    uint64_t started_ms;                /* when the worker was forked */
    uint64_t heartbeat_ms;              /* last turn of its loop */
    uint64_t rss_bytes;                 /* as of the last heartbeat */
    uint32_t current_route;             /* oldest running request's route */
    uint32_t retire;                    /* 0, or an enum sl_sb_reason + 1: the
                                           worker asks to be replaced */
    uint64_t current_start_ms;          /* 0: none running */
    /* Cumulative over every worker that held the slot. */
    uint64_t bytes_in;
    uint64_t bytes_out;
    sl_sb_route_stats routes[SL_SB_ROUTES];
    sl_sb_inflight inflight[SL_SB_INFLIGHT];  /* per worker */
} sl_sb_slot;

/* sl_sb_route_name.used once the entry is claimed and written. */
#define SL_SB_NAME_READY 1

typedef struct sl_sb_route_name {
    uint32_t used;                      /* 0, or SL_SB_NAME_READY once
                                           claimed (2 while written) */
    char method[SL_SB_METHOD];
    char pattern[SL_SB_PATTERN];
} sl_sb_route_name;

/* Pool-wide counters, updated with atomic adds by any process. */
typedef struct sl_sb_pool {
    uint64_t start_ms;                  /* wall clock, ms since the epoch */
    uint64_t accepted;                  /* requests received */
    uint64_t max_in_flight;             /* highest in_flight seen, any worker */
    uint64_t rejected_503;
    uint64_t timed_out_504;
    uint64_t restarts[SL_SB_REASONS];
    uint32_t generation;                /* the current generation */
    uint32_t draining;                  /* 1 while the pool is stopping */
} sl_sb_pool;

/*
 * Requests that crashed their worker a moment ago, pool-wide.  A web server
 * retries a request whose upstream connection failed on another one (nginx
 * does when the failed connection was a kept one), and a request that
 * crashed one worker crashes the next: each entry holds the digest of such
 * a request until `until_ms`, so that its retry is answered instead of run.
 * Written by the crash handler of the dying worker, so only with atomic
 * stores; readers load `latest_until` first, which is 0 whenever nothing
 * recent is recorded: one load on every other request.
 */
#define SL_SB_CRASHES 8                 /* entries, reused oldest first */
#define SL_SB_CRASH_WINDOW_MS 5000      /* how long one is remembered */

typedef struct sl_sb_crash {
    uint64_t digest;                    /* sl_sb_digest() of the request */
    uint64_t until_ms;                  /* monotonic; 0: never used */
} sl_sb_crash;

typedef struct sl_sb_crashes {
    uint64_t latest_until;              /* the highest until_ms; 0: none live */
    uint32_t next;                      /* entry the next crash takes */
    uint32_t pad;
    sl_sb_crash e[SL_SB_CRASHES];
} sl_sb_crashes;

typedef struct sl_scoreboard {
    uint32_t nslots;
    uint32_t slots_high;                /* 1 + the highest slot ever claimed:
                                           a scan of the workers stops there
                                           (each slot is pages of its own,
                                           and a page read is a page held) */
    sl_sb_crashes crashes;
    sl_sb_pool pool;
    sl_sb_route_name route_names[SL_SB_ROUTES];
    sl_sb_slot slots[];                 /* nslots of them */
} sl_scoreboard;

/* Map a scoreboard of `nslots` slots (shared, zeroed).  NULL on failure. */
sl_scoreboard *sl_sb_create(unsigned nslots);
void sl_sb_destroy(sl_scoreboard *sb);

/* Milliseconds: wall clock (for start times) and monotonic (heartbeats). */
uint64_t sl_sb_wall_ms(void);
uint64_t sl_sb_mono_ms(void);

/* ---- the master ---------------------------------------------------------- */

/* Hand a free slot to a new worker: resets its per-worker fields, state
 * STARTING.  Returns the slot index, or -ENOSPC when none is free. */
int sl_sb_slot_claim(sl_scoreboard *sb, pid_t pid, unsigned generation);
/* The worker in `slot` is gone: the slot is free again (its cumulative
 * counters stay).  `reason` < 0: not a restart (a normal stop). */
void sl_sb_slot_release(sl_scoreboard *sb, int slot, int reason);

/* ---- a worker ------------------------------------------------------------ */

/* Route index for a request's method + pattern, claiming a free entry
 * below SL_SB_ROUTES_SEEN the first time; SL_SB_ROUTE_OVERFLOW when there
 * is none.  The method is stored escaped (\xHH, see escape.h), cut to
 * SL_SB_METHOD - 1 bytes. */
unsigned sl_sb_route_id(sl_scoreboard *sb, const char *method, const char *pattern);
/* The same for a route registered when a worker starts: any free entry;
 * SL_SB_ROUTE_OVERFLOW when the table is full. */
unsigned sl_sb_route_register(sl_scoreboard *sb, const char *method, const char *pattern);
void sl_sb_set_state(sl_sb_slot *s, enum sl_sb_state state);
void sl_sb_heartbeat(sl_sb_slot *s, uint64_t rss_bytes, unsigned current_route,
                     uint64_t current_start_ms);
/* A request was received (pool-wide accepted++, in_flight++, max). */
void sl_sb_request_begin(sl_scoreboard *sb, sl_sb_slot *s);
/* A request ended: its route, status, latency and bytes. */
void sl_sb_request_end(sl_scoreboard *sb, sl_sb_slot *s, unsigned route, int status,
                       uint64_t latency_us, uint64_t bytes_in, uint64_t bytes_out);

/* ---- the crash table: every function here is async-signal-safe ------------ */

/* A 64-bit digest built from parts (FNV-1a): start from SL_SB_DIGEST_INIT
 * and fold in each part; a part's length goes in too, so ("ab", "c") and
 * ("a", "bc") differ.  `p` may be NULL when `n` is 0. */
#define SL_SB_DIGEST_INIT 0xcbf29ce484222325ull
uint64_t sl_sb_digest(uint64_t h, const void *p, size_t n);

/* The request with `digest` crashed a worker at `now_ms` (sl_sb_mono_ms()):
 * remember it for SL_SB_CRASH_WINDOW_MS.  For the crash handler. */
void sl_sb_crash_record(sl_scoreboard *sb, uint64_t digest, uint64_t now_ms);

/* Whether a crash may be recorded within its window: the one load a
 * request pays while nothing crashed lately. */
static inline int sl_sb_crash_pending(const sl_scoreboard *sb)
{
    return __atomic_load_n(&sb->crashes.latest_until, __ATOMIC_RELAXED) != 0;
}

/* 1 when a request with `digest` crashed a worker less than
 * SL_SB_CRASH_WINDOW_MS before `now_ms`, else 0.  Once every entry has
 * expired it clears latest_until, so sl_sb_crash_pending() is 0 again. */
int sl_sb_crash_seen(sl_scoreboard *sb, uint64_t digest, uint64_t now_ms);

/* ---- readers (sbreport.c) ------------------------------------------------ */

/*
 * The status document (JSON, built with json-c): start time, uptime,
 * accepted requests, in flight, listen queue (when listen_queue >= 0),
 * workers by state, max in flight, 503s and 504s, restarts by reason; with
 * `full`, one object per occupied slot.  0, or -ENOMEM.
 */
int sl_sb_status_json(const sl_scoreboard *sb, int full, long listen_queue, sl_buf *out);

/*
 * The Prometheus text exposition (format 0.0.4): requests by route pattern,
 * method and status class; a latency histogram per route pattern; in-flight
 * gauge; workers by state; restarts by reason; bytes in and out.  Label
 * values are escaped as the format requires.  0, or -ENOMEM.
 */
int sl_sb_metrics_text(const sl_scoreboard *sb, sl_buf *out);

#endif
