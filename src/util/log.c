/* log.c: the error log (see log.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "util/escape.h"
#include "util/log.h"

/*
 * Process-wide by nature: the log is one file per process, and every worker
 * is its own process, so nothing here is shared between workers.
 */
static int log_level = SL_LOG_INFO;
static const char *log_role = "master";
static int log_fd = STDERR_FILENO;
static int log_json;

void sl_log_set_level(int level) { log_level = level; }
void sl_log_set_role(const char *role) { log_role = role; }
void sl_log_set_fd(int fd) { log_fd = fd; }
void sl_log_set_json(int json) { log_json = json; }

int sl_log_reopen(const char *path, int fd)
{
    /* Opened as root in a directory others may write to: a symlink planted
     * at the path must not lead our lines into another file (ELOOP). */
    int nfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (nfd < 0)
        return -errno;
    int rc = dup2(nfd, fd) < 0 ? -errno : 0;
    close(nfd);
    return rc;
}

static const char *level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return level >= 0 && level <= SL_LOG_DEBUG ? names[level] : "?";
}

static void timestamp(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000) % 1000);
}

/*
 * JSON lines are built with json-c, so every message is escaped.  json-c
 * copies bytes past ASCII as they are, and a message may quote what a peer
 * sent: bytes that are not UTF-8 are written as \xHH text first, so that
 * every line is valid JSON.  Escaping makes a message longer; one that no
 * longer fits the line is cut (between characters) rather than the line,
 * which would not parse.
 */
static size_t format_json(char *line, size_t size, const char *ts, int level,
                          const char *msg)
{
    sl_buf text;
    sl_buf_init(&text);
    if (sl_escape_append(&text, msg, 1) < 0) {
        sl_buf_free(&text);
        return 0;
    }
    size_t tl = text.len, n = size;
    for (int tries = 0; n >= size && tries < 8; tries++) {
        json_object *o = json_object_new_object();
        if (o == NULL)
            break;
        json_object_object_add(o, "time", json_object_new_string(ts));
        json_object_object_add(o, "level", json_object_new_string(level_name(level)));
        json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
        json_object_object_add(o, "role", json_object_new_string(log_role));
        json_object_object_add(o, "msg", json_object_new_string_len(text.data, (int)tl));
        n = (size_t)snprintf(line, size, "%s",
                             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        if (n < size)
            break;
        /* Too long by n - size + 1 bytes of JSON, each at least one of text. */
        size_t cut = n - size + 1;
        tl = cut < tl ? tl - cut : 0;
        while (tl > 0 && ((unsigned char)text.data[tl] & 0xC0) == 0x80)
            tl--;
    }
    sl_buf_free(&text);
    return n < size ? n : 0;
}

void sl_log(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    int saved = errno;
    char ts[64], msg[2048], line[4200];
    timestamp(ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len;
    if (log_json) {
        len = format_json(line, sizeof line - 1, ts, level, msg);
    } else {
        /* A message may quote what a peer sent: keep it on one line. */
        for (char *p = msg; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        int n = snprintf(line, sizeof line - 1, "%s sluice[%ld] %s %s: %s", ts,
                         (long)getpid(), log_role, level_name(level), msg);
        len = n < 0 ? 0 : (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 2;
    }
    line[len++] = '\n';
    /* One write per line, so lines from several workers do not interleave. */
    ssize_t w = write(log_fd, line, len);
    (void)w;
    errno = saved;
}
