/*
 * privs.h: the user application code runs as (--user, --group).
 *
 * The master keeps root to bind the sockets, open the logs and supervise;
 * every process that runs application code becomes --user and --group
 * first: each worker, the child that checks the application at start-up
 * and on a reload, and --check-config's.  One function does it for all of
 * them, so no path can load the application with the master's privileges.
 */
#ifndef SLUICE_PRIVS_H
#define SLUICE_PRIVS_H

#include <stddef.h>

/*
 * Do --user, --group, --socket-owner and --socket-group (each "" when not
 * given) name a user or group of this host?  0, or -ENOENT with the first
 * that does not in err.
 */
int sl_privs_check(const char *user, const char *group, const char *socket_owner,
                   const char *socket_group, char *err, size_t errlen);

/*
 * Become --user (uid, its supplementary groups through initgroups()) and
 * --group (or the user's own group), for good: real, effective and saved
 * ids alike, and regaining root is checked to fail.  The parent-death
 * signal, which the kernel clears on a change of credentials, is set again.
 * Nothing to do without --user (user "").  0, or a negative errno with
 * the reason in err.
 */
int sl_privs_drop(const char *user, const char *group, char *err, size_t errlen);

#endif
