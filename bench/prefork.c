/*
 * prefork.c: bind a unix socket, fork the workers, stop them on SIGTERM;
 * and the comparison programs' one option parser.
 * See prefork.h.
 */
#define _GNU_SOURCE
#include "prefork.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int bench_listen_unix(const char *path, int backlog, int nonblock)
{
    struct sockaddr_un sa;
    struct stat st;
    size_t len = strlen(path);
    int fd, err;

    /* sun_path must hold the path and its terminating NUL */
    if (len == 0 || len >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, len + 1);

    /* bind() fails on any existing file; a stale socket from a killed run is
     * ours to replace, a regular file is somebody else's mistake to see. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        if (unlink(path) < 0)
            return -errno;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0666) < 0 ||
        listen(fd, backlog) < 0) {
        err = errno;
        close(fd);
        unlink(path);
        return -err;
    }
    return fd;
}

long bench_number(const char *s, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    return v;
}

/* mark pid as gone in pids[]; returns 1 if it was one of ours */
static int forget(pid_t *pids, int n, pid_t pid)
{
    for (int i = 0; i < n; i++) {
        if (pids[i] == pid) {
            pids[i] = 0;
            return 1;
        }
    }
    return 0;
}

static void stop_all(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
}

int bench_prefork(int lfd, int n, const char *path,
                  void (*serve)(int lfd, void *arg), void *arg)
{
    pid_t pids[BENCH_MAX_WORKERS];
    pid_t master = getpid();
    sigset_t set, old;
    int started = 0, alive, stopping = 0, err = 0;
    struct stat st;

    if (n < 1 || n > BENCH_MAX_WORKERS)
        return -EINVAL;

    /* The master takes its signals synchronously (sigwaitinfo below), so they
     * are blocked before the first fork: none can arrive in between. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);

    for (; started < n; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            fprintf(stderr, "prefork: fork: %s\n", strerror(err));
            break;
        }
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            /* A worker must not outlive a master killed with SIGKILL: nothing
             * else would ever stop it.  The getppid() check covers a master
             * that died before the prctl(). */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != master)
                _exit(0);
            serve(lfd, arg);
            _exit(0);
        }
        pids[started] = pid;
    }
    close(lfd);   /* the workers accept; the master only waits */
    if (started == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        unlink(path);
        return -err;
    }
    if (started < n) {   /* a partial set of workers would skew every figure */
        stopping = 1;
        stop_all(pids, started);
    }

    alive = started;
    while (alive > 0) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si), status;
        pid_t pid;

        if (sig == SIGCHLD) {
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (!forget(pids, started, pid))
                    continue;
                alive--;
                if (!stopping) {
                    if (WIFSIGNALED(status))
                        fprintf(stderr, "prefork: worker %d killed by signal %d\n", (int)pid, WTERMSIG(status));
                    else
                        fprintf(stderr, "prefork: worker %d exited with status %d\n", (int)pid, WEXITSTATUS(status));
                }
            }
        } else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
            stopping = 1;
            stop_all(pids, started);
        }
    }
    /* a socket only: never a file someone else put there since */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (started < n)
        return -err;
    return stopping ? 0 : 1;
}
