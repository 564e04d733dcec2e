/*
 * master.h: the master process: binds the listeners, forks the workers,
 * respawns those that die, and stops them gracefully on a signal.  It never
 * runs application code itself.
 */
#ifndef SLUICE_MASTER_H
#define SLUICE_MASTER_H

#include "config/config.h"

/* Run until stopped.  argv is kept to read the configuration again on
 * SIGHUP.  Returns the process exit status. */
int sl_master_run(const sl_config *cfg, int argc, char **argv);

#endif
