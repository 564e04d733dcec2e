/* main.c: the sluice program: options, then the master. */
#include <stdio.h>
#include <sys/resource.h>
#include "../include/sluice.h"
#include "config.h"
#include "log.h"
#include "master.h"

int main(int argc, char **argv)
{
    static sl_config cfg;
    char err[512];
    if (sl_config_parse(&cfg, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
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
    sl_log_set_level(cfg.log_level);
    /* Every connection is a descriptor: take all the kernel allows us. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return sl_master_run(&cfg);
}
