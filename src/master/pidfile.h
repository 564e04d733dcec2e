/*
 * pidfile.h: --pidfile, written by the master (root) into a directory that
 * others may be able to write to.
 */
#ifndef SLUICE_PIDFILE_H
#define SLUICE_PIDFILE_H

/*
 * Write our pid into `path`.  A symbolic link there is refused, never
 * followed; an existing file (a stale pidfile left by a crash) is
 * rewritten only if it is a plain file of ours with no other link, so a
 * hard link planted there cannot make us overwrite another file.  0, or a
 * negative errno after logging why.
 */
int sl_pidfile_write(const char *path);

#endif
