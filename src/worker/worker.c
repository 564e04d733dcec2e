/*
 * worker.c: a worker process (see worker.h): setting it up on the inherited
 * listeners, accepting, and stopping.  A request's own life is dispatch.c's;
 * the heartbeat and deadlines are watch.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif
#include "util/accesslog.h"
#include "util/backtrace.h"
#include "util/log.h"
#include "util/privs.h"
#include "worker/ctl.h"
#include "worker/worker.h"

/* The signals a worker handles on its loop (w->signals, in this order). */
static const int worker_signals[4] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1};

/* ---- stopping --------------------------------------------------------- */

/* Handles are zeroed until initialized: those are skipped. */
static void close_handle(uv_handle_t *h)
{
    if (h->loop != NULL && !uv_is_closing(h))
        uv_close(h, NULL);
}

static void read_app_stderr(sl_worker *w);

/* A hook's non-zero result is worth a line, but stops nothing. */
static void run_hook(sl_worker *w, sl_hook hook, const char *name)
{
    if (hook == NULL || !w->app_started)
        return;
    int rc = hook(w->app);
    if (rc != 0)
        sl_warn("the application's worker %s hook failed (%d%s%s)", name, rc,
                rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
}

static void unref_handle(uv_handle_t *h, void *arg)
{
    if (h != arg)
        uv_unref(h);
}

static void close_left(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/*
 * Sluice's own work is done: the stop hook runs, on the loop, whatever
 * handles the application still holds, and what it writes to stderr is
 * logged.  Handles it opens meanwhile do not keep the loop either.
 * uv_run() returns once the last connections have finished closing.
 */
static void on_finish(uv_timer_t *t)
{
    sl_worker *w = t->data;
    uv_close((uv_handle_t *)t, NULL);
    if (w->app != NULL)
        run_hook(w, w->app->on_stop, "stop");
    w->app_started = 0;
    read_app_stderr(w);
    uv_walk(&w->loop, unref_handle, NULL);
}

/* After uv_run(): close every handle still open (the application's, the
 * signals, the stderr pipe), so the loop can be closed. */
static void close_loop(sl_worker *w)
{
    read_app_stderr(w);
    uv_walk(&w->loop, close_left, NULL);
    /*
     * Closing the signal handles restored the default actions: a second
     * SIGTERM (the master's, after systemd's to the whole group) would now
     * kill a worker that is only returning.
     */
    for (int i = 0; i < w->nsignals; i++)
        signal(worker_signals[i], SIG_IGN);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/*
 * Drained: close sluice's own handles.  Handles the application opened (a
 * timer, an async, a socket of its own) must not keep the worker alive
 * until the master kills it, which would also skip the stop hook: they no
 * longer count, and the stop hook runs at the next turn (on_finish).
 */
void sl_worker_maybe_done(sl_worker *w)
{
    if (!w->conns.draining || w->conns.n > 0 || w->inflight > 0 || w->finishing)
        return;
    w->finishing = 1;
    /* The signal handles stay (unreferenced) until the end: a SIGTERM that
     * comes now finds a handler, not the default action (see on_finish). */
    close_handle((uv_handle_t *)&w->flush_async);
    close_handle((uv_handle_t *)&w->watch);
    close_handle((uv_handle_t *)&w->accept_turn);
    close_handle((uv_handle_t *)&w->accept_delay);
    close_handle((uv_handle_t *)&w->ctl_poll);
    uv_walk(&w->loop, unref_handle, &w->finish);
    uv_timer_start(&w->finish, on_finish, 0, 0);
}

static void on_accept_turn(uv_check_t *c);

/* Connections a worker takes in one turn of its loop (see on_connection). */
#define ACCEPT_PER_TURN 4

/* How many connections this worker has, for the others to compare. */
static void publish_conns(sl_worker *w)
{
    if (w->slot != NULL)
        __atomic_store_n(&w->slot->conns, w->conns.n, __ATOMIC_RELAXED);
}

static int open_listener(sl_worker *w, sl_listener *l, int fd, enum sl_proto proto);

/*
 * A worker at --max-connections stops listening, and listens again when a
 * connection of its own closes.  Pausing is not enough: libuv accepts a
 * connection before it calls back, so a worker at its limit that is still
 * watching the listener takes the next connection out of the kernel's
 * queue and can only hold it, unanswered, until one of its own closes
 * (nginx keeps upstream connections open for a minute), while another
 * worker sits idle.  Closing the handle (our duplicate of the listening
 * descriptor; the socket itself stays open in the master and the other
 * workers) leaves new connections in the queue for them.
 */
static void on_listener_closed(uv_handle_t *h)
{
    sl_listener *l = h->data;
    sl_worker *w = l->worker;
    l->at_limit = SL_LISTENER_CLOSED;
    if (l->reopen && !w->conns.draining) {
        l->reopen = 0;
        int rc = open_listener(w, l, dup(w->endpoints.listener_fds[l->index]), l->proto);
        if (rc < 0)
            sl_error("listening again on %s: %s", w->cfg->listeners[l->index].text,
                     uv_strerror(rc));
        else
            l->at_limit = 0;
    }
}

static void stop_listening_at_limit(sl_worker *w)
{
    for (int i = 0; i < w->nlisteners; i++) {
        sl_listener *l = &w->listeners[i];
        /* A paused listener holds a connection it must still take. */
        if (l->at_limit || l->paused || uv_is_closing(&l->u.handle))
            continue;
        l->at_limit = SL_LISTENER_CLOSING;
        l->reopen = 0;
        uv_close(&l->u.handle, on_listener_closed);
    }
}

static void listen_again(sl_worker *w)
{
    for (int i = 0; i < w->nlisteners; i++) {
        sl_listener *l = &w->listeners[i];
        if (l->at_limit == SL_LISTENER_CLOSING)
            l->reopen = 1;
        else if (l->at_limit == SL_LISTENER_CLOSED) {
            l->reopen = 1;
            on_listener_closed(&l->u.handle);
        }
    }
}

/* Take the connection libuv accepted on `l`; 0, or -ENOMEM when it was
 * left waiting.  Counted for this turn, whose end on_accept_turn marks. */
static int take(sl_worker *w, sl_listener *l)
{
    int rc = sl_conn_accept(&w->conns, &l->u.stream, l->proto);
    if (rc == 0) {
        w->took_this_turn++;
        publish_conns(w);
        uv_check_start(&w->accept_turn, on_accept_turn);
        if (w->conns.n >= (unsigned)w->cfg->max_connections)
            stop_listening_at_limit(w);
    }
    return rc;
}

/* Connections that waited on a paused listener are taken now. */
static void resume_accepting(sl_worker *w)
{
    for (int i = 0; i < w->nlisteners; i++) {
        sl_listener *l = &w->listeners[i];
        if (!l->paused || w->conns.draining ||
            w->conns.n >= (unsigned)w->cfg->max_connections)
            continue;
        if (take(w, l) == 0)
            l->paused = 0;
    }
}

/* The connections' host (conn.h): one of them was closed and freed. */
void sl_conns_host_gone(sl_conns *cs)
{
    sl_worker *w = sl_conns_worker(cs);
    publish_conns(w);
    resume_accepting(w);
    if (!w->conns.draining && w->conns.n < (unsigned)w->cfg->max_connections)
        listen_again(w);
    sl_worker_maybe_done(w);
}

static void start_drain(sl_worker *w)
{
    if (w->conns.draining)
        return;
    w->conns.draining = 1;
    if (w->slot != NULL)
        sl_sb_set_state(w->slot, SL_SB_DRAINING);
    sl_info("stopping: draining %u connections, %u requests in flight",
            w->conns.n, w->inflight);
    /*
     * A connection libuv accepted but we had not taken yet (see
     * on_connection) would be closed with the listener, and the request on
     * it lost: take it, serve it, then close it like the others.
     */
    for (int i = 0; i < w->nlisteners; i++) {
        sl_listener *l = &w->listeners[i];
        if (l->paused && sl_conn_accept(&w->conns, &l->u.stream, l->proto) == 0)
            l->paused = 0;
        close_handle(&l->u.handle);
    }
    /* The application winds down its own work while the loop still turns
     * for the requests in flight. */
    run_hook(w, w->app != NULL ? w->app->on_drain : NULL, "drain");
    sl_conns_drain(&w->conns);
    sl_worker_maybe_done(w);
}

static void on_signal(uv_signal_t *s, int signum)
{
    /* Log files are reopened by the master, which hands them over on the
     * control socket (on_control): a SIGUSR1 sent to a worker alone is
     * ignored rather than fatal. */
    if (signum == SIGUSR1)
        sl_debug("SIGUSR1: ignored by a worker; send it to the master");
    else
        start_drain(s->data);
}

/* ---- the master's control socket ---------------------------------------- */

/* Put a descriptor the master sent in place of ours, or drop it. */
static void take_fd(int nfd, int target)
{
    if (target >= 0 && nfd != target)
        dup2(nfd, target);
    close(nfd);
}

/* The master reopened the logs (SIGUSR1): adopt its new files. */
static void on_control(uv_poll_t *p, int status, int events)
{
    sl_worker *w = p->data;
    uint32_t what;
    int fds[SL_CTL_MAX_FDS], nfds, i = 0;
    (void)events;
    int rc = status < 0 ? status : sl_ctl_recv(w->ctl_fd, &what, fds, &nfds);
    if (rc == -EAGAIN)
        return;
    if (rc == -EBADMSG) {
        sl_warn("a malformed message on the control socket: ignored");
        return;
    }
    if (rc <= 0) {
        uv_poll_stop(p);        /* the master is gone */
        return;
    }
    if ((what & SL_CTL_ERROR_LOG) && i < nfds)
        take_fd(fds[i++], w->log_fd);
    /* An access log of "-" is the error log itself: nothing of its own. */
    if ((what & SL_CTL_ACCESS_LOG) && i < nfds)
        take_fd(fds[i++], w->access_fd >= 0 && w->access_fd != w->log_fd ? w->access_fd : -1);
    while (i < nfds)
        close(fds[i++]);
    sl_info("log files reopened");
}

static int watch_control(sl_worker *w)
{
    if (w->ctl_fd < 0)
        return 0;
    int rc = uv_poll_init(&w->loop, &w->ctl_poll, w->ctl_fd);
    if (rc < 0)
        return rc;
    w->ctl_poll.data = w;
    rc = uv_poll_start(&w->ctl_poll, UV_READABLE, on_control);
    /* Like the watch: it must not keep a draining worker alive. */
    uv_unref((uv_handle_t *)&w->ctl_poll);
    return rc;
}

/* ---- starting --------------------------------------------------------- */

void sl_worker_find_peers(sl_worker *w)
{
    w->npeers = 0;
    if (w->sb == NULL)
        return;
    /* Only the slots ever claimed: reading the others would bring their
     * untouched pages of the shared map into this worker (256 KiB). */
    unsigned high = __atomic_load_n(&w->sb->slots_high, __ATOMIC_ACQUIRE);
    if (high > w->sb->nslots)
        high = w->sb->nslots;
    for (unsigned i = 0; i < high && w->npeers < SL_WORKER_PEERS; i++) {
        const sl_sb_slot *s = &w->sb->slots[i];
        if (s != w->slot && __atomic_load_n(&s->state, __ATOMIC_RELAXED) == SL_SB_READY)
            w->peers[w->npeers++] = i;
    }
}

/*
 * Is another ready worker less busy than this one?  Then this one lets the
 * next connections go to it: it holds the one it has (libuv accepted it
 * already) a moment before taking it, and meanwhile does not watch the
 * listener, so the kernel wakes the others.  Less busy: by two requests in
 * flight, or with under half as many connections (and two fewer), so that
 * a burst of connections, taken before any of their requests is read, is
 * shared too.  The others are those the watch last found ready: a few
 * slots read, not every one of the scoreboard's.
 */
static int another_is_idler(const sl_worker *w)
{
    if (w->sb == NULL)
        return 0;
    uint32_t flight = __atomic_load_n(&w->slot->in_flight, __ATOMIC_RELAXED);
    uint32_t conns = w->conns.n;
    /* With fewer than two of either, no other worker can be idler. */
    if (flight < 2 && conns < 2)
        return 0;
    for (int i = 0; i < w->npeers; i++) {
        const sl_sb_slot *s = &w->sb->slots[w->peers[i]];
        if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) != SL_SB_READY)
            continue;
        uint32_t f = __atomic_load_n(&s->in_flight, __ATOMIC_RELAXED);
        uint32_t c = __atomic_load_n(&s->conns, __ATOMIC_RELAXED);
        if (f + 1 < flight || (c + 1 < conns && 2 * c < conns))
            return 1;
    }
    return 0;
}

static void on_accept_delay(uv_timer_t *t)
{
    resume_accepting(t->data);
}

static int any_paused(const sl_worker *w)
{
    for (int i = 0; i < w->nlisteners; i++)
        if (w->listeners[i].paused)
            return 1;
    return 0;
}

/* The end of a turn of the loop: a waiting connection is taken now, in the
 * next turn when this one took its share, or a moment later when another
 * worker is idler. */
static void on_accept_turn(uv_check_t *c)
{
    sl_worker *w = c->data;
    int took = w->took_this_turn;
    uv_check_stop(c);
    w->took_this_turn = 0;
    if (!any_paused(w))
        return;
    if (another_is_idler(w)) {
        uv_timer_start(&w->accept_delay, on_accept_delay, 2, 0);
        return;
    }
    if (took >= ACCEPT_PER_TURN) {
        uv_timer_start(&w->accept_delay, on_accept_delay, 0, 0);
        return;
    }
    resume_accepting(w);
}

static void on_connection(uv_stream_t *server, int status)
{
    sl_listener *l = server->data;
    if (status < 0) {
        sl_warn("accept: %s", uv_strerror(status));
        return;
    }
    sl_worker *w = l->worker;
    if (w->conns.draining)
        return;
    /*
     * A worker takes at most ACCEPT_PER_TURN connections per turn of its
     * loop, so that a burst of connections (nginx filling its keep-alive
     * pool) is shared among the workers instead of going to whichever woke
     * first.  Those it takes as they come, and libuv then tries the
     * listener again (and as a rule finds it empty).  One past them, or
     * one that must wait for another reason, is left unaccepted: libuv
     * stops watching this listener until uv_accept() is called, which
     * happens at the end of this turn of the loop or in the next
     * (on_accept_turn), or once a connection closes when the worker is at
     * --max-connections.  Watching it again costs two epoll_ctl calls:
     * taking one connection per turn paid them for nearly every connection
     * of a steady stream (nginx without keep-alive, or churning its pool).
     */
    if (w->took_this_turn < ACCEPT_PER_TURN && !l->paused &&
        w->conns.n < (unsigned)w->cfg->max_connections && !another_is_idler(w) &&
        take(w, l) == 0)
        return;
    if (w->conns.n >= (unsigned)w->cfg->max_connections && !l->paused)
        sl_warn("%u connections: accepting paused", w->conns.n);
    l->paused = 1;
    uv_check_start(&w->accept_turn, on_accept_turn);
}

static int open_listener(sl_worker *w, sl_listener *l, int fd, enum sl_proto proto)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc;
    l->worker = w;
    l->proto = proto;
    l->index = (int)(l - w->listeners);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_UNIX) {
        uv_pipe_init(&w->loop, &l->u.pipe, 0);
        rc = uv_pipe_open(&l->u.pipe, fd);
    } else {
        uv_tcp_init(&w->loop, &l->u.tcp);
        rc = uv_tcp_open(&l->u.tcp, fd);
    }
    l->u.handle.data = l;
    if (rc == 0)
        rc = uv_listen(&l->u.stream, w->cfg->backlog, on_connection);
    return rc;
}

static int setup_signals(sl_worker *w)
{
    for (int i = 0; i < 4; i++) {
        uv_signal_init(&w->loop, &w->signals[i]);
        w->signals[i].data = w;
        w->nsignals++;
        int rc = uv_signal_start(&w->signals[i], on_signal, worker_signals[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* What the app writes to stderr comes through a pipe and is logged a line at
 * a time, tagged with this worker like every other line. */
static void on_app_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    sl_worker *w = h->data;
    buf->base = w->conns.rbuf;
    buf->len = w->conns.rbuf_size;
}

static void log_app_lines(sl_worker *w, int flush_all)
{
    sl_buf *b = &w->app_line;
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] == '\n') {
            sl_log(SL_LOG_WARN, "app: %.*s", (int)(i - start), b->data + start);
            start = i + 1;
        }
    }
    /* A line longer than a few KiB is logged in pieces. */
    if ((flush_all || b->len - start > 4096) && start < b->len) {
        sl_log(SL_LOG_WARN, "app: %.*s", (int)(b->len - start), b->data + start);
        start = b->len;
    }
    sl_buf_consume(b, start);
}

static void on_app_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    sl_worker *w = s->data;
    if (n < 0) {
        log_app_lines(w, 1);
        uv_read_stop(s);
        return;
    }
    sl_buf_append(&w->app_line, buf->base, (size_t)n);
    log_app_lines(w, 0);
}

/*
 * What the app wrote while the loop was not reading (a start hook that
 * failed, the stop hook): read it now, to the last byte, and log it.
 */
static void read_app_stderr(sl_worker *w)
{
    uv_os_fd_t fd;
    if (!w->app_stderr_open || uv_is_closing((uv_handle_t *)&w->app_stderr) ||
        uv_fileno((uv_handle_t *)&w->app_stderr, &fd) < 0)
        return;
    fflush(stderr);
    /* The read end does not block (see capture_app_stderr). */
    for (;;) {
        ssize_t n = read(fd, w->conns.rbuf, w->conns.rbuf_size);
        if (n <= 0)
            break;
        sl_buf_append(&w->app_line, w->conns.rbuf, (size_t)n);
        log_app_lines(w, 0);
    }
    log_app_lines(w, 1);
}

static int capture_app_stderr(sl_worker *w)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    /* Only the read end: the app's writes block when the pipe is full, as
     * they would on a terminal, rather than lose lines. */
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    uv_pipe_init(&w->loop, &w->app_stderr, 0);
    w->app_stderr.data = w;
    w->app_stderr_open = 1;
    int rc = uv_pipe_open(&w->app_stderr, fds[0]);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&w->app_stderr, on_app_alloc, on_app_read);
    /* The pipe alone must not keep a draining worker alive. */
    uv_unref((uv_handle_t *)&w->app_stderr);
    return rc;
}

static void setup_ids(sl_worker *w)
{
    unsigned char r[4] = {0};
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != sizeof r) {
        unsigned v = (unsigned)getpid() * 2654435761u ^ (unsigned)uv_hrtime();
        memcpy(r, &v, sizeof r);
    }
    snprintf(w->id_prefix, sizeof w->id_prefix, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    if (w->cfg->max_requests > 0) {
        uint64_t jitter = 0;
        if (w->cfg->max_requests_jitter > 0) {
            uint32_t x;
            memcpy(&x, r, sizeof x);
            jitter = x % ((uint64_t)w->cfg->max_requests_jitter + 1);
        }
        w->max_requests = (uint64_t)w->cfg->max_requests + jitter;
    }
}

static int setup_loop(sl_worker *w)
{
    const sl_config *cfg = w->cfg;
    w->loop_thread = uv_thread_self();
    sl_buf_init(&w->app_line);
    /* The connections' read buffer also takes what the app writes to
     * stderr (on_app_alloc). */
    int rc = sl_conns_init(&w->conns, &w->loop, cfg);
    if (rc < 0)
        return rc;
    rc = uv_mutex_init(&w->flush_lock);
    if (rc == 0)
        rc = uv_cond_init(&w->flush_cond);
    if (rc == 0)
        rc = uv_async_init(&w->loop, &w->flush_async, sl_worker_on_flush_async);
    if (rc < 0)
        return rc;
    w->flush_async.data = w;
    uv_check_init(&w->loop, &w->accept_turn);
    w->accept_turn.data = w;
    uv_timer_init(&w->loop, &w->accept_delay);
    w->accept_delay.data = w;
    setup_ids(w);
    sl_watch_start(w);
    if ((rc = setup_signals(w)) < 0 || (rc = watch_control(w)) < 0)
        return rc;
    if ((rc = sl_access_open(w->cfg->access_log, w->log_fd, &w->access_fd)) < 0)
        return rc;
    return capture_app_stderr(w);
}

int sl_worker_app_start(sl_worker *w)
{
    /* Once, before the first request: served from memory from then on.
     * What the document could not say as the table does was said by the
     * master's check at warn; here at debug, not once per worker. */
    int rc = sl_apidocs_build(&w->endpoints.docs, w->app, w->cfg, SL_LOG_DEBUG);
    if (rc < 0)
        return rc;
    sl_endpoint_register_routes(&w->endpoints, w->app->router);
    /* Signed cookies: the config's secret, unless the app set its own. */
    if (w->app->secret_len == 0 && w->cfg->secret[0] != '\0')
        sl_app_set_secret(w->app, w->cfg->secret, strlen(w->cfg->secret));
    rc = w->app->on_start != NULL ? w->app->on_start(w->app) : 0;
    /* From here on the drain and stop hooks are due. */
    if (rc == 0)
        w->app_started = 1;
    /* Building the document and loading the app leave freed json-c and
     * schema scraps between what stays: handed back once, not held by
     * every idle worker (24 KiB of the demo's worker, smaps). */
    malloc_trim(0);
    return rc;
}

static int worker_init(sl_worker *w, const int *fds)
{
    const sl_config *cfg = w->cfg;
    char err[512];
    int rc = setup_loop(w);
    if (rc < 0)
        return rc;
    /* --user, --group: before the first line of application code. */
    if (sl_privs_drop(cfg->user, cfg->group, err, sizeof err) < 0) {
        sl_error("%s", err);
        return -EPERM;
    }
    w->app = sl_app_load(cfg->app_path, &w->loop, err, sizeof err);
    if (w->app == NULL) {
        read_app_stderr(w);
        sl_error("%s", err);
        return -EINVAL;
    }
    if ((rc = sl_worker_app_start(w)) != 0) {
        /* Its reason, if it wrote one, comes first. */
        read_app_stderr(w);
        sl_error("the application's worker start hook failed (%d%s%s): this worker "
                 "exits", rc, rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
        return -ECANCELED;
    }
    for (int i = 0; i < cfg->nlisteners; i++) {
        rc = open_listener(w, &w->listeners[i], dup(fds[i]), cfg->listeners[i].proto);
        w->nlisteners++;
        if (rc < 0) {
            sl_error("listen on %s: %s", cfg->listeners[i].text, uv_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static void worker_free(sl_worker *w)
{
    sl_worker_req_cache_free(w);
    uv_loop_close(&w->loop);
    uv_mutex_destroy(&w->flush_lock);
    uv_cond_destroy(&w->flush_cond);
    sl_apidocs_free(&w->endpoints.docs);
    sl_app_free(w->app);
    if (w->access_fd >= 0 && w->access_fd != w->log_fd)
        close(w->access_fd);
    sl_buf_free(&w->app_line);
    sl_buf_free(&w->answer);
    if (w->ctl_fd >= 0)
        close(w->ctl_fd);
    sl_conns_free(&w->conns);
    free(w);
}

int sl_worker_main(const sl_worker_args *args)
{
    const sl_config *cfg = args->cfg;
    char n[16];
    snprintf(n, sizeof n, "%d", cfg->threads);
    setenv("UV_THREADPOOL_SIZE", n, 1);
    /*
     * glibc gives every thread that allocates its own heap (arena); pool
     * threads allocate little, and a heap each is memory a worker keeps.
     */
    mallopt(M_ARENA_MAX, 2);
    sl_log_set_role("worker");
    /*
     * A peer that closes while we write must cost us an EPIPE on that
     * connection, not the whole worker: libuv writes to unix sockets with
     * plain write(2), which raises SIGPIPE.
     */
    signal(SIGPIPE, SIG_IGN);
    /*
     * Our own copy of the error log: standard error becomes the pipe that
     * carries the app's writes, and our lines must not go through it.
     */
    int log_fd = fcntl(args->log_fd, F_DUPFD_CLOEXEC, 3);
    if (log_fd < 0)
        log_fd = args->log_fd;
    sl_log_set_fd(log_fd);
    sl_bt_install(log_fd, cfg->log_json);
    sl_bt_on_crash(sl_worker_record_crash);
#ifdef __SANITIZE_ADDRESS__
    /* Sanitizer reports go to the log too: standard error is the app's
     * pipe, which nobody reads once the loop has stopped. */
    __sanitizer_set_report_fd((void *)(intptr_t)log_fd);
#endif
    sl_worker *w = calloc(1, sizeof *w);
    if (w == NULL || uv_loop_init(&w->loop) < 0)
        return 1;
    w->cfg = cfg;
    w->log_fd = log_fd;
    w->access_fd = -1;
    w->ctl_fd = args->ctl_fd;
    w->req_host = (sl_req_host){.flush = sl_worker_host_flush, .end = sl_worker_host_end};
    uv_timer_init(&w->loop, &w->finish);
    w->finish.data = w;
    w->sb = args->sb;
    w->slot = args->sb ? &args->sb->slots[args->slot] : NULL;
    w->endpoints = (sl_endpoints){
        .cfg = cfg, .sb = args->sb, .listener_fds = args->fds, .nlisteners = cfg->nlisteners,
    };
    int rc = worker_init(w, args->fds);
    if (rc == 0) {
        if (w->slot != NULL)
            sl_sb_set_state(w->slot, SL_SB_READY);
        sl_worker_find_peers(w);
        sl_info("worker ready: %d threads", cfg->threads);
    } else {
        /* Close what was opened so the loop can be closed cleanly. */
        w->conns.draining = 1;
        for (int i = 0; i < w->nlisteners; i++)
            close_handle(&w->listeners[i].u.handle);
        sl_worker_maybe_done(w);
    }
    /* Until drained, and the stop hook has run (on_finish). */
    uv_run(&w->loop, UV_RUN_DEFAULT);
    close_loop(w);
    /* What is written at exit (LeakSanitizer, say) goes to the log. */
    dup2(log_fd, STDERR_FILENO);
    worker_free(w);
    return rc == 0 ? 0 : 3;
}
