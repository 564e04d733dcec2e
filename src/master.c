/*
 * master.c: the master process (see master.h).
 *
 * The master has no event loop: it blocks every signal it cares about and
 * takes them one at a time with sigtimedwait(), so no handler ever runs in
 * the middle of its bookkeeping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "app.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "worker.h"

#define MAX_WORKERS 1024
/* Crash storm: this many deaths within STORM_WINDOW seconds slow respawns. */
#define STORM_DEATHS 5
#define STORM_WINDOW 10

typedef struct sl_master {
    const sl_config *cfg;
    int fds[SL_MAX_LISTENERS];
    int nfds;
    pid_t pids[MAX_WORKERS];
    int want;                   /* workers to keep running */
    int stopping;
    time_t stop_deadline;
    int killed;                 /* SIGKILL sent after the deadline */
    time_t deaths[STORM_DEATHS];/* ring of recent unexpected deaths */
    int ndeaths;
    time_t respawn_at;
    sigset_t oldmask;
} sl_master;

static const int master_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT,
                                     SIGHUP, SIGTTIN, SIGTTOU};

static time_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static int count_workers(const sl_master *m)
{
    int n = 0;
    for (int i = 0; i < MAX_WORKERS; i++)
        n += m->pids[i] > 0;
    return n;
}

/* In the child: undo the master's signal setup before anything else. */
static void child_signals(const sl_master *m)
{
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        signal(master_signals[i], SIG_DFL);
    sigprocmask(SIG_SETMASK, &m->oldmask, NULL);
    /* A worker must not outlive a master killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/*
 * Load the application once in a throwaway child, so a bad APP is reported
 * before anything is bound, and the master itself runs no app code.
 */
static int check_app(sl_master *m)
{
    pid_t pid = fork();
    if (pid < 0) {
        sl_error("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        char err[512];
        child_signals(m);
        sl_app *app = sl_app_load(m->cfg->app_path, NULL, err, sizeof err);
        if (app == NULL) {
            sl_error("%s", err);
            _exit(1);
        }
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void spawn_one(sl_master *m)
{
    int slot = 0;
    while (slot < MAX_WORKERS && m->pids[slot] > 0)
        slot++;
    if (slot == MAX_WORKERS)
        return;
    pid_t pid = fork();
    if (pid < 0) {
        sl_error("fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        child_signals(m);
        /* exit(), not _exit(): LeakSanitizer checks the worker at exit. */
        exit(sl_worker_main(m->cfg, m->fds));
    }
    m->pids[slot] = pid;
    sl_info("started worker %ld", (long)pid);
}

static void log_exit(pid_t pid, int status, int expected)
{
    int level = expected ? SL_LOG_INFO : SL_LOG_ERROR;
    if (WIFSIGNALED(status))
        sl_log(level, "worker %ld killed by signal %d (%s)", (long)pid,
               WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        sl_log(level, "worker %ld exited with status %d", (long)pid,
               WEXITSTATUS(status));
}

/* Remember an unexpected death; past the storm threshold, back off. */
static void note_death(sl_master *m)
{
    time_t t = now();
    memmove(m->deaths + 1, m->deaths, sizeof m->deaths - sizeof *m->deaths);
    m->deaths[0] = t;
    if (m->ndeaths < STORM_DEATHS)
        m->ndeaths++;
    if (m->ndeaths == STORM_DEATHS && t - m->deaths[STORM_DEATHS - 1] < STORM_WINDOW) {
        m->respawn_at = t + 2;
        sl_warn("%d workers died within %d s: slowing respawns down",
                STORM_DEATHS, STORM_WINDOW);
    }
}

static void reap(sl_master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int slot = 0;
        while (slot < MAX_WORKERS && m->pids[slot] != pid && m->pids[slot] != -pid)
            slot++;
        if (slot == MAX_WORKERS)
            continue;
        int leaving = m->pids[slot] < 0;
        m->pids[slot] = 0;
        int expected = m->stopping || leaving ||
                       (WIFEXITED(status) && WEXITSTATUS(status) == 0);
        log_exit(pid, status, expected);
        if (!expected)
            note_death(m);
    }
}

static void signal_workers(sl_master *m, int sig)
{
    for (int i = 0; i < MAX_WORKERS; i++)
        if (m->pids[i] > 0)
            kill(m->pids[i], sig);
}

/* One worker fewer: the newest one drains and exits. */
static void retire_one(sl_master *m)
{
    for (int i = MAX_WORKERS - 1; i >= 0; i--) {
        if (m->pids[i] > 0) {
            kill(m->pids[i], SIGTERM);
            m->pids[i] = -m->pids[i];   /* leaving: not counted, still reaped */
            return;
        }
    }
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
        if (!m->stopping) {
            sl_info("%s: stopping workers (graceful timeout %d s)", strsignal(sig),
                    m->cfg->graceful_timeout);
            m->stopping = 1;
            m->stop_deadline = now() + m->cfg->graceful_timeout;
            signal_workers(m, SIGTERM);
        }
        break;
    case SIGTTIN:
        if (m->want < MAX_WORKERS)
            m->want++;
        sl_info("SIGTTIN: %d workers", m->want);
        break;
    case SIGTTOU:
        if (m->want > 1) {
            m->want--;
            retire_one(m);
        }
        sl_info("SIGTTOU: %d workers", m->want);
        break;
    case SIGHUP:
        sl_warn("SIGHUP: reload is not supported yet; ignored");
        break;
    }
}

static int all_gone(const sl_master *m)
{
    for (int i = 0; i < MAX_WORKERS; i++)
        if (m->pids[i] != 0)
            return 0;
    return 1;
}

static void reap_leaving(sl_master *m)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        int status;
        if (m->pids[i] < 0 && waitpid(-m->pids[i], &status, WNOHANG) == -m->pids[i]) {
            log_exit(-m->pids[i], status, 1);
            m->pids[i] = 0;
        }
    }
}

static void supervise(sl_master *m)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        sigaddset(&set, master_signals[i]);
    for (;;) {
        reap_leaving(m);
        if (m->stopping && all_gone(m))
            return;
        if (m->stopping && !m->killed && now() >= m->stop_deadline) {
            sl_warn("graceful timeout: killing the remaining workers");
            for (int i = 0; i < MAX_WORKERS; i++)
                if (m->pids[i] != 0)
                    kill(m->pids[i] > 0 ? m->pids[i] : -m->pids[i], SIGKILL);
            m->killed = 1;
        }
        while (!m->stopping && count_workers(m) < m->want && now() >= m->respawn_at)
            spawn_one(m);
        struct timespec tick = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig > 0)
            handle_signal(m, sig);
    }
}

int sl_master_run(const sl_config *cfg)
{
    sl_master *m = calloc(1, sizeof *m);
    if (m == NULL)
        return 1;
    m->cfg = cfg;
    m->want = cfg->workers;
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof master_signals / sizeof *master_signals; i++)
        sigaddset(&set, master_signals[i]);
    sigprocmask(SIG_BLOCK, &set, &m->oldmask);
    int rc = 1;
    if (check_app(m) < 0)
        goto out;
    for (m->nfds = 0; m->nfds < cfg->nlisteners; m->nfds++) {
        char err[512];
        int fd = sl_listen_open(&cfg->listeners[m->nfds], cfg, err, sizeof err);
        if (fd < 0) {
            sl_error("%s", err);
            goto out;
        }
        m->fds[m->nfds] = fd;
        sl_info("listening: %s", cfg->listeners[m->nfds].text);
    }
    sl_info("sluice %s: %d workers, app %s", SLUICE_VERSION, cfg->workers, cfg->app_path);
    supervise(m);
    sl_info("stopped");
    rc = 0;
out:
    for (int i = 0; i < m->nfds; i++)
        sl_listen_close(&cfg->listeners[i], m->fds[i]);
    free(m);
    return rc;
}
