/*
 * config.h: options from the command line and the INI config file.
 *
 * Every long option is also a config-file key (section-less, or under
 * [sluice]), as in uWSGI's --ini and PHP-FPM's pool files.  The command line
 * wins over the file, whatever their order.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "config/address.h"
#include "util/log.h"

#define SL_MAX_WORKERS 1024     /* --workers, and the master's table */
#define SL_MAX_LISTENERS 16
#define SL_MAX_ALLOW 32         /* --allow-from entries */
/* --docs-assets: FastAPI's default, swagger-ui-dist 5 on jsDelivr */
#define SL_DOCS_ASSETS_DEFAULT "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

typedef struct sl_config {
    sl_listen_spec listeners[SL_MAX_LISTENERS];
    int nlisteners;
    int workers;            /* default: number of CPUs */
    int threads;            /* default: 4 */
    int graceful_timeout;   /* seconds, default 30 */
    int log_level;          /* enum sl_log_level, default SL_LOG_INFO */
    /* Bounds on what one peer can make a worker hold (see sluice(1)). */
    int max_params_size;    /* bytes of CGI parameters per request */
    int max_body_size;      /* bytes of request body: 413 beyond */
    int max_conn_requests;  /* requests in progress on one connection */
    int max_connections;    /* connections per worker; beyond, accept pauses */
    int read_timeout;       /* seconds a started request may take to arrive */
    int keepalive_timeout;  /* seconds an idle connection is kept */
    int backlog;            /* listen queue */
    /* Who may connect. */
    int socket_mode;        /* unix socket permissions, default 0660 */
    char socket_group[64];  /* "" : the process's group */
    sl_cidr allow[SL_MAX_ALLOW]; /* TCP peers allowed; none: any */
    int nallow;
    char socket_owner[64];  /* "" : the process's user */
    /* The process manager (0 turns each off). */
    int timeout;            /* seconds per request: 504, and the heartbeat */
    int max_requests;       /* a worker retires after this many */
    int max_requests_jitter;/* plus a random 0..this */
    int max_worker_memory;  /* MiB of RSS; past it the worker retires */
    int limit_concurrency;  /* requests in flight per worker: 503 beyond */
    /* Running as a service. */
    char user[64];          /* workers run as this user ("" : unchanged) */
    char group[64];
    char pidfile[4096];
    char chdir[4096];
    int check_config;       /* --check-config: validate, print, exit */
    /* Observability (issue: status, metrics, logs). */
    char health_path[256];  /* "" : off */
    char status_path[256];
    char metrics_path[256];
    /* The app's OpenAPI document and Swagger UI page: "off" turns each
     * off (a page needs its document). */
    char openapi_path[256]; /* default /openapi.json */
    char docs_path[256];    /* default /docs */
    char docs_assets[1024]; /* swagger-ui-dist's URL, default jsDelivr's */
    char error_log[4096];   /* "" or "-": stderr */
    int log_json;           /* --log-format json */
    char access_log[4096];  /* "" : off; "-": stderr */
    char access_log_format[512]; /* "" : the default text format; "json" */
    int slow_request_ms;    /* 0 : off */
    /* The key signed cookies are signed with: the config file's `secret`
     * (never on the command line, where ps shows it), else a random one
     * the master makes (sl_config_fill_secret).  Never logged nor printed. */
    char secret[512];
    int secret_random;      /* made by sl_config_fill_secret */
    char config_file[4096]; /* "" when none */
    char app_path[4096];    /* the APP.so argument */
    int show_help;          /* --help was given */
    int show_version;       /* --version was given */
} sl_config;

/* Defaults (workers from the CPU count). */
void sl_config_defaults(sl_config *c);

/*
 * Parse argv, then the config file named by -c/--config if any, then fill in
 * the default listener when none was given (--fastcgi unix:sluice.sock).
 * Returns 0 on success.  On a bad option or config returns -EINVAL (-ENOMEM
 * when out of memory) and writes one
 * line saying what is wrong (and where: "FILE:LINE: ..." for the file) into
 * err[0..errlen).  --help and --version set their flags and return 0 without
 * requiring APP.
 */
int sl_config_parse(sl_config *c, int argc, char **argv, char *err, size_t errlen);

/* Listener addresses and --allow-from entries are parsed by address.h. */

/*
 * The secret of a config that sets none: 32 random bytes as 64 hex
 * digits, or `prev`'s when that one was made so too (a reload keeps the
 * start's, and cookies signed before it still verify).  The master calls
 * it before forking, so all workers share it.  0, or -errno.
 */
int sl_config_fill_secret(sl_config *c, const sl_config *prev);

/* Print the effective settings as config-file lines (--check-config). */
void sl_config_print(const sl_config *c, FILE *f);

/* The --help text. */
const char *sl_config_usage(void);

#endif
