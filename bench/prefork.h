/*
 * prefork.h: the process model the benchmark's comparison programs share
 * (bench/null_fcgi.c, bench/libfcgi_app.c): a master binds one unix socket,
 * forks N workers that accept on it, and stays behind to stop them.
 *
 * This is what spawn-fcgi -F N does for a FastCGI program, done in the
 * program itself so that bench/run needs nothing but a C compiler and
 * libfcgi-dev.  Unlike spawn-fcgi the master stays: bench/run stops a
 * backend by the PID it started, and a master that forwards SIGTERM and
 * removes the socket makes that one kill().
 */
#ifndef BENCH_PREFORK_H
#define BENCH_PREFORK_H

#include <sys/types.h>

#define BENCH_MAX_WORKERS 64

/*
 * Create a unix stream socket at `path`, mode 0666 (nginx's worker may run
 * as another user), listening with `backlog`.  A socket file left at `path`
 * by an earlier run is removed first; any other kind of file there is an
 * error.  `nonblock` makes the listening socket non-blocking (for an event
 * loop; libfcgi wants a blocking one).  Returns the descriptor (close on
 * exec) or a negative errno.
 */
int bench_listen_unix(const char *path, int backlog, int nonblock);

/*
 * Fork `n` (1..BENCH_MAX_WORKERS) workers that each call serve(lfd, arg),
 * which must not return (a worker that returns exits 0).  The caller
 * becomes the master: SIGTERM or SIGINT to it is forwarded to the workers
 * as SIGTERM; once every worker is gone it removes the socket at `path` and
 * returns 0 if it was told to stop, 1 if the workers died on their own (each
 * such exit is reported on stderr).  Workers start with the signal mask and
 * dispositions the caller had, and get SIGTERM when the master dies.
 * Returns a negative errno if a fork fails (after stopping the workers
 * already started: a partial set would skew every figure).
 */
int bench_prefork(int lfd, int n, const char *path,
                  void (*serve)(int lfd, void *arg), void *arg);

/*
 * The value of an option argument that must be a whole decimal number in
 * [min, max] (min >= 0), or -1 if it is anything else.
 */
long bench_number(const char *s, long min, long max);

#endif
