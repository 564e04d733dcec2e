/*
 * program.c: the sluice program, sluice_main() of sluice.h: the options,
 * --check-config, the error log, then the master.  src/main.c calls it,
 * and so may a program of one's own that embeds sluice.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <sluice.h>
#include "api/app.h"
#include "config/config.h"
#include "master/master.h"
#include "util/accesslog.h"
#include "util/log.h"
#include "util/privs.h"
#include "worker/apidocs.h"

/* --check-config: the app is loaded in a child, as the master would (as
 * the workers' user). */
static int check_config(const sl_config *cfg)
{
    char err[512];
    if (cfg->access_log_format[0] &&
        sl_access_format_check(cfg->access_log_format, err, sizeof err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        return 1;
    }
    /* The users and groups named must exist, as the master will need them. */
    if (sl_privs_check(cfg->user, cfg->group, cfg->socket_owner, cfg->socket_group,
                       err, sizeof err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* The workers' user, as the workers and the master's check will. */
        if (sl_privs_drop(cfg->user, cfg->group, err, sizeof err) < 0) {
            fprintf(stderr, "sluice: %s\n", err);
            _exit(1);
        }
        sl_app *app = sl_app_load(cfg->app_path, NULL, err, sizeof err);
        if (app == NULL) {
            fprintf(stderr, "sluice: %s\n", err);
            _exit(1);
        }
        fprintf(stderr, "sluice: %s: %d routes\n", cfg->app_path, app->nroutes);
        /* The document the workers will serve, and what it costs them. */
        sl_apidocs docs;
        uint64_t t0 = uv_hrtime();
        if (sl_apidocs_build(&docs, app, cfg, SL_LOG_WARN) < 0) {
            fprintf(stderr, "sluice: the OpenAPI document: out of memory\n");
            _exit(1);
        }
        if (docs.json != NULL)
            fprintf(stderr, "sluice: OpenAPI document: %zu bytes, built in %.3f ms\n",
                    docs.json_len, (double)(uv_hrtime() - t0) / 1e6);
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return 1;
    if (geteuid() == 0 && cfg->user[0] == '\0')
        fprintf(stderr, "sluice: warning: no --user: the workers and the application "
                "would run as root\n");
    sl_config_print(cfg, stdout);
    return 0;
}

/* --error-log FILE: standard error itself becomes the file, so the master,
 * the workers and anything they start write there. */
static int open_error_log(const sl_config *cfg)
{
    if (cfg->error_log[0] == '\0' || strcmp(cfg->error_log, "-") == 0)
        return 0;
    int rc = sl_log_reopen(cfg->error_log, STDERR_FILENO);
    if (rc < 0) {
        fprintf(stderr, "sluice: --error-log %s: %s\n", cfg->error_log,
                rc == -ELOOP ? "is a symbolic link; refusing to write through it"
                             : strerror(-rc));
        return rc;
    }
    return 0;
}

static void raise_fd_limit(void)
{
    /* Every connection is a descriptor: take all the kernel allows us. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int sluice_main(int argc, char **argv)
{
    static sl_config cfg;
    char err[4096];
    if (sl_config_parse(&cfg, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        /* --check-config reports every error and exits 1, as it promises. */
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--check-config") == 0)
                return 1;
        return 2;
    }
    if (cfg.show_help) {
        fputs(sl_config_usage(), stdout);
        return 0;
    }
    if (cfg.show_version) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    if (cfg.chdir[0] && chdir(cfg.chdir) < 0) {
        fprintf(stderr, "sluice: --chdir %s: %s\n", cfg.chdir, strerror(errno));
        return 1;
    }
    if (cfg.access_log_format[0] &&
        sl_access_format_check(cfg.access_log_format, err, sizeof err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        return 2;
    }
    if (cfg.check_config)
        return check_config(&cfg);
    if (open_error_log(&cfg) < 0)
        return 1;
    sl_log_set_level(cfg.log_level);
    sl_log_set_json(cfg.log_json);
    raise_fd_limit();
    /* A closed log pipe must not kill the master. */
    signal(SIGPIPE, SIG_IGN);
    return sl_master_run(&cfg, argc, argv);
}
