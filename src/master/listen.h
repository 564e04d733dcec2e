/*
 * listen.h: the listening sockets, bound once by the master and inherited
 * by every worker.
 */
#ifndef SLUICE_LISTEN_H
#define SLUICE_LISTEN_H

#include <stddef.h>
#include "config/config.h"

/*
 * Open a listening socket for `l`.  A unix socket path held by a live
 * server is refused; a stale socket file (nothing accepts on it) is
 * replaced; it is made with --socket-mode (never wider, not for a moment)
 * and its owner and group set from --socket-owner and --socket-group through
 * a descriptor of the node, never by a path that could be swapped.
 * fd:N is checked to be a listening stream socket.  Returns the
 * fd, or a negative errno with a one-line reason in err.
 */
int sl_listen_open(const sl_listen_spec *l, const sl_config *cfg, char *err,
                   size_t errlen);

/* Close `fd`, and remove the socket file of a unix listener we created. */
void sl_listen_close(const sl_listen_spec *l, int fd);

#endif
