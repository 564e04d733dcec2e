/*
 * applog.c: an application's lines in sluice's error log (sl_req_log,
 * sl_app_log in sluice.h), tagged and escaped like sluice's own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include "api/request.h"
#include "util/escape.h"
#include "util/log.h"

/* The public levels are log.h's. */
_Static_assert(SL_LEVEL_ERROR == SL_LOG_ERROR && SL_LEVEL_WARN == SL_LOG_WARN &&
               SL_LEVEL_INFO == SL_LOG_INFO && SL_LEVEL_DEBUG == SL_LOG_DEBUG,
               "sluice.h's levels are log.h's");

/* Longer messages are cut: a log line holds about 2 KiB of message. */
#define MAX_MSG 2048

static int vlog(const char *id, int level, const char *fmt, va_list ap)
{
    if (level < SL_LEVEL_ERROR || level > SL_LEVEL_DEBUG)
        return -EINVAL;
    char msg[MAX_MSG];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /*
     * An app's message may quote what a client sent: escaped as the other
     * lines escape peer bytes, so it can neither end the line nor forge
     * another (text), nor break the JSON line.
     */
    sl_buf e;
    sl_buf_init(&e);
    int ok = sl_escape_append(&e, msg, 0) == 0;
    const char *text = ok ? e.data : "(out of memory)";
    if (id != NULL)
        sl_log(level, "app (id %s): %s", id, text);
    else
        sl_log(level, "app: %s", text);
    sl_buf_free(&e);
    return 0;
}

int sl_req_log(sl_req *req, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vlog(req == NULL ? NULL : req->request_id[0] != '\0' ? req->request_id : "-", level, fmt, ap);
    va_end(ap);
    return rc;
}

int sl_app_log(sl_app *app, int level, const char *fmt, ...)
{
    (void)app;
    va_list ap;
    va_start(ap, fmt);
    int rc = vlog(NULL, level, fmt, ap);
    va_end(ap);
    return rc;
}
