/*
 * watch.c: the worker's watch, a timer on its own loop.  Every tick it
 * writes the heartbeat into its scoreboard slot (the master kills a worker
 * whose heartbeat stops), enforces --timeout on the requests in flight, logs
 * --slow-request-ms requests with the stack of the thread running them, and
 * asks the master for a replacement when the worker should retire
 * (--max-requests, --max-worker-memory, a pool thread stuck long past its
 * deadline).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "util/backtrace.h"
#include "util/escape.h"
#include "util/log.h"
#include "worker/worker.h"

#define TICK_MS 100

static uint64_t rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Ask the master, once, for a replacement; it starts one, then drains us. */
void sl_worker_retire(sl_worker *w, int reason, const char *why)
{
    if (w->retiring || w->sb == NULL)
        return;
    w->retiring = 1;
    sl_info("asking to be replaced: %s", why);
    __atomic_store_n(&w->slot->retire, (uint32_t)reason + 1, __ATOMIC_RELEASE);
}

void sl_worker_check_recycle(sl_worker *w)
{
    if (w->max_requests > 0 && w->served >= w->max_requests) {
        char why[64];
        snprintf(why, sizeof why, "served %llu requests (--max-requests)",
                 (unsigned long long)w->served);
        sl_worker_retire(w, SL_SB_R_MAX_REQUESTS, why);
    }
}

/* The method and path are the peer's bytes: escaped as in the access log,
 * so that they can neither forge a line nor break a JSON one. */
static void log_slow(sl_worker *w, sl_req *req, uint64_t ms)
{
    (void)w;
    req->slow_logged = 1;
    int on_thread = __atomic_load_n(&req->on_thread, __ATOMIC_ACQUIRE);
    sl_buf m, p;
    sl_buf_init(&m);
    sl_buf_init(&p);
    int ok = sl_escape_append(&m, sl_req_method(req), 0) == 0 &&
             sl_escape_append(&p, req->path ? req->path : "?", 0) == 0;
    sl_warn("slow request: %s %s (route %s, id %s) running for %llu ms%s",
            ok ? m.data : "?", ok ? p.data : "?", sl_req_route(req),
            req->request_id, (unsigned long long)ms,
            on_thread ? "; its thread's stack follows" : "; waiting on the loop");
    sl_buf_free(&m);
    sl_buf_free(&p);
    if (on_thread)
        pthread_kill(req->thread, SL_BT_SIGNAL);
}

/* Deadlines and slow requests.  Returns 1 when it ended a request (the
 * list changed under it: scan again). */
static int check_requests(sl_worker *w, uint64_t now)
{
    const sl_config *cfg = w->cfg;
    for (sl_req *r = w->running; r != NULL; r = r->wnext) {
        uint64_t ms = (now - r->start_ns) / 1000000;
        if (cfg->timeout > 0 && !r->timed_out && ms >= (uint64_t)cfg->timeout * 1000) {
            sl_worker_time_out(w, r);
            return 1;
        }
        if (cfg->slow_request_ms > 0 && !r->slow_logged && ms >= (uint64_t)cfg->slow_request_ms)
            log_slow(w, r, ms);
        if (r->timed_out && cfg->timeout > 0 && ms >= (uint64_t)cfg->timeout * 2000 &&
            __atomic_load_n(&r->on_thread, __ATOMIC_ACQUIRE))
            sl_worker_retire(w, SL_SB_R_STUCK, "a pool thread is stuck past twice --timeout");
    }
    return 0;
}

static void heartbeat(sl_worker *w, uint64_t now)
{
    if (w->sb == NULL)
        return;
    if (++w->ticks % 10 == 1) {
        w->rss = rss_bytes();
        if (w->cfg->max_worker_memory > 0 &&
            w->rss > (uint64_t)w->cfg->max_worker_memory * 1024 * 1024)
            sl_worker_retire(w, SL_SB_R_MAX_MEMORY, "RSS past --max-worker-memory");
    }
    /* The oldest request still in flight is the one an operator asks about. */
    const sl_req *oldest = NULL;
    for (const sl_req *r = w->running; r != NULL; r = r->wnext)
        if (oldest == NULL || r->start_ns < oldest->start_ns)
            oldest = r;
    uint64_t start_ms = 0;
    if (oldest != NULL)
        start_ms = sl_sb_mono_ms() - (now - oldest->start_ns) / 1000000;
    sl_sb_heartbeat(w->slot, w->rss, oldest ? oldest->route_id : 0, start_ms);
}

/*
 * The requests kept for reuse are the last ones freed, scattered over the
 * pages a burst used, and would pin them: they go first (the cache fills
 * again within a few requests), then the heap's free pages.
 */
static void give_heap_back(sl_worker *w)
{
    sl_worker_req_cache_free(w);
    sl_buf_free(&w->answer);
    malloc_trim(0);
}

/* Queued output (w->conns.out_queued, kept by conn.c) worth a trim once
 * gone. */
#define OUT_BURST (1024 * 1024)

/*
 * After a burst (a thousand connections each holding a request, or peers
 * leaving megabytes of answers unread), the heap keeps its high-water
 * mark; a second of idleness gives it back to the system, so an idle
 * worker is small again.
 */
static void trim_when_idle(sl_worker *w)
{
    if (w->inflight > w->inflight_peak)
        w->inflight_peak = w->inflight;
    /* Also when a big burst has mostly passed, though the worker stays busy. */
    if ((w->inflight_peak >= 64 && w->inflight * 4 < w->inflight_peak) ||
        (w->conns.out_peak >= 16 * OUT_BURST && w->conns.out_queued * 4 < w->conns.out_peak)) {
        give_heap_back(w);
        w->inflight_peak = w->inflight;
        w->conns.out_peak = w->conns.out_queued;
    }
    /* Queued output counts as busy; a burst of it may also have come and
     * gone between two ticks. */
    if (w->conns.out_peak >= OUT_BURST)
        w->trim_due = 1;
    if (w->inflight > 0 || w->conns.out_queued > 0) {
        w->idle_ticks = 0;
        w->trim_due = 1;
    } else if (w->trim_due && ++w->idle_ticks >= 10) {
        give_heap_back(w);
        w->trim_due = 0;
        w->inflight_peak = 0;
        w->conns.out_peak = 0;
    }
}

static void on_tick(uv_timer_t *t)
{
    sl_worker *w = t->data;
    uint64_t now = uv_hrtime();
    while (check_requests(w, now))
        ;
    heartbeat(w, now);
    trim_when_idle(w);
    sl_worker_find_peers(w);
}

void sl_watch_start(sl_worker *w)
{
    uv_timer_init(&w->loop, &w->watch);
    w->watch.data = w;
    uv_timer_start(&w->watch, on_tick, TICK_MS, TICK_MS);
    /* The watch alone must not keep a draining worker alive. */
    uv_unref((uv_handle_t *)&w->watch);
    on_tick(&w->watch);
}
