/* systemd.c: socket activation and readiness (see systemd.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "master/systemd.h"

#define SD_LISTEN_FDS_START 3

/* The i-th name of LISTEN_FDNAMES ("a:b:c"), into buf. */
static void fd_name(const char *names, int i, char *buf, size_t size)
{
    buf[0] = '\0';
    for (const char *p = names; p != NULL && *p != '\0'; i--) {
        size_t n = strcspn(p, ":");
        if (i == 0) {
            snprintf(buf, size, "%.*s", (int)n, p);
            return;
        }
        p = p[n] == ':' ? p + n + 1 : NULL;
    }
}

int sl_systemd_listeners(sl_config *cfg)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (pid == NULL || fds == NULL || atol(pid) != (long)getpid())
        return 0;
    int n = atoi(fds);
    if (n <= 0)
        return 0;
    if (n > SL_MAX_LISTENERS)
        n = SL_MAX_LISTENERS;
    const char *names = getenv("LISTEN_FDNAMES");
    cfg->nlisteners = 0;
    for (int i = 0; i < n; i++) {
        char name[64], addr[32], err[256];
        fd_name(names, i, name, sizeof name);
        snprintf(addr, sizeof addr, "fd:%d", SD_LISTEN_FDS_START + i);
        enum sl_proto proto = strcmp(name, "scgi") == 0 ? SL_PROTO_SCGI : SL_PROTO_FASTCGI;
        if (sl_listen_parse(&cfg->listeners[cfg->nlisteners], proto, addr, err, sizeof err) == 0)
            cfg->nlisteners++;
    }
    /* Not for our children: they inherit the sockets, not the protocol. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return cfg->nlisteners;
}

int sl_systemd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0')
        return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len);
    /* A leading '@' names an abstract socket. */
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    int rc = n < 0 ? -errno : 0;
    close(fd);
    return rc;
}
