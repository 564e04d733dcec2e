/*
 * config.c: options from the command line and the INI config file (see
 * config.h).
 *
 * Order of precedence: built-in defaults, then the config file, then the
 * command line.  Because -c may come anywhere on the command line, the
 * command line is parsed first into an "overlay" (a config whose unset
 * fields hold -1 or ""), the file is read into the real config, and the
 * overlay is applied on top.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <stddef.h>
#include "config/address.h"
#include "config/config.h"
#include "config/config_file.h"
#include "config/values.h"
#include "util/hmac.h"

#define MAX_THREADS 1024
#define MAX_GRACEFUL 86400


/* Long-only options get values outside the char range. */
enum {
    OPT_WORKERS = 'w',
    OPT_THREADS = 't',
    OPT_CONFIG = 'c',
    OPT_FASTCGI = 256,
    OPT_SCGI,
    OPT_GRACEFUL,
    OPT_LOGLEVEL,
    OPT_HELP,
    OPT_VERSION,
    OPT_MAX_PARAMS,
    OPT_MAX_BODY,
    OPT_MAX_CONN_REQS,
    OPT_MAX_CONNS,
    OPT_READ_TIMEOUT,
    OPT_KEEPALIVE_TIMEOUT,
    OPT_BACKLOG,
    OPT_SOCKET_MODE,
    OPT_SOCKET_GROUP,
    OPT_ALLOW_FROM,
    OPT_SOCKET_OWNER,
    OPT_TIMEOUT,
    OPT_MAX_REQUESTS,
    OPT_MAX_REQUESTS_JITTER,
    OPT_MAX_WORKER_MEMORY,
    OPT_LIMIT_CONCURRENCY,
    OPT_USER,
    OPT_GROUP,
    OPT_PIDFILE,
    OPT_CHDIR,
    OPT_CHECK_CONFIG,
    OPT_HEALTH_PATH,
    OPT_STATUS_PATH,
    OPT_METRICS_PATH,
    OPT_ERROR_LOG,
    OPT_LOG_FORMAT,
    OPT_ACCESS_LOG,
    OPT_ACCESS_LOG_FORMAT,
    OPT_SLOW_REQUEST_MS,
    OPT_OPENAPI_PATH,
    OPT_DOCS_PATH,
    OPT_DOCS_ASSETS,
};

/* Leading ':' makes getopt return ':' for a missing value, silently. */
static const char short_options[] = ":w:t:c:";

static const struct option long_options[] = {
    { "fastcgi",          required_argument, NULL, OPT_FASTCGI },
    { "scgi",             required_argument, NULL, OPT_SCGI },
    { "workers",          required_argument, NULL, OPT_WORKERS },
    { "threads",          required_argument, NULL, OPT_THREADS },
    { "graceful-timeout", required_argument, NULL, OPT_GRACEFUL },
    { "log-level",        required_argument, NULL, OPT_LOGLEVEL },
    { "config",           required_argument, NULL, OPT_CONFIG },
    { "max-params-size",  required_argument, NULL, OPT_MAX_PARAMS },
    { "max-body-size",    required_argument, NULL, OPT_MAX_BODY },
    { "max-conn-requests", required_argument, NULL, OPT_MAX_CONN_REQS },
    { "max-connections",  required_argument, NULL, OPT_MAX_CONNS },
    { "read-timeout",     required_argument, NULL, OPT_READ_TIMEOUT },
    { "keepalive-timeout", required_argument, NULL, OPT_KEEPALIVE_TIMEOUT },
    { "backlog",          required_argument, NULL, OPT_BACKLOG },
    { "socket-mode",      required_argument, NULL, OPT_SOCKET_MODE },
    { "socket-group",     required_argument, NULL, OPT_SOCKET_GROUP },
    { "allow-from",       required_argument, NULL, OPT_ALLOW_FROM },
    { "socket-owner",     required_argument, NULL, OPT_SOCKET_OWNER },
    { "timeout",          required_argument, NULL, OPT_TIMEOUT },
    { "max-requests",     required_argument, NULL, OPT_MAX_REQUESTS },
    { "max-requests-jitter", required_argument, NULL, OPT_MAX_REQUESTS_JITTER },
    { "max-worker-memory", required_argument, NULL, OPT_MAX_WORKER_MEMORY },
    { "limit-concurrency", required_argument, NULL, OPT_LIMIT_CONCURRENCY },
    { "user",             required_argument, NULL, OPT_USER },
    { "group",            required_argument, NULL, OPT_GROUP },
    { "pidfile",          required_argument, NULL, OPT_PIDFILE },
    { "chdir",            required_argument, NULL, OPT_CHDIR },
    { "check-config",     no_argument,       NULL, OPT_CHECK_CONFIG },
    { "health-path",      required_argument, NULL, OPT_HEALTH_PATH },
    { "status-path",      required_argument, NULL, OPT_STATUS_PATH },
    { "metrics-path",     required_argument, NULL, OPT_METRICS_PATH },
    { "error-log",        required_argument, NULL, OPT_ERROR_LOG },
    { "log-format",       required_argument, NULL, OPT_LOG_FORMAT },
    { "access-log",       required_argument, NULL, OPT_ACCESS_LOG },
    { "access-log-format", required_argument, NULL, OPT_ACCESS_LOG_FORMAT },
    { "slow-request-ms",  required_argument, NULL, OPT_SLOW_REQUEST_MS },
    { "openapi-path",     required_argument, NULL, OPT_OPENAPI_PATH },
    { "docs-path",        required_argument, NULL, OPT_DOCS_PATH },
    { "docs-assets",      required_argument, NULL, OPT_DOCS_ASSETS },
    { "version",          no_argument,       NULL, OPT_VERSION },
    { "help",             no_argument,       NULL, OPT_HELP },
    { NULL, 0, NULL, 0 }
};

static const char *const log_levels[] = { "error", "warn", "info", "debug" };

static const char usage_text[] =
    "sluice: serve the handlers of a C shared object over FastCGI or SCGI.\n"
    "\n"
    "Usage: sluice [OPTIONS] APP.so\n"
    "  --fastcgi ADDR     listen for FastCGI (repeatable)\n"
    "  --scgi ADDR        listen for SCGI (repeatable)\n"
    "                     ADDR: unix:/path/to.sock | HOST:PORT | [IPv6]:PORT"
    " | fd:N\n"
    "                     default when neither is given:"
    " --fastcgi unix:sluice.sock\n"
    "  -w, --workers N    worker processes (default: number of CPUs)\n"
    "  -t, --threads N    blocking-handler threads per worker (default 4)\n"
    "  --graceful-timeout SECONDS   time in-flight requests get on stop"
    " (default 30)\n"
    "  --log-level LEVEL  error|warn|info|debug (default info), to stderr\n"
    "  -c, --config FILE  INI file; every long option is a key\n"
    "\n"
    "Limits (per worker; sizes take a k, m or g suffix):\n"
    "  --max-params-size BYTES    CGI parameters per request (default 128k):"
    " 431\n"
    "  --max-body-size BYTES      request body (default 32m): 413\n"
    "  --max-conn-requests N      requests in progress per connection"
    " (default 128);\n"
    "                             per worker, requests still arriving:"
    " at most\n"
    "                             the larger of this and --max-connections\n"
    "  --max-connections N        connections per worker; beyond, accepting"
    " pauses\n"
    "                             (default 4096)\n"
    "  --read-timeout SECONDS     for a started request to arrive"
    " (default 30);\n"
    "                             also for a closing peer to read our last"
    " answer\n"
    "  --keepalive-timeout SECONDS  idle kept connection (default 75)\n"
    "  --backlog N                listen queue (default 1024)\n"
    "\n"
    "Access:\n"
    "  --socket-mode MODE         unix socket permissions (default 0660)\n"
    "  --socket-group GROUP       unix socket group (the web server's)\n"
    "  --allow-from LIST          TCP peers allowed: addresses or CIDR"
    " ranges,\n"
    "                             comma-separated (repeatable; also"
    " FCGI_WEB_SERVER_ADDRS)\n"
    "  --socket-owner USER        unix socket owner\n"
    "\n"
    "Process manager (0 turns a limit off):\n"
    "  --timeout SECONDS          per request: 504; also the heartbeat"
    " (default 30)\n"
    "  --max-requests N           a worker retires after N requests\n"
    "  --max-requests-jitter J    plus a random 0..J\n"
    "  --max-worker-memory MB     a worker past this RSS retires\n"
    "  --limit-concurrency N      requests in flight per worker: 503"
    " beyond\n"
    "  --user USER, --group GROUP run workers and the app as them (--group\n"
    "                             needs --user)\n"
    "  --pidfile FILE, --chdir DIR\n"
    "  --check-config             load the config and the app, print the"
    " settings\n"
    "\n"
    "Observability:\n"
    "  --health-path PATH, --status-path PATH, --metrics-path PATH\n"
    "  --error-log FILE|-         (default stderr)\n"
    "  --log-format text|json\n"
    "  --access-log FILE|-        (default off)\n"
    "  --access-log-format FMT    fields like {remote} {method} {uri}"
    " {status},\n"
    "                             or json\n"
    "  --slow-request-ms N        log requests running longer, with a"
    " backtrace\n"
    "\n"
    "API documentation (\"off\" turns each off):\n"
    "  --openapi-path PATH        the app's OpenAPI 3.1 document"
    " (default /openapi.json)\n"
    "  --docs-path PATH           its Swagger UI page (default /docs)\n"
    "  --docs-assets URL          where the page loads swagger-ui-dist from\n"
    "                             (default " SL_DOCS_ASSETS_DEFAULT ")\n"
    "\n"
    "  --version, --help\n";

const char *sl_config_usage(void)
{
    return usage_text;
}

/* A size in bytes with an optional k, m or g suffix (powers of 1024). */
static int parse_size(const char *s, long min, long max, int *out)
{
    char *end;
    long long v, mul = 1;

    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0)
        return -EINVAL;
    if (*end == 'k' || *end == 'K')
        mul = 1024;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024;
    else if (*end == 'g' || *end == 'G')
        mul = 1024 * 1024 * 1024;
    if (mul != 1)
        end++;
    if (*end != '\0' || v > max / mul || v * mul < min)
        return -EINVAL;
    *out = (int)(v * mul);
    return 0;
}

/* Octal permissions, "0660" or "660". */
static int parse_mode(const char *s, int *out)
{
    char *end;
    long v;

    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 8);
    if (errno != 0 || *end != '\0' || v < 0 || v > 0777)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

enum num_kind { NUM_COUNT, NUM_SECONDS, NUM_BYTES, NUM_MODE };

/* The numeric options: where each lives in sl_config and its range. */
static const struct num_opt {
    int id;
    size_t off;
    enum num_kind kind;
    long min, max;
} num_opts[] = {
    { OPT_WORKERS, offsetof(sl_config, workers), NUM_COUNT, 1, SL_MAX_WORKERS },
    { OPT_THREADS, offsetof(sl_config, threads), NUM_COUNT, 1, MAX_THREADS },
    { OPT_GRACEFUL, offsetof(sl_config, graceful_timeout), NUM_SECONDS, 0,
      MAX_GRACEFUL },
    { OPT_MAX_PARAMS, offsetof(sl_config, max_params_size), NUM_BYTES, 1024,
      64L * 1024 * 1024 },
    { OPT_MAX_BODY, offsetof(sl_config, max_body_size), NUM_BYTES, 0,
      1024L * 1024 * 1024 },
    { OPT_MAX_CONN_REQS, offsetof(sl_config, max_conn_requests), NUM_COUNT, 1,
      65535 },
    { OPT_MAX_CONNS, offsetof(sl_config, max_connections), NUM_COUNT, 1,
      1000000 },
    { OPT_READ_TIMEOUT, offsetof(sl_config, read_timeout), NUM_SECONDS, 1,
      MAX_GRACEFUL },
    { OPT_KEEPALIVE_TIMEOUT, offsetof(sl_config, keepalive_timeout),
      NUM_SECONDS, 1, MAX_GRACEFUL },
    { OPT_BACKLOG, offsetof(sl_config, backlog), NUM_COUNT, 1, 65535 },
    { OPT_SOCKET_MODE, offsetof(sl_config, socket_mode), NUM_MODE, 0, 0777 },
    { OPT_TIMEOUT, offsetof(sl_config, timeout), NUM_SECONDS, 0, MAX_GRACEFUL },
    { OPT_MAX_REQUESTS, offsetof(sl_config, max_requests), NUM_COUNT, 0,
      INT_MAX },
    { OPT_MAX_REQUESTS_JITTER, offsetof(sl_config, max_requests_jitter),
      NUM_COUNT, 0, INT_MAX },
    { OPT_MAX_WORKER_MEMORY, offsetof(sl_config, max_worker_memory), NUM_COUNT,
      0, 1024 * 1024 },
    { OPT_LIMIT_CONCURRENCY, offsetof(sl_config, limit_concurrency), NUM_COUNT,
      0, 1000000 },
    { OPT_SLOW_REQUEST_MS, offsetof(sl_config, slow_request_ms), NUM_COUNT, 0,
      86400 * 1000 },
};

/* The free-text options: where each lives, and its capacity. */
static const struct str_opt {
    int id;
    size_t off;
    size_t size;
    char first;     /* required first character, or 0 */
} str_opts[] = {
    { OPT_SOCKET_GROUP, offsetof(sl_config, socket_group), 64, 0 },
    { OPT_SOCKET_OWNER, offsetof(sl_config, socket_owner), 64, 0 },
    { OPT_USER, offsetof(sl_config, user), 64, 0 },
    { OPT_GROUP, offsetof(sl_config, group), 64, 0 },
    { OPT_PIDFILE, offsetof(sl_config, pidfile), 4096, 0 },
    { OPT_CHDIR, offsetof(sl_config, chdir), 4096, 0 },
    { OPT_HEALTH_PATH, offsetof(sl_config, health_path), 256, '/' },
    { OPT_STATUS_PATH, offsetof(sl_config, status_path), 256, '/' },
    { OPT_METRICS_PATH, offsetof(sl_config, metrics_path), 256, '/' },
    { OPT_ERROR_LOG, offsetof(sl_config, error_log), 4096, 0 },
    { OPT_ACCESS_LOG, offsetof(sl_config, access_log), 4096, 0 },
    { OPT_ACCESS_LOG_FORMAT, offsetof(sl_config, access_log_format), 512, 0 },
    { OPT_OPENAPI_PATH, offsetof(sl_config, openapi_path), 256, '/' },
    { OPT_DOCS_PATH, offsetof(sl_config, docs_path), 256, '/' },
    { OPT_DOCS_ASSETS, offsetof(sl_config, docs_assets), 1024, 0 },
};

#define STR_OPTS (sizeof(str_opts) / sizeof(str_opts[0]))

static const struct str_opt *find_str_opt(int id)
{
    for (size_t i = 0; i < STR_OPTS; i++)
        if (str_opts[i].id == id)
            return &str_opts[i];
    return NULL;
}

/* --openapi-path and --docs-path: "off" or an empty value turns each off
 * (kept as "off"). */
static int can_be_off(const struct str_opt *o)
{
    return o->id == OPT_OPENAPI_PATH || o->id == OPT_DOCS_PATH;
}

static char *str_field(sl_config *c, const struct str_opt *o)
{
    return (char *)c + o->off;
}

static int set_str(sl_config *c, const struct str_opt *o, const char *label,
                   const char *value, char *err, size_t errlen)
{
    if (can_be_off(o) && (*value == '\0' || strcmp(value, "off") == 0))
        value = "off";
    if (*value == '\0')
        return sl_config_fail(err, errlen, "%s: empty value", label);
    if (o->first != 0 && value[0] != o->first && !(can_be_off(o) && strcmp(value, "off") == 0))
        return sl_config_fail(err, errlen, "%s: '%s' must start with '%c'", label, value,
                    o->first);
    if (sl_copy_str(str_field(c, o), o->size, value) < 0)
        return sl_config_fail(err, errlen, "%s: longer than %zu bytes", label,
                    o->size - 1);
    return 0;
}

#define NUM_OPTS (sizeof(num_opts) / sizeof(num_opts[0]))

static const struct num_opt *find_num_opt(int id)
{
    for (size_t i = 0; i < NUM_OPTS; i++)
        if (num_opts[i].id == id)
            return &num_opts[i];
    return NULL;
}

static int *num_field(sl_config *c, const struct num_opt *o)
{
    return (int *)(void *)((char *)c + o->off);
}

static int set_num(sl_config *c, const struct num_opt *o, const char *label,
                   const char *value, char *err, size_t errlen)
{
    int *f = num_field(c, o);

    switch (o->kind) {
    case NUM_COUNT:
        if (sl_parse_int(value, o->min, o->max, f) == 0)
            return 0;
        return sl_config_fail(err, errlen, "%s: '%s' is not a number between %ld and "
                    "%ld", label, value, o->min, o->max);
    case NUM_SECONDS:
        if (sl_parse_int(value, o->min, o->max, f) == 0)
            return 0;
        return sl_config_fail(err, errlen, "%s: '%s' is not a number of seconds "
                    "between %ld and %ld", label, value, o->min, o->max);
    case NUM_BYTES:
        if (parse_size(value, o->min, o->max, f) == 0)
            return 0;
        return sl_config_fail(err, errlen, "%s: '%s' is not a size between %ld and "
                    "%ld bytes (k, m, g suffixes allowed)", label, value,
                    o->min, o->max);
    case NUM_MODE:
        if (parse_mode(value, f) == 0)
            return 0;
        return sl_config_fail(err, errlen, "%s: '%s' is not an octal mode such as "
                    "0660", label, value);
    }
    return -EINVAL;
}

/* A comma- or space-separated list, added to c->allow. */
static int add_allow(sl_config *c, const char *label, const char *list,
                     char *err, size_t errlen)
{
    const char *p = list;

    while (*p != '\0') {
        size_t n;

        p += strspn(p, ", \t");
        n = strcspn(p, ", \t");
        if (n == 0)
            break;
        if (c->nallow >= SL_MAX_ALLOW)
            return sl_config_fail(err, errlen, "%s: more than %d addresses", label,
                        SL_MAX_ALLOW);
        if (sl_cidr_parse(p, n, &c->allow[c->nallow]) < 0)
            return sl_config_fail(err, errlen, "%s: '%.*s' is not an IP address or "
                        "CIDR range", label, (int)n, p);
        c->nallow++;
        p += n;
    }
    return 0;
}

static int add_listener(sl_config *c, enum sl_proto proto, const char *label,
                        const char *addr, char *err, size_t errlen)
{
    char lerr[512];

    if (c->nlisteners >= SL_MAX_LISTENERS)
        return sl_config_fail(err, errlen, "%s: too many listeners (at most %d)",
                    label, SL_MAX_LISTENERS);
    if (sl_listen_parse(&c->listeners[c->nlisteners], proto, addr, lerr,
                        sizeof(lerr)) < 0)
        return sl_config_fail(err, errlen, "%s: %s", label, lerr);
    c->nlisteners++;
    return 0;
}

static int parse_level(const char *s)
{
    for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
        if (strcmp(s, log_levels[i]) == 0)
            return (int)i;
    return -1;
}

/*
 * Set one option from either source.  label names it the way the user wrote
 * it: "--workers" on the command line, "workers" in the file.
 */
static int set_option(sl_config *c, int id, const char *label,
                      const char *value, char *err, size_t errlen)
{
    const struct num_opt *o = find_num_opt(id);
    const struct str_opt *so = find_str_opt(id);

    if (o != NULL)
        return set_num(c, o, label, value, err, errlen);
    if (so != NULL)
        return set_str(c, so, label, value, err, errlen);
    switch (id) {
    case OPT_LOG_FORMAT:
        if (strcmp(value, "text") == 0)
            c->log_json = 0;
        else if (strcmp(value, "json") == 0)
            c->log_json = 1;
        else
            return sl_config_fail(err, errlen, "%s: '%s' is not one of text, json",
                        label, value);
        return 0;
    case OPT_ALLOW_FROM:
        return add_allow(c, label, value, err, errlen);
    case OPT_FASTCGI:
        return add_listener(c, SL_PROTO_FASTCGI, label, value, err, errlen);
    case OPT_SCGI:
        return add_listener(c, SL_PROTO_SCGI, label, value, err, errlen);
    case OPT_LOGLEVEL:
        if ((c->log_level = parse_level(value)) < 0)
            return sl_config_fail(err, errlen, "%s: '%s' is not one of error, warn, "
                        "info, debug", label, value);
        return 0;
    case OPT_CONFIG:
        if (*value == '\0' ||
            sl_copy_str(c->config_file, sizeof(c->config_file), value) < 0)
            return sl_config_fail(err, errlen, "%s: '%s' is not a usable file name",
                        label, value);
        return 0;
    }
    return sl_config_fail(err, errlen, "%s: internal error: unhandled option", label);
}

static int set_app(sl_config *c, const char *label, const char *value,
                   char *err, size_t errlen)
{
    if (*value == '\0')
        return sl_config_fail(err, errlen, "%s: empty APP.so path", label);
    if (sl_copy_str(c->app_path, sizeof(c->app_path), value) < 0)
        return sl_config_fail(err, errlen, "%s: APP.so path longer than %zu bytes",
                    label, sizeof(c->app_path) - 1);
    return 0;
}

void sl_config_defaults(sl_config *c)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    memset(c, 0, sizeof(*c));
    if (ncpu < 1)
        ncpu = 1;
    if (ncpu > SL_MAX_WORKERS)
        ncpu = SL_MAX_WORKERS;
    c->workers = (int)ncpu;
    c->threads = 4;
    c->graceful_timeout = 30;
    c->log_level = SL_LOG_INFO;
    c->max_params_size = 128 * 1024;
    c->max_body_size = 32 * 1024 * 1024;
    c->max_conn_requests = 128;
    c->max_connections = 4096;
    c->read_timeout = 30;
    c->keepalive_timeout = 75;
    c->backlog = 1024;
    c->socket_mode = 0660;
    c->timeout = 30;
    strcpy(c->openapi_path, "/openapi.json");
    strcpy(c->docs_path, "/docs");
    strcpy(c->docs_assets, SL_DOCS_ASSETS_DEFAULT);
}

/* ---- one key of the config file ---------------------------------------- */

/* Signed cookies' key.  The value is never part of a message. */
#define MIN_SECRET 16
static int set_secret(sl_config *c, const char *value, char *err, size_t errlen)
{
    size_t n = strlen(value);
    if (n < MIN_SECRET)
        return sl_config_fail(err, errlen, "secret: shorter than %d bytes (%zu); make one "
                              "with: head -c 32 /dev/urandom | base64", MIN_SECRET, n);
    if (n >= sizeof c->secret)
        return sl_config_fail(err, errlen, "secret: longer than %zu bytes",
                              sizeof c->secret - 1);
    memcpy(c->secret, value, n + 1);
    c->secret_random = 0;
    return 0;
}

int sl_config_fill_secret(sl_config *c, const sl_config *prev)
{
    if (c->secret[0] != '\0')
        return 0;
    if (prev != NULL && prev->secret_random) {
        memcpy(c->secret, prev->secret, sizeof c->secret);
        c->secret_random = 1;
        return 0;
    }
    unsigned char r[32];
    int rc = sl_random_bytes(r, sizeof r);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(c->secret + 2 * i, 3, "%02x", r[i]);
    c->secret_random = 1;
    return 0;
}

/* Set one key of the file (a long option name, or "app"); the INI reader
 * (config_file.c) calls it back with the config as `arg`.  0, or -1. */
static int set_key(void *arg, const char *name, const char *value, char *err,
                   size_t errlen)
{
    sl_config *c = arg;
    if (strcmp(name, "app") == 0)
        return set_app(c, "app", value, err, errlen);
    if (strcmp(name, "config") == 0)
        return sl_config_fail(err, errlen, "'config' cannot be set inside a config file");
    if (strcmp(name, "secret") == 0)
        return set_secret(c, value, err, errlen);
    for (const struct option *o = long_options; o->name != NULL; o++)
        if (strcmp(name, o->name) == 0 && o->has_arg == required_argument)
            return set_option(c, o->val, name, value, err, errlen);
    return sl_config_fail(err, errlen, "unknown key '%s'", name);
}

/* ---- the command line --------------------------------------------------- */

/* "--workers" for a long option, "-w" as typed for a short one. */
static void option_label(char *buf, size_t size, int id, const char *typed)
{
    for (const struct option *o = long_options; o->name != NULL; o++)
        if (o->val == id) {
            if (id < 256 && strncmp(typed, "--", 2) != 0)
                snprintf(buf, size, "-%c", id);
            else
                snprintf(buf, size, "--%s", o->name);
            return;
        }
    snprintf(buf, size, "-%c", id);
}

/* Explain a '?' from getopt_long. */
static int bad_option(int argc, char **argv, char *err, size_t errlen)
{
    const char *typed = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    char label[64];

    if (strncmp(typed, "--", 2) == 0) {
        size_t n = strcspn(typed, "=");
        /* A known long option with "=value" it does not take. */
        for (const struct option *o = long_options; o->name != NULL; o++)
            if (o->val == optopt && optopt != 0) {
                option_label(label, sizeof(label), optopt, typed);
                return sl_config_fail(err, errlen, "option '%s' doesn't take a value",
                            label);
            }
        return sl_config_fail(err, errlen, "unrecognized option '%.*s'", (int)n, typed);
    }
    if (isprint(optopt))
        return sl_config_fail(err, errlen, "unrecognized option '-%c'", optopt);
    return sl_config_fail(err, errlen, "unrecognized option '%s'", typed);
}

/*
 * Parse argv into the overlay ov: unset numbers stay -1, unset strings "".
 * Positional arguments are left at argv[optind..argc).
 */
static int parse_argv(sl_config *ov, int argc, char **argv, char *err,
                      size_t errlen)
{
    char label[64];
    int ch;

    /* optind = 0 makes glibc reinitialise, so tests may parse repeatedly. */
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, short_options, long_options,
                             NULL)) != -1) {
        switch (ch) {
        case OPT_HELP:
            ov->show_help = 1;
            break;
        case OPT_VERSION:
            ov->show_version = 1;
            break;
        case OPT_CHECK_CONFIG:
            ov->check_config = 1;
            break;
        case ':':
            option_label(label, sizeof(label), optopt, argv[optind - 1]);
            return sl_config_fail(err, errlen, "option '%s' requires a value", label);
        case '?':
            return bad_option(argc, argv, err, errlen);
        default:
            option_label(label, sizeof(label), ch, "--");
            int rc = set_option(ov, ch, label, optarg, err, errlen);
            if (rc < 0)
                return rc;
            break;
        }
    }
    return 0;
}

/*
 * Only what cannot leave the host: an IPv4 literal in 127.0.0.0/8, the IPv6
 * literal ::1, and the name "localhost".  Any other name is resolved by
 * whoever controls DNS (127.evil.example may be anywhere).
 */
static int is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return memcmp(&a6, &in6addr_loopback, sizeof a6) == 0;
    return 0;
}

/*
 * FastCGI has no authentication: whoever connects runs requests with any
 * parameters it likes.  A TCP listener beyond loopback must therefore name
 * the web servers that may connect.
 */
static int check_exposure(const sl_config *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->nlisteners; i++) {
        const sl_listen_spec *l = &c->listeners[i];
        if (l->kind == SL_ADDR_TCP && !is_loopback(l->host) && c->nallow == 0)
            return sl_config_fail(err, errlen, "%s: a listener beyond loopback needs "
                        "--allow-from with the web servers' addresses",
                        l->text);
    }
    return 0;
}

/*
 * --group alone would change the workers' group and leave them root, with
 * every capability: refuse it rather than give a false sense of safety.
 */
static int check_identity(const sl_config *c, char *err, size_t errlen)
{
    if (c->group[0] != '\0' && c->user[0] == '\0')
        return sl_config_fail(err, errlen, "--group %s without --user would leave the "
                    "workers running as root: give --user too (e.g. --user www-data "
                    "--group %s)", c->group, c->group);
    return 0;
}

/* The overlay wins wherever the command line set something. */
static void apply_overlay(sl_config *c, sl_config *ov)
{
    if (ov->nlisteners > 0) {
        memcpy(c->listeners, ov->listeners, sizeof(c->listeners));
        c->nlisteners = ov->nlisteners;
    }
    for (size_t i = 0; i < NUM_OPTS; i++)
        if (*num_field(ov, &num_opts[i]) >= 0)
            *num_field(c, &num_opts[i]) = *num_field(ov, &num_opts[i]);
    if (ov->log_level >= 0)
        c->log_level = ov->log_level;
    if (ov->app_path[0] != '\0')
        memcpy(c->app_path, ov->app_path, sizeof(c->app_path));
    for (size_t i = 0; i < STR_OPTS; i++)
        if (str_field(ov, &str_opts[i])[0] != '\0')
            memcpy(str_field(c, &str_opts[i]), str_field(ov, &str_opts[i]),
                   str_opts[i].size);
    if (ov->log_json >= 0)
        c->log_json = ov->log_json;
    if (ov->check_config)
        c->check_config = 1;
    if (ov->nallow > 0) {
        memcpy(c->allow, ov->allow, sizeof(c->allow));
        c->nallow = ov->nallow;
    }
}

int sl_config_parse(sl_config *c, int argc, char **argv, char *err,
                    size_t errlen)
{
    static const char default_listener[] = "unix:sluice.sock";
    sl_config *ov;
    int r = -EINVAL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    sl_config_defaults(c);
    /* sl_config is about 15 KiB; keep the overlay off the stack. */
    ov = calloc(1, sizeof(*ov));
    if (ov == NULL) {
        sl_config_fail(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < NUM_OPTS; i++)
        *num_field(ov, &num_opts[i]) = -1;
    ov->log_level = -1;
    ov->log_json = -1;

    if (parse_argv(ov, argc, argv, err, errlen) < 0)
        goto out;
    c->show_help = ov->show_help;
    c->show_version = ov->show_version;
    if (c->show_help || c->show_version) {
        r = 0;  /* no APP needed, and a broken config must not hide help */
        goto out;
    }
    if (optind < argc && set_app(ov, "APP.so", argv[optind], err,
                                 errlen) < 0)
        goto out;
    if (optind + 1 < argc) {
        sl_config_fail(err, errlen, "unexpected argument '%s': only one APP.so is "
             "allowed", argv[optind + 1]);
        goto out;
    }
    if (ov->config_file[0] != '\0') {
        c->check_config = ov->check_config;
        memcpy(c->config_file, ov->config_file, sizeof(c->config_file));
        r = sl_config_read_file(c->config_file, c->check_config, set_key, c, err, errlen);
        if (r < 0)
            goto out;
        r = -EINVAL;
    }
    apply_overlay(c, ov);
    /* FastCGI's own way to name the web servers allowed to connect. */
    if (getenv("FCGI_WEB_SERVER_ADDRS") != NULL &&
        add_allow(c, "FCGI_WEB_SERVER_ADDRS", getenv("FCGI_WEB_SERVER_ADDRS"),
                  err, errlen) < 0)
        goto out;
    if (c->app_path[0] == '\0') {
        sl_config_fail(err, errlen, "missing APP.so argument (see --help)");
        goto out;
    }
    if (check_exposure(c, err, errlen) < 0 || check_identity(c, err, errlen) < 0)
        goto out;
    if (c->nlisteners == 0 &&
        add_listener(c, SL_PROTO_FASTCGI, "default", default_listener, err,
                     errlen) < 0)
        goto out;
    r = 0;
out:
    free(ov);
    return r;
}

/* ---- --check-config ------------------------------------------------------ */

static const char *option_name(int id)
{
    for (const struct option *o = long_options; o->name != NULL; o++)
        if (o->val == id)
            return o->name;
    return "?";
}

void sl_config_print(const sl_config *c, FILE *f)
{
    sl_config *cc = (sl_config *)c;   /* the field helpers take non-const */

    fprintf(f, "app = %s\n", c->app_path);
    if (c->config_file[0] != '\0')
        fprintf(f, "; config file %s\n", c->config_file);
    for (int i = 0; i < c->nlisteners; i++) {
        const char *t = c->listeners[i].text;
        const char *sp = strchr(t, ' ');
        fprintf(f, "%.*s = %s\n", (int)(sp - t), t, sp + 1);
    }
    for (size_t i = 0; i < NUM_OPTS; i++) {
        int v = *num_field(cc, &num_opts[i]);
        if (num_opts[i].kind == NUM_MODE)
            fprintf(f, "%s = %04o\n", option_name(num_opts[i].id), v);
        else
            fprintf(f, "%s = %d\n", option_name(num_opts[i].id), v);
    }
    for (size_t i = 0; i < STR_OPTS; i++) {
        const char *v = str_field(cc, &str_opts[i]);
        if (*v != '\0')
            fprintf(f, "%s = %s\n", option_name(str_opts[i].id), v);
    }
    fprintf(f, "log-level = %s\n", log_levels[c->log_level]);
    fprintf(f, "log-format = %s\n", c->log_json ? "json" : "text");
    /* Never the secret itself: only whether there is one. */
    if (c->secret[0] != '\0' && !c->secret_random)
        fprintf(f, "; secret: set in the config file (not shown)\n");
    else
        fprintf(f, "; secret: none set; a random one is made at each start\n");
    for (int i = 0; i < c->nallow; i++) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(c->allow[i].family, c->allow[i].addr, a, sizeof(a));
        fprintf(f, "allow-from = %s/%d\n", a, c->allow[i].bits);
    }
}
