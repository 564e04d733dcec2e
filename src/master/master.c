/*
 * master.c: the master process (see master.h).
 *
 * The master has no event loop: it blocks every signal it cares about and
 * takes them one at a time with sigtimedwait(), so no handler ever runs in
 * the middle of its bookkeeping.  Between signals, a tick every 200 ms
 * reaps, respawns, watches heartbeats and retire requests in the
 * scoreboard, and moves a reload along.
 *
 * Workers belong to a generation.  A reload (SIGHUP) starts a whole new
 * generation and drains the old one only once every new worker is ready; a
 * worker that asks to retire gets its replacement ready before it is told
 * to drain.  So the listeners always have a ready worker behind them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "api/app.h"
#include "master/listen.h"
#include "master/master.h"
#include "master/pidfile.h"
#include "master/systemd.h"
#include "util/accesslog.h"
#include "util/backtrace.h"
#include "util/log.h"
#include "worker/apidocs.h"
#include "util/privs.h"
#include "worker/ctl.h"
#include "worker/scoreboard.h"
#include "worker/worker.h"

/* Crash storm: this many deaths within STORM_WINDOW seconds slow respawns. */
#define STORM_DEATHS 5
#define STORM_WINDOW_MS 10000
#define STORM_PAUSE_MS 2000
/* A stuck worker gets this long to write its stacks before SIGKILL. */
#define DUMP_GRACE_MS 1000
/* A new generation must be ready within this, or the reload is abandoned. */
#define RELOAD_TIMEOUT_MS 60000

typedef struct worker_rec {
    pid_t pid;                  /* 0: a free record */
    int slot;                   /* its scoreboard slot */
    unsigned generation;
    int leaving;                /* told to drain */
    int reason;                 /* why it leaves (enum sl_sb_reason), -1: stop */
    pid_t replacement;          /* started to replace it (a retire request) */
    uint64_t kill_at;           /* heartbeat lost: SIGKILL at this time */
    uint64_t leave_by;          /* leaving: SIGKILL past this time */
    int ctl;                    /* our end of its control socket; -1: none */
} worker_rec;

typedef struct sl_master {
    sl_config *cfg;             /* owned; replaced by a reload */
    int argc;
    char **argv;
    int fds[SL_MAX_LISTENERS];
    int nfds;
    worker_rec w[SL_MAX_WORKERS];
    int want;                   /* workers of the current generation */
    unsigned gen;
    sl_scoreboard *sb;
    /* A reload in progress: the new generation and its config. */
    sl_config *new_cfg;
    unsigned new_gen;
    uint64_t reload_deadline;
    int stopping;
    uint64_t stop_deadline;
    int killed;                 /* SIGKILL sent after the deadline */
    uint64_t deaths[STORM_DEATHS];  /* ring of recent unexpected deaths */
    int ndeaths;
    uint64_t respawn_at;
    int ready_notified;
    /* Start-up: until a worker of the first generation is ready, a worker
     * that dies is not replaced; if none gets ready, sluice gives up. */
    int proven;                 /* a worker of the first generation got ready */
    int start_failures;         /* ... workers of it that died before that */
    int failed;                 /* gave up: exit 1 */
    char pidfile[4096];         /* the one we wrote ("": none); a reload may
                                   name another, but this is ours to remove */
    int access_fd;              /* -1: no access log */
    sigset_t oldmask;
} sl_master;

static const int master_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP,
                                     SIGTTIN, SIGTTOU, SIGUSR1};
#define NSIGNALS (sizeof master_signals / sizeof *master_signals)

static uint64_t now_ms(void)
{
    return sl_sb_mono_ms();
}

static sl_sb_slot *slot_of(const sl_master *m, const worker_rec *r)
{
    return &m->sb->slots[r->slot];
}

static uint32_t slot_state(const sl_master *m, const worker_rec *r)
{
    return __atomic_load_n(&slot_of(m, r)->state, __ATOMIC_ACQUIRE);
}

static worker_rec *find_pid(sl_master *m, pid_t pid)
{
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid == pid && pid > 0)
            return &m->w[i];
    return NULL;
}

/* Workers of generation `gen` that are not leaving. */
static int count_active(const sl_master *m, unsigned gen)
{
    int n = 0;
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        n += m->w[i].pid > 0 && m->w[i].generation == gen && !m->w[i].leaving;
    return n;
}

static int count_live(const sl_master *m)
{
    int n = 0;
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        n += m->w[i].pid > 0;
    return n;
}

/* In the child: undo the master's signal setup before anything else. */
static void child_signals(const sl_master *m)
{
    for (size_t i = 0; i < NSIGNALS; i++)
        signal(master_signals[i], SIG_DFL);
    sigprocmask(SIG_SETMASK, &m->oldmask, NULL);
    /* A worker must not outlive a master killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/*
 * In a child: the other workers' control sockets are not its business (and
 * would let application code speak to them as if it were the master).
 */
static void close_channels(const sl_master *m)
{
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid > 0 && m->w[i].ctl >= 0)
            close(m->w[i].ctl);
}

/*
 * Load the application once in a throwaway child, so a bad APP is reported
 * before anything is bound (or before a reload is begun), and the master
 * itself runs no app code.  The child runs sluice_app() as the workers'
 * user, as the workers will: never as the master's.
 */
static int check_app(sl_master *m, const sl_config *cfg)
{
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        sl_error("fork: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        char err[512];
        child_signals(m);
        close_channels(m);
        if (sl_privs_drop(cfg->user, cfg->group, err, sizeof err) < 0) {
            sl_error("%s", err);
            _exit(1);
        }
        sl_app *app = sl_app_load(cfg->app_path, NULL, err, sizeof err);
        if (app == NULL) {
            sl_error("%s", err);
            _exit(1);
        }
        /* What the OpenAPI document cannot say as the table does is
         * warned about here, once, not by every worker. */
        sl_apidocs docs;
        if (sl_apidocs_build(&docs, app, cfg, SL_LOG_WARN) < 0)
            sl_warn("the OpenAPI document: out of memory");
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* The child logged why. */
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOEXEC;
}

static pid_t spawn(sl_master *m, const sl_config *cfg, unsigned gen)
{
    worker_rec *r = NULL;
    for (int i = 0; r == NULL && i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid == 0)
            r = &m->w[i];
    int slot = r ? sl_sb_slot_claim(m->sb, 0, gen) : -ENOSPC;
    if (slot < 0) {
        sl_error("no free worker slot: not starting a worker");
        return slot;
    }
    /* The channel the master hands the worker its reopened logs on. */
    int ctl[2], e = sl_ctl_pair(ctl);
    if (e < 0)
        sl_warn("socketpair: %s: this worker will not follow a log rotation",
                strerror(-e));
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        sl_error("fork: %s", strerror(err));
        sl_sb_slot_release(m->sb, slot, -1);
        if (ctl[0] >= 0) {
            close(ctl[0]);
            close(ctl[1]);
        }
        return -err;
    }
    if (pid == 0) {
        child_signals(m);
        close_channels(m);
        if (ctl[0] >= 0)
            close(ctl[0]);
        sl_worker_args args = {cfg, m->fds, m->sb, slot, STDERR_FILENO, ctl[1]};
        /* exit(), not _exit(): LeakSanitizer checks the worker at exit. */
        exit(sl_worker_main(&args));
    }
    if (ctl[1] >= 0)
        close(ctl[1]);
    __atomic_store_n(&m->sb->slots[slot].pid, pid, __ATOMIC_RELEASE);
    memset(r, 0, sizeof *r);
    r->ctl = ctl[0];
    r->pid = pid;
    r->slot = slot;
    r->generation = gen;
    r->reason = -1;
    sl_info("started worker %ld (generation %u)", (long)pid, gen);
    return pid;
}

/* Tell a worker to drain and exit, for `reason` (-1: the pool stops). */
static void retire(sl_master *m, worker_rec *r, int reason)
{
    if (r->leaving)
        return;
    r->leaving = 1;
    r->reason = reason;
    /* A drain is bounded like a stop: a request that never ends (a stuck
     * pool thread) must not keep the worker forever. */
    r->leave_by = now_ms() + (uint64_t)m->cfg->graceful_timeout * 1000;
    kill(r->pid, SIGTERM);
}

static void watch_leaving(sl_master *m, worker_rec *r)
{
    (void)m;
    if (r->leaving && r->leave_by != 0 && now_ms() >= r->leave_by) {
        sl_warn("worker %ld did not drain within --graceful-timeout: killing it",
                (long)r->pid);
        kill(r->pid, SIGKILL);
        r->leave_by = 0;
    }
}

/*
 * More workers than wanted (a replacement whose worker went away before it
 * was ready, say): the newest surplus one drains.  Workers waiting for a
 * replacement to get ready do not count, their replacements do.
 */
static void trim_surplus(sl_master *m)
{
    int active = 0;
    for (int i = 0; i < SL_MAX_WORKERS; i++) {
        const worker_rec *r = &m->w[i];
        if (r->pid > 0 && r->generation == m->gen && !r->leaving &&
            !(r->replacement > 0 && find_pid(m, r->replacement) != NULL))
            active++;
    }
    for (int i = SL_MAX_WORKERS - 1; i >= 0 && active > m->want; i--) {
        worker_rec *r = &m->w[i];
        if (r->pid > 0 && r->generation == m->gen && !r->leaving && r->replacement == 0) {
            retire(m, r, SL_SB_R_SCALE);
            active--;
        }
    }
}

static void log_exit(const worker_rec *r, int status, int expected)
{
    int level = expected ? SL_LOG_INFO : SL_LOG_ERROR;
    const char *why = r->reason >= 0 ? sl_sb_reason_text(r->reason) : "stop";
    if (WIFSIGNALED(status))
        sl_log(level, "worker %ld killed by signal %d (%s)%s%s", (long)r->pid,
               WTERMSIG(status), strsignal(WTERMSIG(status)),
               expected ? "; it was leaving: " : "", expected ? why : "");
    else
        sl_log(level, "worker %ld exited with status %d%s%s", (long)r->pid,
               WEXITSTATUS(status), expected ? "; it was leaving: " : "",
               expected ? why : "");
}

/* Remember an unexpected death; past the storm threshold, back off. */
static void note_death(sl_master *m)
{
    uint64_t t = now_ms();
    memmove(m->deaths + 1, m->deaths, sizeof m->deaths - sizeof *m->deaths);
    m->deaths[0] = t;
    if (m->ndeaths < STORM_DEATHS)
        m->ndeaths++;
    if (m->ndeaths == STORM_DEATHS && t - m->deaths[STORM_DEATHS - 1] < STORM_WINDOW_MS) {
        m->respawn_at = t + STORM_PAUSE_MS;
        sl_warn("%d workers died within %d s: waiting %d s before the next respawn",
                STORM_DEATHS, STORM_WINDOW_MS / 1000, STORM_PAUSE_MS / 1000);
    }
}

/*
 * The requests a dead worker had in flight get their access log lines all
 * the same: the web server answered them 502.
 */
static void log_lost_requests(sl_master *m, const worker_rec *r)
{
    if (m->access_fd < 0)
        return;
    uint64_t now = sl_sb_wall_ms();
    sl_sb_slot *s = slot_of(m, r);
    for (int i = 0; i < SL_SB_INFLIGHT; i++) {
        sl_sb_inflight *e = &s->inflight[i];
        uint64_t start = __atomic_load_n(&e->start_ms, __ATOMIC_ACQUIRE);
        if (start == 0)
            continue;
        const sl_sb_route_name *rn = &m->sb->route_names[e->route < SL_SB_ROUTES ? e->route : 0];
        sl_access_fields f = {
            .remote = e->remote, .method = e->method, .uri = e->uri,
            .route = rn->pattern, .request_id = e->request_id, .status = 502,
            .duration_us = now > start ? (now - start) * 1000 : 0, .pid = r->pid,
        };
        sl_access_write(m->access_fd, m->cfg->access_log_format, &f);
        e->start_ms = 0;
    }
}

static void reaped(sl_master *m, worker_rec *r, int status)
{
    if (!m->proven && r->generation == m->gen) {
        if (slot_state(m, r) == SL_SB_STARTING)
            m->start_failures++;
        else
            m->proven = 1;      /* it was ready: the app can start */
    }
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    int expected = r->leaving || m->stopping || (clean && r->kill_at == 0);
    log_exit(r, status, expected);
    int reason = r->reason;
    if (!expected) {
        reason = SL_SB_R_CRASH;
        note_death(m);
    }
    if (r->kill_at != 0)
        reason = SL_SB_R_HEARTBEAT;
    log_lost_requests(m, r);
    sl_sb_slot_release(m->sb, r->slot, m->stopping ? -1 : reason);
    if (r->ctl >= 0)
        close(r->ctl);
    memset(r, 0, sizeof *r);
}

static void reap(sl_master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        worker_rec *r = find_pid(m, pid);
        if (r != NULL)
            reaped(m, r, status);
    }
}

/* ---- heartbeats and retire requests ------------------------------------- */

static void describe_current(const sl_master *m, const sl_sb_slot *s, char *buf, size_t size)
{
    uint32_t route = __atomic_load_n(&s->current_route, __ATOMIC_RELAXED);
    uint64_t start = __atomic_load_n(&s->current_start_ms, __ATOMIC_RELAXED);
    const sl_sb_route_name *n = &m->sb->route_names[route < SL_SB_ROUTES ? route : 0];
    if (start == 0)
        snprintf(buf, size, "no request");
    else
        snprintf(buf, size, "%s %s for %llu ms", n->method[0] ? n->method : "?",
                 n->pattern[0] ? n->pattern : "(unmatched)",
                 (unsigned long long)(now_ms() - start));
}

/*
 * A worker whose loop has not turned for --timeout is stuck: it is asked to
 * write its stack (to the error log, from a signal handler) and killed a
 * moment later.
 */
static void watch_heartbeat(sl_master *m, worker_rec *r)
{
    uint64_t now = now_ms();
    if (r->kill_at != 0) {
        if (now >= r->kill_at) {
            kill(r->pid, SIGKILL);
            r->kill_at = UINT64_MAX;
        }
        return;
    }
    uint32_t st = slot_state(m, r);
    if (m->cfg->timeout == 0 || (st != SL_SB_READY && st != SL_SB_DRAINING))
        return;
    uint64_t beat = __atomic_load_n(&slot_of(m, r)->heartbeat_ms, __ATOMIC_RELAXED);
    if (now < beat || now - beat < (uint64_t)m->cfg->timeout * 1000)
        return;
    char cur[256];
    describe_current(m, slot_of(m, r), cur, sizeof cur);
    sl_error("worker %ld: its loop has not turned for %llu ms (running %s): "
             "writing its stack, then killing it", (long)r->pid,
             (unsigned long long)(now - beat), cur);
    syscall(SYS_tgkill, r->pid, r->pid, SL_BT_SIGNAL);
    r->kill_at = now + DUMP_GRACE_MS;
}

/* A worker asked to retire: start its replacement, and once that is ready,
 * drain the old one. */
static void watch_retire(sl_master *m, worker_rec *r)
{
    uint32_t want = __atomic_load_n(&slot_of(m, r)->retire, __ATOMIC_ACQUIRE);
    if (want == 0 || r->leaving || r->generation != m->gen || m->stopping)
        return;
    int reason = (int)want - 1;
    if (r->replacement == 0) {
        sl_info("worker %ld asks to retire (%s): starting its replacement first",
                (long)r->pid, sl_sb_reason_text(reason));
        r->replacement = spawn(m, m->cfg, m->gen);
        if (r->replacement < 0)
            r->replacement = 0;
        return;
    }
    worker_rec *n = find_pid(m, r->replacement);
    if (n == NULL) {
        r->replacement = 0;     /* it died: try again next tick */
        return;
    }
    if (slot_state(m, n) == SL_SB_READY)
        retire(m, r, reason < SL_SB_REASONS ? reason : SL_SB_R_CRASH);
}

/* ---- reload -------------------------------------------------------------- */

static int same_listeners(const sl_config *a, const sl_config *b)
{
    if (a->nlisteners != b->nlisteners)
        return 0;
    for (int i = 0; i < a->nlisteners; i++)
        if (strcmp(a->listeners[i].text, b->listeners[i].text) != 0)
            return 0;
    return 1;
}

static void begin_reload(sl_master *m)
{
    char err[512];
    if (m->new_cfg != NULL || m->stopping) {
        sl_warn("SIGHUP: a reload is already under way; ignored");
        return;
    }
    sl_systemd_notify("RELOADING=1");
    sl_config *c = calloc(1, sizeof *c);
    if (c == NULL || sl_config_parse(c, m->argc, m->argv, err, sizeof err) < 0) {
        sl_error("reload: %s; the current workers keep serving", c ? err : "out of memory");
        free(c);
        sl_systemd_notify("READY=1");
        return;
    }
    sl_systemd_listeners(c);
    if (sl_config_fill_secret(c, m->cfg) < 0)
        sl_error("reload: no random secret for signed cookies: %s", strerror(errno));
    if (!same_listeners(c, m->cfg)) {
        sl_warn("reload: listener changes take a restart; keeping the current listeners");
        memcpy(c->listeners, m->cfg->listeners, sizeof c->listeners);
        c->nlisteners = m->cfg->nlisteners;
    }
    if (check_app(m, c) < 0) {
        sl_error("reload: the application cannot be loaded; the current workers keep serving");
        free(c);
        sl_systemd_notify("READY=1");
        return;
    }
    m->new_cfg = c;
    m->new_gen = m->gen + 1;
    m->reload_deadline = now_ms() + RELOAD_TIMEOUT_MS;
    sl_log_set_level(c->log_level);
    sl_info("reload: starting generation %u (%d workers)", m->new_gen, c->workers);
    for (int i = 0; i < c->workers; i++)
        spawn(m, c, m->new_gen);
}

static void abandon_reload(sl_master *m, const char *why)
{
    sl_error("reload failed: %s; generation %u keeps serving", why, m->gen);
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid > 0 && m->w[i].generation == m->new_gen)
            retire(m, &m->w[i], -1);
    sl_log_set_level(m->cfg->log_level);
    free(m->new_cfg);
    m->new_cfg = NULL;
    sl_systemd_notify("READY=1");
}

/* Once every worker of the new generation is ready, the old one drains. */
static void watch_reload(sl_master *m)
{
    if (m->new_cfg == NULL)
        return;
    int ready = 0, live = 0;
    for (int i = 0; i < SL_MAX_WORKERS; i++) {
        worker_rec *r = &m->w[i];
        if (r->pid <= 0 || r->generation != m->new_gen || r->leaving)
            continue;
        live++;
        ready += slot_state(m, r) == SL_SB_READY;
    }
    if (live < m->new_cfg->workers) {
        abandon_reload(m, "a worker of the new generation died while starting");
        return;
    }
    if (ready < m->new_cfg->workers) {
        if (now_ms() > m->reload_deadline)
            abandon_reload(m, "the new generation did not get ready in time");
        return;
    }
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid > 0 && m->w[i].generation == m->gen)
            retire(m, &m->w[i], SL_SB_R_RELOAD);
    sl_info("reload: generation %u is serving; generation %u drains", m->new_gen, m->gen);
    free(m->cfg);
    m->cfg = m->new_cfg;
    m->new_cfg = NULL;
    m->gen = m->new_gen;
    m->want = m->cfg->workers;
    __atomic_store_n(&m->sb->pool.generation, m->gen, __ATOMIC_RELAXED);
    sl_systemd_notify("READY=1");
}

/* ---- signals ------------------------------------------------------------- */

static void start_stop(sl_master *m, int sig)
{
    if (m->stopping)
        return;
    sl_info("%s: stopping workers (graceful timeout %d s)", strsignal(sig),
            m->cfg->graceful_timeout);
    sl_systemd_notify("STOPPING=1");
    m->stopping = 1;
    m->stop_deadline = now_ms() + (uint64_t)m->cfg->graceful_timeout * 1000;
    __atomic_store_n(&m->sb->pool.draining, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid > 0) {
            m->w[i].leaving = 1;
            kill(m->w[i].pid, SIGTERM);
        }
}

/* SIGTTOU: the newest worker of the current generation drains. */
static void scale_down(sl_master *m)
{
    for (int i = SL_MAX_WORKERS - 1; i >= 0; i--) {
        worker_rec *r = &m->w[i];
        if (r->pid > 0 && r->generation == m->gen && !r->leaving) {
            retire(m, r, SL_SB_R_SCALE);
            return;
        }
    }
}

/* Reopen one log file in place of `fd`; 0, or -errno after logging why. */
static int reopen_one(const char *path, int fd)
{
    int rc = sl_log_reopen(path, fd);
    if (rc < 0)
        sl_error("SIGUSR1: cannot reopen %s: %s", path, rc == -ELOOP ?
                 "it is a symbolic link; refusing to write through it" : strerror(-rc));
    return rc;
}

/*
 * logrotate moved the files away.  The master opens them again (it is root:
 * the files may be the master's alone) and hands the new descriptors to
 * every worker over its control socket, so workers running as --user, which
 * could not open them, follow the rotation too; and no worker opens a log
 * path itself.
 */
static void reopen_logs(sl_master *m)
{
    int fds[2], n = 0;
    uint32_t what = 0;
    if (m->cfg->error_log[0] && strcmp(m->cfg->error_log, "-") != 0 &&
        reopen_one(m->cfg->error_log, STDERR_FILENO) == 0) {
        what |= SL_CTL_ERROR_LOG;
        fds[n++] = STDERR_FILENO;
    }
    if (m->access_fd > STDERR_FILENO && reopen_one(m->cfg->access_log, m->access_fd) == 0) {
        what |= SL_CTL_ACCESS_LOG;
        fds[n++] = m->access_fd;
    }
    for (int i = 0; n > 0 && i < SL_MAX_WORKERS; i++) {
        const worker_rec *r = &m->w[i];
        int rc = r->pid > 0 && r->ctl >= 0 ? sl_ctl_send(r->ctl, what, fds, n) : 0;
        if (rc < 0)
            sl_warn("SIGUSR1: cannot hand worker %ld its log files: %s", (long)r->pid,
                    strerror(-rc));
    }
    sl_info("SIGUSR1: log files reopened");
}

static void handle_signal(sl_master *m, int sig)
{
    switch (sig) {
    case SIGCHLD:
        reap(m);
        break;
    case SIGTERM:
    case SIGINT:
    case SIGQUIT:
        start_stop(m, sig);
        break;
    case SIGTTIN:
        if (m->want < SL_MAX_WORKERS / 2)
            m->want++;
        sl_info("SIGTTIN: %d workers", m->want);
        break;
    case SIGTTOU:
        if (m->want > 1) {
            m->want--;
            scale_down(m);
        }
        sl_info("SIGTTOU: %d workers", m->want);
        break;
    case SIGHUP:
        begin_reload(m);
        break;
    case SIGUSR1:
        reopen_logs(m);
        break;
    }
}

/* ---- the supervision loop ------------------------------------------------ */

/*
 * Start-up: a worker that could not start (its start hook failed, say)
 * would fail again, and respawning it forever helps no one.  Once a worker
 * of the first generation is ready the pool is proven, and a death is
 * replaced as usual; if every worker of it died before getting ready, the
 * reason is in the log above, and sluice exits 1.
 */
static void watch_first_start(sl_master *m)
{
    if (m->proven || m->stopping)
        return;
    for (int i = 0; i < SL_MAX_WORKERS; i++)
        if (m->w[i].pid > 0 && m->w[i].generation == m->gen &&
            slot_state(m, &m->w[i]) == SL_SB_READY) {
            m->proven = 1;
            return;
        }
    if (m->start_failures == 0 || count_live(m) > 0)
        return;
    sl_error("no worker could start (%d tried; the reason is logged above): exiting",
             m->start_failures);
    m->failed = 1;
    m->stopping = 1;
}

static void tick(sl_master *m)
{
    reap(m);
    for (int i = 0; i < SL_MAX_WORKERS; i++) {
        if (m->w[i].pid <= 0)
            continue;
        watch_heartbeat(m, &m->w[i]);
        watch_leaving(m, &m->w[i]);
        watch_retire(m, &m->w[i]);
    }
    watch_reload(m);
    watch_first_start(m);
    if (!m->stopping && m->new_cfg == NULL)
        trim_surplus(m);
    if (m->stopping) {
        if (!m->killed && now_ms() >= m->stop_deadline && count_live(m) > 0) {
            sl_warn("graceful timeout: killing the remaining workers");
            for (int i = 0; i < SL_MAX_WORKERS; i++)
                if (m->w[i].pid > 0)
                    kill(m->w[i].pid, SIGKILL);
            m->killed = 1;
        }
        return;
    }
    while (m->new_cfg == NULL && (m->proven || m->start_failures == 0) &&
           count_active(m, m->gen) < m->want && now_ms() >= m->respawn_at)
        if (spawn(m, m->cfg, m->gen) < 0)
            break;
    if (!m->ready_notified && count_active(m, m->gen) >= m->want) {
        int ready = 0;
        for (int i = 0; i < SL_MAX_WORKERS; i++)
            ready += m->w[i].pid > 0 && slot_state(m, &m->w[i]) == SL_SB_READY;
        if (ready >= m->want) {
            m->ready_notified = 1;
            sl_systemd_notify("READY=1");
        }
    }
}

static void supervise(sl_master *m)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaddset(&set, master_signals[i]);
    for (;;) {
        tick(m);
        if (m->stopping && count_live(m) == 0)
            return;
        struct timespec t = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &t);
        if (sig > 0)
            handle_signal(m, sig);
    }
}

/* ---- start and end ------------------------------------------------------- */

static int bind_listeners(sl_master *m)
{
    const sl_config *cfg = m->cfg;
    for (m->nfds = 0; m->nfds < cfg->nlisteners; m->nfds++) {
        char err[512];
        int fd = sl_listen_open(&cfg->listeners[m->nfds], cfg, err, sizeof err);
        if (fd < 0) {
            sl_error("%s", err);
            return fd;
        }
        m->fds[m->nfds] = fd;
        sl_info("listening: %s", cfg->listeners[m->nfds].text);
    }
    return 0;
}

int sl_master_run(const sl_config *config, int argc, char **argv)
{
    sl_master *m = calloc(1, sizeof *m);
    sl_config *cfg = malloc(sizeof *cfg);
    if (m == NULL || cfg == NULL) {
        free(m);
        free(cfg);
        return 1;
    }
    /* The master's own copy: a reload replaces it. */
    memcpy(cfg, config, sizeof *cfg);
    m->cfg = cfg;
    /* Made here, before any fork, so that every worker signs alike. */
    if (sl_config_fill_secret(cfg, NULL) < 0)
        sl_error("no random secret for signed cookies: %s", strerror(errno));
    m->argc = argc;
    m->argv = argv;
    m->want = cfg->workers;
    m->gen = 1;
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaddset(&set, master_signals[i]);
    sigprocmask(SIG_BLOCK, &set, &m->oldmask);
    int rc = 1;
    sl_systemd_listeners(cfg);
    /* Room for a whole second generation during a reload, and scaling. */
    unsigned nslots = (unsigned)cfg->workers * 2 + 16;
    m->sb = sl_sb_create(nslots < 64 ? 64 : nslots);
    if (m->sb == NULL) {
        sl_error("cannot map the scoreboard: %s", strerror(errno));
        goto out;
    }
    m->sb->pool.generation = m->gen;
    if (geteuid() == 0 && cfg->user[0] == '\0')
        sl_warn("running as root without --user: the workers and the application run "
                "as root too; name an unprivileged user with --user (e.g. --user www-data)");
    if (check_app(m, cfg) < 0 || bind_listeners(m) < 0 ||
        sl_access_open(cfg->access_log, STDERR_FILENO, &m->access_fd) < 0)
        goto out;
    if (cfg->pidfile[0] && sl_pidfile_write(cfg->pidfile) < 0)
        goto out;
    memcpy(m->pidfile, cfg->pidfile, sizeof m->pidfile);
    sl_info("sluice %s: %d workers, app %s", SLUICE_VERSION, cfg->workers, cfg->app_path);
    supervise(m);
    if (m->failed)
        goto out;
    sl_info("stopped");
    rc = 0;
out:
    for (int i = 0; i < m->nfds; i++)
        sl_listen_close(&m->cfg->listeners[i], m->fds[i]);
    if (m->access_fd > STDERR_FILENO)
        close(m->access_fd);
    /* Ours only: a pidfile we did not write may be a running server's. */
    if (m->pidfile[0])
        unlink(m->pidfile);
    free(m->new_cfg);
    if (m->sb != NULL)
        sl_sb_destroy(m->sb);
    free(m->cfg);
    free(m);
    return rc;
}
