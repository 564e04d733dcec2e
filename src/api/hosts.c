/*
 * hosts.c: trusted hosts, as Starlette's TrustedHostMiddleware (sluice.h,
 * sl_trusted_hosts_add()), as one middleware.
 *
 * The Host compared is the request's Host header (HTTP_HOST: nginx passes
 * it as the client sent it) without its port, case-insensitively, where
 * Starlette compares the bytes; a bracketed IPv6 address keeps its
 * colons.  No Host at all is the empty host, which no entry but "*"
 * allows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sluice.h>
#include "api/middleware.h"
#include "util/buf.h"
#include "util/log.h"

#define HOSTS_MAX 256
/* A Host longer than this is no host we allow (nor one worth copying). */
#define HOST_MAX 255

typedef struct hosts {
    size_t n;
    int any;
    char *entry[];              /* lower case; "*.x" kept as ".x" */
} hosts;

static void hosts_free(void *p)
{
    hosts *h = p;
    for (size_t i = 0; h != NULL && i < h->n; i++)
        free(h->entry[i]);
    free(h);
}

/* The host part of a Host value: its length (without ":port"). */
static size_t host_len(const char *v)
{
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        return close != NULL ? (size_t)(close - v) + 1 : strlen(v);
    }
    return strcspn(v, ":");
}

static int allowed(const hosts *h, const char *host, size_t n)
{
    if (h->any)
        return 1;
    for (size_t i = 0; i < h->n; i++) {
        const char *e = h->entry[i];
        size_t el = strlen(e);
        if (e[0] == '.') {
            /* "*.example.com": a subdomain, as Starlette's endswith(). */
            if (n > el && strncasecmp(host + n - el, e, el) == 0)
                return 1;
        } else if (n == el && strncasecmp(host, e, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Starlette's www_redirect: "www." + host is allowed. */
static int www_allowed(const hosts *h, const char *host, size_t n)
{
    char w[HOST_MAX + 5];
    if (n > HOST_MAX)
        return 0;
    memcpy(w, "www.", 4);
    memcpy(w + 4, host, n);
    for (size_t i = 0; i < h->n; i++)
        if (h->entry[i][0] != '.' && strlen(h->entry[i]) == n + 4 &&
            strncasecmp(h->entry[i], w, n + 4) == 0)
            return 1;
    return 0;
}

/* 307 to the same URL on www.<Host, port kept>. */
static int redirect_www(sl_req *req, const char *hostport)
{
    const char *scheme = sl_req_param(req, "REQUEST_SCHEME");
    const char *uri = sl_req_param(req, "REQUEST_URI");
    sl_buf b;
    sl_buf_init(&b);
    int rc = 0;
    rc |= sl_buf_append_str(&b, scheme != NULL && strcmp(scheme, "https") == 0 ? "https"
                                                                                 : "http");
    rc |= sl_buf_append_str(&b, "://www.");
    rc |= sl_buf_append_str(&b, hostport);
    rc |= sl_buf_append_str(&b, uri != NULL && uri[0] == '/' ? uri : "/");
    rc |= sl_buf_append(&b, "", 1);
    if (rc == 0)
        rc = sl_resp_header(req, "Location", b.data);
    sl_buf_free(&b);
    if (rc == 0)
        rc = sl_resp_status(req, 307);
    return rc < 0 ? rc : SL_OK;
}

static int hosts_before(sl_req *req, void *user)
{
    const hosts *h = user;
    const char *v = sl_req_header(req, "Host");
    if (v == NULL)
        v = "";
    size_t n = host_len(v);
    if (allowed(h, v, n))
        return SL_NEXT;
    /* The redirect repeats the Host: only one that is a plain name. */
    if (n > 0 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789.-:[]") == strlen(v) && www_allowed(h, v, n))
        return redirect_www(req, v);
    int rc = sl_resp_status(req, 400);
    if (rc == 0)
        rc = sl_resp_write(req, "Invalid host header", 19);
    return rc < 0 ? rc : SL_OK;
}

int sl_trusted_hosts_add(sl_app *app, const char *const *list)
{
    size_t n = 0;
    const char *why = NULL;
    if (app == NULL || list == NULL || list[0] == NULL)
        why = "sl_trusted_hosts_add() needs an app and a list of hosts";
    for (; why == NULL && list[n] != NULL; n++) {
        const char *e = list[n];
        const char *star = strchr(e, '*');
        if (n == HOSTS_MAX)
            why = "more than 256 hosts (or no NULL at their end)";
        else if (e[0] == '\0' || strlen(e) > HOST_MAX)
            why = "an empty host, or one longer than 255 bytes";
        else if (star != NULL && !(strcmp(e, "*") == 0 ||
                                   (e[1] == '.' && e[2] != '\0' && star == e &&
                                    strchr(e + 1, '*') == NULL)))
            why = "a '*' but as a leading \"*.\" or the whole entry";
    }
    if (why != NULL) {
        sl_error("trusted hosts refused: %s", why);
        return -EINVAL;
    }
    hosts *h = calloc(1, sizeof *h + n * sizeof *h->entry);
    if (h == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        const char *e = list[i];
        if (strcmp(e, "*") == 0) {
            h->any = 1;
            continue;
        }
        char *c = strdup(e[0] == '*' ? e + 1 : e);
        if (c == NULL)
            goto nomem;
        for (char *p = c; *p != '\0'; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        h->entry[h->n++] = c;
    }
    sl_middleware mw = { .before = hosts_before, .user = h };
    return sl_mw_add_owned(app, &mw, hosts_free);
nomem:
    sl_error("trusted hosts refused: out of memory");
    hosts_free(h);
    return -ENOMEM;
}
