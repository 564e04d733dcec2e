/*
 * libfcgi_app.c: the benchmark's libfcgi program, a C application written
 * the usual way against libfcgi, for bench/run to set sluice against.
 *
 * It answers like the demo application:
 *   /hello   200, text/plain, "Hello, world!\n"
 *   /json    200, application/json,
 *            {"id":123,"name":"widget","tags":["a","b"],"price":9.99}
 *            (formatted with snprintf per request, as such a program would)
 *   other    404
 * routing on DOCUMENT_URI, which nginx's fastcgi_params sets.
 *
 * Each process runs THREADS threads (default 4) that loop on
 * FCGX_Accept_r() and FCGX_Finish_r(), the model of libfcgi's threaded
 * example, with the accept serialised by a mutex.  Unlike that example the
 * mutex is taken only around a real accept(): with FCGI_KEEP_CONN
 * (nginx's fastcgi_keep_conn on) FCGX_Accept_r() reads the next request
 * from the kept connection, and a thread waiting there with the mutex held
 * would keep every other thread from accepting, and also from reading its
 * own kept connection after a later unlock; requests then wait for an
 * unrelated connection, or until nginx gives up on them (504).  Without
 * FCGI_KEEP_CONN every connection is closed by FCGX_Finish_r(), so every
 * FCGX_Accept_r() accepts and the locking is the example's.
 *
 * A thread serves one connection at a time.  With upstream keep-alive and
 * more client connections than PROCESSES x THREADS, the connections nginx
 * keeps open to busy threads wait in the listen queue: the req/s and CPU
 * per request of such a run are real, its latency percentiles describe the
 * few connections that were served.
 *
 * Processes: the master binds the socket and forks the workers
 * (prefork.c), as spawn-fcgi -F would.  libfcgi turns SIGTERM into a flag
 * it looks at after the next accept, so a worker would wait for one more
 * connection before stopping; here SIGTERM ends a worker at once.
 *
 * Usage: libfcgi_app [-n PROCESSES] [-t THREADS] [-b BACKLOG] SOCKET_PATH
 * Build: gcc -O2 -o libfcgi_app libfcgi_app.c prefork.c -lfcgi -lpthread
 */
#define _GNU_SOURCE
#include <fcgiapp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prefork.h"

#define MAX_THREADS 64

static const char HELLO[] =
    "Content-Type: text/plain\r\n"
    "Content-Length: 14\r\n"
    "\r\n"
    "Hello, world!\n";
static const char NOT_FOUND[] =
    "Status: 404 Not Found\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 10\r\n"
    "\r\n"
    "not found\n";

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static int lfd_shared;
static long nthreads = 4;

static void answer(FCGX_Request *req)
{
    const char *uri = FCGX_GetParam("DOCUMENT_URI", req->envp);

    if (uri != NULL && strcmp(uri, "/hello") == 0) {
        FCGX_PutStr(HELLO, (int)sizeof HELLO - 1, req->out);
    } else if (uri != NULL && strcmp(uri, "/json") == 0) {
        char body[128];
        int n = snprintf(body, sizeof body,
                         "{\"id\":%d,\"name\":\"%s\",\"tags\":[\"%s\",\"%s\"],\"price\":%.2f}",
                         123, "widget", "a", "b", 9.99);
        if (n < 0 || (size_t)n >= sizeof body) {   /* cannot happen with these values */
            FCGX_PutStr(NOT_FOUND, (int)sizeof NOT_FOUND - 1, req->out);
            return;
        }
        FCGX_FPrintF(req->out, "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", n);
        FCGX_PutStr(body, n, req->out);
    } else {
        FCGX_PutStr(NOT_FOUND, (int)sizeof NOT_FOUND - 1, req->out);
    }
}

static void *serve_requests(void *arg)
{
    FCGX_Request req;

    (void)arg;
    if (FCGX_InitRequest(&req, lfd_shared, 0) != 0)
        return NULL;
    for (;;) {
        int accepting, rc;

        /* After FCGX_Finish_r() ipcFd is the connection FCGI_KEEP_CONN kept
         * open, or -1: only then does FCGX_Accept_r() accept (see the top). */
        FCGX_Finish_r(&req);
        accepting = req.ipcFd < 0;
        if (accepting)
            pthread_mutex_lock(&accept_lock);
        rc = FCGX_Accept_r(&req);
        if (accepting)
            pthread_mutex_unlock(&accept_lock);
        if (rc < 0)
            break;
        answer(&req);
    }
    FCGX_Free(&req, 1);
    return NULL;
}

static void serve(int lfd, void *arg)
{
    pthread_t ids[MAX_THREADS];

    (void)arg;
    lfd_shared = lfd;
    if (FCGX_Init() != 0) {
        fprintf(stderr, "libfcgi_app: FCGX_Init failed\n");
        _exit(1);
    }
    /* FCGX_Init() installs its own SIGTERM handler (see the top) */
    signal(SIGTERM, SIG_DFL);
    for (long i = 1; i < nthreads; i++) {
        int err = pthread_create(&ids[i], NULL, serve_requests, NULL);
        if (err != 0) {
            fprintf(stderr, "libfcgi_app: pthread_create: %s\n", strerror(err));
            _exit(1);
        }
    }
    serve_requests(NULL);
    /* FCGX_Accept_r() failed: the listening socket is unusable */
    fprintf(stderr, "libfcgi_app[%d]: accept failed, exiting\n", (int)getpid());
    _exit(1);
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-n PROCESSES(1-%d)] [-t THREADS(1-%d)] [-b BACKLOG] SOCKET_PATH\n",
            prog, BENCH_MAX_WORKERS, MAX_THREADS);
    return 2;
}

int main(int argc, char **argv)
{
    long procs = 2, backlog = 1024;
    int opt, lfd, rc;

    while ((opt = getopt(argc, argv, "n:t:b:")) != -1) {
        switch (opt) {
        case 'n':
            if ((procs = bench_number(optarg, 1, BENCH_MAX_WORKERS)) < 0)
                return usage(argv[0]);
            break;
        case 't':
            if ((nthreads = bench_number(optarg, 1, MAX_THREADS)) < 0)
                return usage(argv[0]);
            break;
        case 'b':
            if ((backlog = bench_number(optarg, 1, INT_MAX)) < 0)
                return usage(argv[0]);
            break;
        default:
            return usage(argv[0]);
        }
    }
    if (optind != argc - 1)
        return usage(argv[0]);

    lfd = bench_listen_unix(argv[optind], (int)backlog, 0);
    if (lfd < 0) {
        fprintf(stderr, "libfcgi_app: %s: %s\n", argv[optind], strerror(-lfd));
        return 1;
    }
    rc = bench_prefork(lfd, (int)procs, argv[optind], serve, NULL);
    if (rc < 0) {
        fprintf(stderr, "libfcgi_app: fork: %s\n", strerror(-rc));
        return 1;
    }
    return rc;
}
