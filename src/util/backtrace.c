/*
 * backtrace.c: stacks from signal handlers (see backtrace.h).
 *
 * Everything in the handlers is async-signal-safe: write(2) into a buffer
 * on the stack, clock_gettime(), and backtrace_symbols_fd(), which does not
 * allocate.  backtrace() itself loads libgcc the first time it runs, which
 * is not safe in a handler, so sl_bt_install() calls it once up front.  In
 * the JSON log format each frame becomes a JSON line of its own, its symbol
 * found with dladdr() (which takes the loader's lock: it could only hang if
 * the thread was stopped inside dlopen itself).
 *
 * What a thread runs names the request, whose method comes from the peer:
 * every message is escaped on its way into the line (add_safe), so no
 * byte of it can end the line early or make a JSON line invalid.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "util/backtrace.h"

static int bt_fd = 2;
static int bt_json;
static __thread const char *bt_current;
static sl_bt_crash_fn bt_on_crash;

/* A line built on the stack, written with one write(2). */
typedef struct line {
    char buf[1024];
    size_t n;
} line;

static void add(line *l, const char *s)
{
    size_t k = strlen(s);
    if (k > sizeof l->buf - 2 - l->n)
        k = sizeof l->buf - 2 - l->n;
    memcpy(l->buf + l->n, s, k);
    l->n += k;
}

static void add_num(line *l, unsigned long v, int base, int width)
{
    char tmp[24];
    int i = sizeof tmp;
    tmp[--i] = '\0';
    do {
        tmp[--i] = "0123456789abcdef"[v % (unsigned)base];
        v /= (unsigned)base;
        width--;
    } while ((v > 0 || width > 0) && i > 0);
    add(l, tmp + i);
}

/*
 * Length of the UTF-8 sequence at p if it is well formed and prints as
 * itself, else 0 (the byte is then escaped).  Not printable here: C0
 * controls and DEL; C1 controls (U+0080..U+009F, NEL among them) and
 * U+2028/U+2029, which some readers take for line ends; overlong forms,
 * surrogates and what lies past U+10FFFF.  A backslash is kept: what a
 * thread runs comes already escaped from where it is built (dispatch.c's
 * set_what, with the access log's escaper, which escapes the backslash
 * itself), and escaping it again would garble those escapes.
 */
static size_t printable_len(const unsigned char *p)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;  /* bounds of byte 2 */
    size_t n;
    if (c < 0x80)
        return c >= 0x20 && c != 0x7f;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;                      /* overlong */
    else if (c == 0xed)
        hi = 0x9f;                      /* surrogates */
    else if (c == 0xf0)
        lo = 0x90;                      /* overlong */
    else if (c == 0xf4)
        hi = 0x8f;                      /* past U+10FFFF */
    /* Stops at the first bad byte, so never reads past a NUL. */
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (c == 0xc2 && p[1] < 0xa0)
        return 0;                       /* C1 control */
    if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
        return 0;                       /* line or paragraph separator */
    return n;
}

/*
 * s into the line so that it cannot end the line or break it: what
 * printable_len() accepts is copied, every other byte becomes \xHH; in the
 * JSON format '"' and '\' are escaped on top of that.  Whole units only,
 * stopping before one that would leave fewer than `keep` bytes free (the
 * line's own end).
 */
static void add_safe(line *l, const char *s, size_t keep)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        char unit[8];
        size_t u = 0, k = printable_len(p);
        if (k > 0) {
            if (bt_json && (*p == '"' || *p == '\\'))
                unit[u++] = '\\';
            memcpy(unit + u, p, k);
            u += k;
        } else {
            if (bt_json)
                unit[u++] = '\\';
            unit[u++] = '\\';
            unit[u++] = 'x';
            unit[u++] = hex[*p >> 4];
            unit[u++] = hex[*p & 15];
            k = 1;
        }
        if (u + keep > sizeof l->buf - l->n)
            return;
        memcpy(l->buf + l->n, unit, u);
        l->n += u;
        p += k;
    }
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long days, long *y, unsigned *m, unsigned *d)
{
    days += 719468;
    long era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
}

static void add_time(line *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long y;
    unsigned mo, d;
    long secs = (long)ts.tv_sec;
    civil(secs / 86400, &y, &mo, &d);
    add_num(l, (unsigned long)y, 10, 4);
    add(l, "-");
    add_num(l, mo, 10, 2);
    add(l, "-");
    add_num(l, d, 10, 2);
    add(l, "T");
    add_num(l, (unsigned long)(secs % 86400 / 3600), 10, 2);
    add(l, ":");
    add_num(l, (unsigned long)(secs % 3600 / 60), 10, 2);
    add(l, ":");
    add_num(l, (unsigned long)(secs % 60), 10, 2);
    add(l, ".");
    add_num(l, (unsigned long)(ts.tv_nsec / 1000000), 10, 3);
    add(l, "Z");
}

/* Write one message: plain "sluice[pid] msg", or a JSON log line. */
static void emit(const char *msg)
{
    line l;
    l.n = 0;
    if (bt_json) {
        add(&l, "{\"time\":\"");
        add_time(&l);
        add(&l, "\",\"level\":\"error\",\"pid\":");
        add_num(&l, (unsigned long)getpid(), 10, 1);
        add(&l, ",\"role\":\"worker\",\"msg\":\"");
        add_safe(&l, msg, 3);
        memcpy(l.buf + l.n, "\"}", 2);    /* add_safe left room for it */
        l.n += 2;
    } else {
        add(&l, "sluice[");
        add_num(&l, (unsigned long)getpid(), 10, 1);
        add(&l, "] ");
        add_safe(&l, msg, 1);
    }
    l.buf[l.n++] = '\n';
    ssize_t n = write(bt_fd, l.buf, l.n);
    (void)n;
}

/* One frame as "file(symbol+0xoff) [0xaddr]", for the JSON format. */
static void emit_frame(void *addr)
{
    line l;
    l.n = 0;
    Dl_info info;
    memset(&info, 0, sizeof info);
    add(&l, "  ");
    if (dladdr(addr, &info) != 0 && info.dli_fname != NULL) {
        add(&l, info.dli_fname);
        add(&l, "(");
        if (info.dli_sname != NULL) {
            add(&l, info.dli_sname);
            add(&l, "+0x");
            add_num(&l, (unsigned long)((char *)addr - (char *)info.dli_saddr), 16, 1);
        }
        add(&l, ") ");
    }
    add(&l, "[0x");
    add_num(&l, (unsigned long)addr, 16, 1);
    add(&l, "]");
    l.buf[l.n] = '\0';
    emit(l.buf);
}

static void write_stack(void)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    line l;
    l.n = 0;
    add(&l, "backtrace of thread ");
    add_num(&l, (unsigned long)syscall(SYS_gettid), 10, 1);
    if (bt_current != NULL) {
        add(&l, " running ");
        add(&l, bt_current);
    }
    add(&l, ":");
    l.buf[l.n] = '\0';
    emit(l.buf);
    if (!bt_json) {
        backtrace_symbols_fd(frames, n, bt_fd);
        return;
    }
    for (int i = 0; i < n; i++)
        emit_frame(frames[i]);
}

static void on_dump(int sig)
{
    (void)sig;
    int saved = errno;
    write_stack();
    errno = saved;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "?";
    }
}

static void on_crash(int sig)
{
    line l;
    l.n = 0;
    add(&l, "worker crashed with signal ");
    add_num(&l, (unsigned long)sig, 10, 1);
    add(&l, " (");
    add(&l, signal_name(sig));
    add(&l, ")");
    if (bt_current != NULL) {
        add(&l, " while running ");
        add(&l, bt_current);
    }
    l.buf[l.n] = '\0';
    emit(l.buf);
    write_stack();
    /* Last, once the report is out: the hook reads the request, and should
     * that fault too, the default action ends us with the report written. */
    if (bt_on_crash != NULL && bt_current != NULL)
        bt_on_crash(bt_current);
    /* Die of the same signal, so the master sees and logs it. */
    signal(sig, SIG_DFL);
    raise(sig);
}

void sl_bt_install(int fd, int json)
{
    void *warm[2];
    backtrace(warm, 2);
    bt_fd = fd;
    bt_json = json;
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

void sl_bt_on_crash(sl_bt_crash_fn fn)
{
    bt_on_crash = fn;
}
