/*
 * ctl.h: the control socket between the master and one worker, a datagram
 * socketpair made at fork.  It carries the log files the master reopened
 * on SIGUSR1: one datagram, a uint32_t of SL_CTL_* bits, with one
 * descriptor (SCM_RIGHTS) per bit set, in the order of the bits.
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <stdint.h>
#include <sys/types.h>

#define SL_CTL_ERROR_LOG 1u
#define SL_CTL_ACCESS_LOG 2u
/* Descriptors one message may carry. */
#define SL_CTL_MAX_FDS 2

/* A new pair, close-on-exec: fds[0] the master's end, fds[1] the
 * worker's.  0, or -errno. */
int sl_ctl_pair(int fds[2]);

/* Send `what` with nfds (at most SL_CTL_MAX_FDS) descriptors, without
 * waiting: a worker that does not read loses the message.  0, or -errno. */
int sl_ctl_send(int fd, uint32_t what, const int *fds, int nfds);

/*
 * Take one message without waiting.  Returns 1 with *what and the
 * descriptors received (close-on-exec, *nfds of them, in order; the caller
 * owns them), 0 when the other end is closed, -EAGAIN when there is
 * nothing, -EBADMSG for a malformed message (what came with it is closed),
 * or another -errno.
 */
int sl_ctl_recv(int fd, uint32_t *what, int fds[SL_CTL_MAX_FDS], int *nfds);

#endif
