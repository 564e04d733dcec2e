/* log.c: the error log (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

/*
 * Process-wide by nature: stderr is one file per process, and every worker
 * is its own process, so nothing is shared between workers here.
 */
static int log_level = SL_LOG_INFO;
static const char *log_role = "master";

void sl_log_set_level(int level) { log_level = level; }
int sl_log_get_level(void) { return log_level; }
void sl_log_set_role(const char *role) { log_role = role; }

static const char *level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return level >= 0 && level <= SL_LOG_DEBUG ? names[level] : "?";
}

void sl_log(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ sluice[%ld] %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000,
                     (long)getpid(), log_role, level_name(level));
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + ((size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2);
    line[len++] = '\n';
    /* One write per line, so lines from several workers do not interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
