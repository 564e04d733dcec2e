/*
 * timing.c: the request-timing header (sluice.h, sl_timing_add()), as one
 * middleware with only an `after`.
 *
 * Server-Timing (W3C) rather than FastAPI's tutorial X-Process-Time: a
 * standard header that browsers' developer tools show with the request,
 * in milliseconds ("app;dur=1.234"), and that a front server or CDN can
 * strip or add to without knowing sluice.
 */
#include <stdio.h>
#include <sluice.h>
#include "api/middleware.h"

static void timing_after(sl_req *req, void *user)
{
    (void)user;
    uint64_t ns = sl_req_elapsed_ns(req);
    char v[48];
    snprintf(v, sizeof v, "app;dur=%llu.%03llu", (unsigned long long)(ns / 1000000),
             (unsigned long long)(ns / 1000 % 1000));
    /* -EALREADY for a streamed answer: its head went out without it. */
    sl_resp_header(req, "Server-Timing", v);
}

int sl_timing_add(sl_app *app)
{
    sl_middleware mw = { .after = timing_after };
    return sl_middleware_add(app, &mw);
}
