/*
 * systemd.h: the two systemd protocols, spoken without libsystemd: socket
 * activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES) and service
 * notification (NOTIFY_SOCKET: READY=1, RELOADING=1, STOPPING=1).
 */
#ifndef SLUICE_SYSTEMD_H
#define SLUICE_SYSTEMD_H

#include "config/config.h"

/*
 * When systemd passed listening sockets to this process, make them the
 * listeners (fd:3, fd:4, ...), replacing those of the configuration; a
 * socket named "scgi" in LISTEN_FDNAMES (FileDescriptorName=scgi) speaks
 * SCGI, the others FastCGI.  Returns how many were taken (0 if none).
 */
int sl_systemd_listeners(sl_config *cfg);

/* Send a notification ("READY=1", ...) when NOTIFY_SOCKET is set; a no-op
 * otherwise.  0, or -errno. */
int sl_systemd_notify(const char *state);

#endif
