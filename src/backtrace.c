/*
 * backtrace.c: stacks from signal handlers (see backtrace.h).
 *
 * Everything in the handlers is async-signal-safe: write(2) and
 * backtrace_symbols_fd(), which does not allocate.  backtrace() itself loads
 * libgcc the first time it runs, which is not safe in a handler, so
 * sl_bt_install() calls it once up front.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "backtrace.h"

static int bt_fd = 2;
static __thread const char *bt_current;

static void put(const char *s)
{
    ssize_t n = write(bt_fd, s, strlen(s));
    (void)n;
}

static void put_num(long v)
{
    char buf[24];
    int i = sizeof buf;
    buf[--i] = '\0';
    int neg = v < 0;
    unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0 && i > 1);
    if (neg)
        buf[--i] = '-';
    put(buf + i);
}

static void write_stack(void)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    put("sluice[");
    put_num((long)getpid());
    put("] backtrace of thread ");
    put_num((long)syscall(SYS_gettid));
    if (bt_current != NULL) {
        put(" running ");
        put(bt_current);
    }
    put(":\n");
    backtrace_symbols_fd(frames, n, bt_fd);
}

static void on_dump(int sig)
{
    (void)sig;
    int saved = errno;
    write_stack();
    errno = saved;
}

static void on_crash(int sig)
{
    put("sluice[");
    put_num((long)getpid());
    put("] worker crashed with signal ");
    put_num(sig);
    put(" (");
    put(sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE"
        : sig == SIGILL ? "SIGILL" : sig == SIGABRT ? "SIGABRT" : "?");
    put(")");
    if (bt_current != NULL) {
        put(" while running ");
        put(bt_current);
    }
    put("\n");
    write_stack();
    /* Die of the same signal, so the master sees and logs it. */
    signal(sig, SIG_DFL);
    raise(sig);
}

void sl_bt_install(int fd)
{
    void *warm[2];
    backtrace(warm, 2);
    bt_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_dump;
    sigaction(SL_BT_SIGNAL, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        sigaction(fatal[i], &sa, NULL);
}

void sl_bt_set_current(const char *what)
{
    bt_current = what;
}
