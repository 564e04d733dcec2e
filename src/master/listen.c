/* listen.c: binding the listening sockets (see listen.h). */
#define _GNU_SOURCE
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
#include "master/listen.h"

/* "WHAT ADDR: reason" into err, and -e. */
static int fail(char *err, size_t errlen, const char *what, const char *addr, int e)
{
    snprintf(err, errlen, "%s %s: %s", what, addr, strerror(e));
    return -e;
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
 * on the host can talk FastCGI to us.  The mode is given at bind() (see
 * open_unix); the owner is changed here through a descriptor of the node
 * itself, never by path: the directory may be writable by others, and a
 * symlink swapped in after bind() would make us, as root, give away
 * whatever file it points to.  The node must be the socket bind() made: a
 * socket owned by us.
 */
static int set_socket_owner(const sl_listen_spec *l, const sl_config *cfg,
                            char *err, size_t errlen)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (cfg->socket_owner[0] != '\0') {
        struct passwd *pw = getpwnam(cfg->socket_owner);
        if (pw == NULL) {
            snprintf(err, errlen, "%s: --socket-owner: no user '%s'", l->text,
                     cfg->socket_owner);
            return -ENOENT;
        }
        uid = pw->pw_uid;
    }
    if (cfg->socket_group[0] != '\0') {
        struct group *g = getgrnam(cfg->socket_group);
        if (g == NULL) {
            snprintf(err, errlen, "%s: --socket-group: no group '%s'", l->text,
                     cfg->socket_group);
            return -ENOENT;
        }
        gid = g->gr_gid;
    }
    int fd = open(l->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "open", l->text, errno);
    struct stat st;
    int rc = fstat(fd, &st);
    if (rc == 0 && (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())) {
        close(fd);
        snprintf(err, errlen, "%s: the path no longer names the socket just bound "
                 "(replaced by %s): not changing its owner", l->text,
                 S_ISLNK(st.st_mode) ? "a symbolic link" : "another file");
        return -EEXIST;
    }
    /* A default ACL on the directory overrides the umask: never serve on a
     * socket wider than asked. */
    if (rc == 0 && (st.st_mode & 0777 & ~(mode_t)cfg->socket_mode) != 0) {
        close(fd);
        snprintf(err, errlen, "%s: made with mode %04o, wider than --socket-mode %04o "
                 "(a default ACL on its directory?)", l->text,
                 (unsigned)(st.st_mode & 0777), (unsigned)cfg->socket_mode);
        return -EPERM;
    }
    if (rc == 0 && (uid != (uid_t)-1 || gid != (gid_t)-1))
        rc = fchownat(fd, "", uid, gid, AT_EMPTY_PATH);
    int e = errno;
    close(fd);
    return rc < 0 ? fail(err, errlen, "chown", l->text, e) : 0;
}

/* bind() with the socket file made with --socket-mode already, so it is
 * never reachable by more than that, not even for a moment. */
static int bind_with_mode(int fd, const struct sockaddr_un *sa, int mode)
{
    /* The master is one thread: the umask changes for nobody else. */
    mode_t old = umask((mode_t)~mode & 0777);
    int rc = bind(fd, (const struct sockaddr *)sa, sizeof *sa);
    int e = errno;
    umask(old);
    errno = e;
    return rc;
}

static int open_unix(const sl_listen_spec *l, const sl_config *cfg, char *err,
                     size_t errlen)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(l->path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "%s: socket path too long", l->text);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, l->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(err, errlen, "socket for", l->text, errno);
    int rc = bind_with_mode(fd, &sa, cfg->socket_mode);
    if (rc < 0 && errno == EADDRINUSE) {
        struct stat st;
        if (unix_in_use(&sa)) {
            close(fd);
            snprintf(err, errlen, "%s: socket is in use by a running server", l->text);
            return -EADDRINUSE;
        }
        if (lstat(l->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            close(fd);
            snprintf(err, errlen, "%s: exists and is not a socket", l->text);
            return -EEXIST;
        }
        /* A socket file left behind by a server that is gone: replace it. */
        unlink(l->path);
        rc = bind_with_mode(fd, &sa, cfg->socket_mode);
    }
    if (rc < 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "bind", l->text, e);
    }
    if ((rc = set_socket_owner(l, cfg, err, errlen)) < 0) {
        close(fd);
        unlink(l->path);
        return rc;
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
        return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
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
        return -ENOTSOCK;
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
    return -EINVAL;
}

void sl_listen_close(const sl_listen_spec *l, int fd)
{
    if (fd >= 0)
        close(fd);
    if (l->kind == SL_ADDR_UNIX)
        unlink(l->path);
}
