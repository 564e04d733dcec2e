/* privs.c: becoming the workers' user before any application code runs
 * (see privs.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "util/privs.h"

int sl_privs_check(const char *user, const char *group, const char *socket_owner,
                   const char *socket_group, char *err, size_t errlen)
{
    if (user[0] && getpwnam(user) == NULL) {
        snprintf(err, errlen, "--user: no user '%s' on this host", user);
        return -ENOENT;
    }
    if (group[0] && getgrnam(group) == NULL) {
        snprintf(err, errlen, "--group: no group '%s' on this host", group);
        return -ENOENT;
    }
    if (socket_owner[0] && getpwnam(socket_owner) == NULL) {
        snprintf(err, errlen, "--socket-owner: no user '%s' on this host", socket_owner);
        return -ENOENT;
    }
    if (socket_group[0] && getgrnam(socket_group) == NULL) {
        snprintf(err, errlen, "--socket-group: no group '%s' on this host", socket_group);
        return -ENOENT;
    }
    return 0;
}

int sl_privs_drop(const char *user, const char *group, char *err, size_t errlen)
{
    if (user[0] == '\0') {
        /* The configuration refuses --group alone: it would leave root's
         * user id, and with it every capability. */
        if (group[0] != '\0') {
            snprintf(err, errlen, "--group %s without --user: refusing to run "
                     "application code as root", group);
            return -EINVAL;
        }
        return 0;
    }
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, errlen, "--user: no user '%s' on this host", user);
        return -ENOENT;
    }
    /* getpwnam's result is static and getgrnam may reuse it: copy. */
    char name[64];
    if (snprintf(name, sizeof name, "%s", pw->pw_name) >= (int)sizeof name) {
        snprintf(err, errlen, "--user: name '%s' too long", user);
        return -ENAMETOOLONG;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (group[0] != '\0') {
        struct group *g = getgrnam(group);
        if (g == NULL) {
            snprintf(err, errlen, "--group: no group '%s' on this host", group);
            return -ENOENT;
        }
        gid = g->gr_gid;
    }
    int pdeath = 0;
    prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
    /* Groups first: once the user id is not root, they cannot change. */
    if (initgroups(name, gid) < 0 || setresgid(gid, gid, gid) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot switch to group %ld for user %s: %s",
                 (long)gid, name, strerror(e));
        return -e;
    }
    if (setresuid(uid, uid, uid) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot switch to user %s: %s", name, strerror(e));
        return -e;
    }
    /* As OpenBSD's daemons do: make sure there is no way back. */
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "switched to user %s, but root can still be regained",
                 name);
        return -EPERM;
    }
    if (pdeath != 0)
        prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0);
    return 0;
}
