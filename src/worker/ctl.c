/* ctl.c: the control socket between the master and a worker (see ctl.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "worker/ctl.h"

int sl_ctl_pair(int fds[2])
{
    fds[0] = fds[1] = -1;
    return socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

int sl_ctl_send(int fd, uint32_t what, const int *fds, int nfds)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(SL_CTL_MAX_FDS * sizeof(int))];
    } u;
    if (nfds < 0 || nfds > SL_CTL_MAX_FDS)
        return -EINVAL;
    memset(&u, 0, sizeof u);
    struct iovec iov = {&what, sizeof what};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int sl_ctl_recv(int fd, uint32_t *what, int fds[SL_CTL_MAX_FDS], int *nfds)
{
    /* Room for more than we take: extra descriptors are closed, not leaked
     * (the kernel would drop what does not fit, and set MSG_CTRUNC). */
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * SL_CTL_MAX_FDS * sizeof(int))];
    } u;
    struct iovec iov = {what, sizeof *what};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    *what = 0;
    *nfds = 0;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
    if (n == 0)
        return 0;
    int extra = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int d;
            memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof d);
            if (*nfds < SL_CTL_MAX_FDS) {
                fds[(*nfds)++] = d;
            } else {
                close(d);
                extra = 1;
            }
        }
    }
    if (n != (ssize_t)sizeof *what || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || extra) {
        while (*nfds > 0)
            close(fds[--*nfds]);
        return -EBADMSG;
    }
    return 1;
}
