/* accesslog.c: the access log (see accesslog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "util/accesslog.h"
#include "util/buf.h"
#include "util/escape.h"
#include "util/log.h"

#define DEFAULT_FORMAT "{remote} - [{time}] \"{method} {uri}\" {status} {bytes} " \
    "{duration_us}us queue={queue_us}us route=\"{route}\" pid={pid} id={request_id}"

static const char *const fields[] = {
    "remote", "method", "uri", "status", "bytes", "duration_us", "queue_us",
    "route", "pid", "request_id", "time", NULL
};

/* The values of one line, as text. */
typedef struct line_values {
    const char *v[11];
    char status[8], bytes[24], duration[24], queue[24], pid[16], time[80];
} line_values;

static int field_index(const char *name, size_t n)
{
    for (int i = 0; fields[i] != NULL; i++)
        if (strlen(fields[i]) == n && memcmp(fields[i], name, n) == 0)
            return i;
    return -1;
}

int sl_access_format_check(const char *fmt, char *err, size_t errlen)
{
    if (strcmp(fmt, "json") == 0)
        return 0;
    for (const char *p = strchr(fmt, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        if (end == NULL || field_index(p + 1, (size_t)(end - p - 1)) < 0) {
            snprintf(err, errlen, "--access-log-format: unknown field at '%.20s'", p);
            return -EINVAL;
        }
    }
    return 0;
}

/* The numbers and the time as text, from the line's fields. */
static void fill(line_values *lv, const sl_access_fields *f)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(lv->time, sizeof lv->time, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (long)(tv.tv_usec / 1000) % 1000);
    snprintf(lv->status, sizeof lv->status, "%d", f->status);
    snprintf(lv->bytes, sizeof lv->bytes, "%llu", (unsigned long long)f->bytes);
    snprintf(lv->duration, sizeof lv->duration, "%llu", (unsigned long long)f->duration_us);
    snprintf(lv->queue, sizeof lv->queue, "%llu", (unsigned long long)f->queue_us);
    snprintf(lv->pid, sizeof lv->pid, "%d", (int)f->pid);
    lv->v[0] = f->remote && *f->remote ? f->remote : "-";
    lv->v[1] = f->method && *f->method ? f->method : "-";
    lv->v[2] = f->uri && *f->uri ? f->uri : "-";
    lv->v[3] = lv->status;
    lv->v[4] = lv->bytes;
    lv->v[5] = lv->duration;
    lv->v[6] = lv->queue;
    lv->v[7] = f->route && *f->route ? f->route : "-";
    lv->v[8] = lv->pid;
    lv->v[9] = f->request_id && *f->request_id ? f->request_id : "-";
    lv->v[10] = lv->time;
}

static void format_text(sl_buf *b, const char *fmt, const line_values *lv)
{
    for (const char *p = fmt; *p != '\0';) {
        const char *end;
        int f;
        if (*p == '{' && (end = strchr(p, '}')) != NULL &&
            (f = field_index(p + 1, (size_t)(end - p - 1))) >= 0) {
            sl_escape_append(b, lv->v[f], 0);
            p = end + 1;
        } else {
            sl_buf_append(b, p++, 1);
        }
    }
}

static void format_json(sl_buf *b, const line_values *lv)
{
    json_object *o = json_object_new_object();
    if (o == NULL)
        return;
    for (int i = 0; fields[i] != NULL; i++) {
        if (i == 3 || i == 4 || i == 5 || i == 6 || i == 8) {
            json_object_object_add(o, fields[i], json_object_new_int64(atoll(lv->v[i])));
            continue;
        }
        /* JSON strings must be UTF-8: other bytes become \xHH text. */
        sl_buf t;
        sl_buf_init(&t);
        sl_escape_append(&t, lv->v[i], 1);
        json_object_object_add(o, fields[i], json_object_new_string_len(t.data ? t.data : "", (int)t.len));
        sl_buf_free(&t);
    }
    sl_buf_append_str(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

void sl_access_write(int fd, const char *fmt, const sl_access_fields *f)
{
    line_values lv;
    fill(&lv, f);
    sl_buf b;
    sl_buf_init(&b);
    if (strcmp(fmt, "json") == 0)
        format_json(&b, &lv);
    else
        format_text(&b, fmt[0] ? fmt : DEFAULT_FORMAT, &lv);
    sl_buf_append(&b, "\n", 1);
    /* One write per line: lines of several workers never interleave. */
    ssize_t n = write(fd, b.data, b.len);
    (void)n;
    sl_buf_free(&b);
}

int sl_access_open(const char *path, int log_fd, int *fd)
{
    *fd = -1;
    if (path[0] == '\0')
        return 0;
    if (strcmp(path, "-") == 0) {
        *fd = log_fd;
        return 0;
    }
    /* As root, maybe in a directory others may write to: never through a
     * symlink planted at the path. */
    *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (*fd < 0) {
        int e = errno;
        sl_error("--access-log %s: %s", path,
                 e == ELOOP ? "is a symbolic link; refusing to write through it" : strerror(e));
        return -e;
    }
    return 0;
}
