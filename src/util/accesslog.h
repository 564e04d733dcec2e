/*
 * accesslog.h: one line per request (--access-log, --access-log-format):
 * the format, and writing a line.  What goes into a request's line is the
 * worker's (dispatch.c).
 *
 * Fields: {remote} {method} {uri} {status} {bytes} {duration_us} {queue_us}
 * {route} {pid} {request_id} {time}.  The default format is
 *
 *   {remote} - [{time}] "{method} {uri}" {status} {bytes} {duration_us}us
 *   queue={queue_us}us route="{route}" pid={pid} id={request_id}
 *
 * (one line), with every byte that could break the line or the quoting
 * (control characters, '"', '\', bytes past ASCII) written as \xHH.  The
 * format "json" writes one JSON object per line, built with json-c, with
 * every value escaped and the URI made valid UTF-8 the same \xHH way.
 */
#ifndef SLUICE_ACCESSLOG_H
#define SLUICE_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line's fields (NULL or "" strings print as "-"). */
typedef struct sl_access_fields {
    const char *remote, *method, *uri, *route, *request_id;
    int status;
    uint64_t bytes, duration_us, queue_us;
    pid_t pid;
} sl_access_fields;

/* Write one line in format `fmt` ("" for the default, "json") to fd: a
 * worker for each request it answers (dispatch.c), the master for the
 * requests of a worker that died. */
void sl_access_write(int fd, const char *fmt, const sl_access_fields *f);

/* Open the --access-log `path` ("" : none, fd -1; "-" : log_fd) into *fd.
 * 0, or -errno after logging why. */
int sl_access_open(const char *path, int log_fd, int *fd);

/* Check a format: 0, or -EINVAL with the unknown field named in err. */
int sl_access_format_check(const char *fmt, char *err, size_t errlen);

#endif
