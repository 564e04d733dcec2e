/* listen.c: binding the listening sockets (see listen.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "listen.h"

static int fail(char *err, size_t errlen, const char *what, const char *addr, int e)
{
    snprintf(err, errlen, "%s %s: %s", what, addr, strerror(e));
    return -1;
}

/* Is something accepting on the unix socket at `path`? */
static int unix_in_use(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    close(fd);
    return rc == 0;
}

/*
 * Who may connect to a unix socket is decided by its permissions: 0660, and
 * --socket-owner / --socket-group to let the web server in, so nobody else
 * on the host can talk FastCGI to us.
 */
static int set_socket_access(const sl_listen_spec *l, const sl_config *cfg,
                             char *err, size_t errlen)
{
    if (cfg->socket_owner[0] != '\0') {
        struct passwd *pw = getpwnam(cfg->socket_owner);
        if (pw == NULL) {
            snprintf(err, errlen, "%s: --socket-owner: no user '%s'", l->text,
                     cfg->socket_owner);
            return -1;
        }
        if (chown(l->path, pw->pw_uid, (gid_t)-1) < 0)
            return fail(err, errlen, "chown", l->text, errno);
    }
    if (cfg->socket_group[0] != '\0') {
        struct group *g = getgrnam(cfg->socket_group);
        if (g == NULL) {
            snprintf(err, errlen, "%s: --socket-group: no group '%s'", l->text,
                     cfg->socket_group);
            return -1;
        }
        if (chown(l->path, (uid_t)-1, g->gr_gid) < 0)
            return fail(err, errlen, "chown", l->text, errno);
    }
    if (chmod(l->path, (mode_t)cfg->socket_mode) < 0)
        return fail(err, errlen, "chmod", l->text, errno);
    return 0;
}

static int open_unix(const sl_listen_spec *l, const sl_config *cfg, char *err,
                     size_t errlen)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(l->path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "%s: socket path too long", l->text);
        return -1;
    }
    strcpy(sa.sun_path, l->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(err, errlen, "socket for", l->text, errno);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc < 0 && errno == EADDRINUSE) {
        struct stat st;
        if (unix_in_use(&sa)) {
            close(fd);
            snprintf(err, errlen, "%s: socket is in use by a running server", l->text);
            return -1;
        }
        if (lstat(l->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            close(fd);
            snprintf(err, errlen, "%s: exists and is not a socket", l->text);
            return -1;
        }
        /* A socket file left behind by a server that is gone: replace it. */
        unlink(l->path);
        rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    if (rc < 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "bind", l->text, e);
    }
    if (set_socket_access(l, cfg, err, errlen) < 0) {
        close(fd);
        unlink(l->path);
        return -1;
    }
    if (listen(fd, cfg->backlog) < 0) {
        int e = errno;
        close(fd);
        unlink(l->path);
        return fail(err, errlen, "listen on", l->text, e);
    }
    return fd;
}

static int open_tcp(const sl_listen_spec *l, const sl_config *cfg, char *err,
                    size_t errlen)
{
    char port[8];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(port, sizeof port, "%d", l->port);
    int rc = getaddrinfo(l->host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", l->text, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, e = 0;
    if (fd < 0)
        e = errno;
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
             bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
             listen(fd, cfg->backlog) < 0)
        e = errno;
    freeaddrinfo(res);
    if (e != 0) {
        if (fd >= 0)
            close(fd);
        return fail(err, errlen, "bind", l->text, e);
    }
    return fd;
}

static int check_fd(const sl_listen_spec *l, char *err, size_t errlen)
{
    int type = 0, acc = 0;
    socklen_t len = sizeof type;
    if (getsockopt(l->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return fail(err, errlen, "inherited", l->text, errno);
    len = sizeof acc;
    if (type != SOCK_STREAM ||
        getsockopt(l->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
        snprintf(err, errlen, "%s: not a listening stream socket", l->text);
        return -1;
    }
    return l->fd;
}

int sl_listen_open(const sl_listen_spec *l, const sl_config *cfg, char *err,
                   size_t errlen)
{
    switch (l->kind) {
    case SL_ADDR_UNIX: return open_unix(l, cfg, err, errlen);
    case SL_ADDR_TCP: return open_tcp(l, cfg, err, errlen);
    case SL_ADDR_FD: return check_fd(l, err, errlen);
    }
    snprintf(err, errlen, "%s: unknown address kind", l->text);
    return -1;
}

void sl_listen_close(const sl_listen_spec *l, int fd)
{
    if (fd >= 0)
        close(fd);
    if (l->kind == SL_ADDR_UNIX)
        unlink(l->path);
}
