/*
 * null_fcgi.c: the benchmark's ceiling for a FastCGI backend behind nginx.
 *
 * It does the least a responder can do and still answer nginx correctly.
 * It reads record headers and skips every record's content, keeping only
 * the flags of FCGI_BEGIN_REQUEST; when the empty FCGI_STDIN record that
 * ends a request arrives, it sends one prepared buffer with one send():
 *
 *   FCGI_STDOUT       Status, Content-Type, Content-Length and the body of
 *                     the demo application's /hello, "Hello, world!\n"
 *   FCGI_STDOUT       empty: the end of the stream
 *   FCGI_END_REQUEST  appStatus 0, FCGI_REQUEST_COMPLETE
 *
 * Nothing is parsed, routed, copied or allocated per request, so no backend
 * behind the same nginx can answer faster or for less CPU: bench/run sets
 * sluice's req/s and CPU per request against it.  The answer carries
 * Content-Length like sluice's, so that nginx frames both the same way.
 * Every path gets the same answer.
 *
 * FCGI_KEEP_CONN is honoured: with it the connection waits for the next
 * request, without it the answer is followed by close(), so the benchmark's
 * keep-alive and plain cases measure what they say.
 *
 * Processes: the master binds the socket and forks the workers
 * (prefork.c); each worker is one thread with its own epoll, the listening
 * socket registered with EPOLLEXCLUSIVE so that a new connection wakes one
 * worker, not all of them.
 *
 * Usage: null_fcgi [-n WORKERS] [-b BACKLOG] SOCKET_PATH
 * Build: gcc -O2 -o null_fcgi null_fcgi.c prefork.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "prefork.h"

enum {
    FCGI_HEADER_LEN = 8,
    FCGI_VERSION_1 = 1,
    FCGI_BEGIN_REQUEST = 1,
    FCGI_END_REQUEST = 3,
    FCGI_STDIN = 5,
    FCGI_STDOUT = 6,
    FCGI_KEEP_CONN = 1,
    BEGIN_FLAGS_AT = 2,          /* offset of flags in FCGI_BEGIN_REQUEST's body */
};

static const char OUT_TEXT[] =
    "Status: 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 14\r\n"
    "\r\n"
    "Hello, world!\n";
#define OUT_LEN (sizeof OUT_TEXT - 1)
#define ANSWER_LEN (FCGI_HEADER_LEN + OUT_LEN + 2 * FCGI_HEADER_LEN + 8)
/* where the three record headers of the answer start */
#define STDOUT_AT 0
#define EOS_AT (FCGI_HEADER_LEN + OUT_LEN)
#define END_AT (EOS_AT + FCGI_HEADER_LEN)

_Static_assert(OUT_LEN <= 0xffff, "the answer must fit one FCGI_STDOUT record");

/* One answer, for the request id it was last prepared for: nginx uses id 1
 * on every connection, so it is patched almost never. */
static unsigned char answer[ANSWER_LEN];
static unsigned answer_id;

struct conn {
    int fd;
    int keep;                   /* FCGI_KEEP_CONN of the current request */
    unsigned req_id;            /* the request being read; 0: none */
    unsigned char hdr[FCGI_HEADER_LEN];
    size_t hdr_have;            /* bytes of the next header read so far */
    unsigned type, rec_id;      /* the record being skipped */
    size_t clen, total, pos;    /* its content length, content + padding, bytes of them read */
    unsigned char flags;        /* byte BEGIN_FLAGS_AT of a FCGI_BEGIN_REQUEST body */
    unsigned out_id;            /* the request of the answer being sent */
    size_t sent;                /* bytes of it sent */
    int pending;                /* the socket was full: the rest when writable */
};

static void put_header(unsigned char *h, unsigned type, unsigned id, size_t clen)
{
    h[0] = FCGI_VERSION_1;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(clen >> 8);
    h[5] = (unsigned char)clen;
    h[6] = 0;   /* no padding: it is optional, and nginx reads any length */
    h[7] = 0;
}

static void prepare_answer(unsigned id)
{
    if (id == answer_id)
        return;
    put_header(answer + STDOUT_AT, FCGI_STDOUT, id, OUT_LEN);
    memcpy(answer + STDOUT_AT + FCGI_HEADER_LEN, OUT_TEXT, OUT_LEN);
    put_header(answer + EOS_AT, FCGI_STDOUT, id, 0);
    put_header(answer + END_AT, FCGI_END_REQUEST, id, 8);
    /* appStatus 0 and protocolStatus FCGI_REQUEST_COMPLETE (0) */
    memset(answer + END_AT + FCGI_HEADER_LEN, 0, 8);
    answer_id = id;
}

/* 1: all sent, 0: the socket is full (wait until writable), -1: error */
static int send_answer(struct conn *c)
{
    prepare_answer(c->out_id);
    while (c->sent < ANSWER_LEN) {
        ssize_t n = send(c->fd, answer + c->sent, ANSWER_LEN - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        c->sent += (size_t)n;
    }
    return 1;
}

/* A record is complete; 1 when it ends the current request's FCGI_STDIN. */
static int record_done(struct conn *c)
{
    if (c->type == FCGI_BEGIN_REQUEST && c->rec_id != 0) {
        c->req_id = c->rec_id;
        c->keep = c->flags & FCGI_KEEP_CONN;
        return 0;
    }
    return c->type == FCGI_STDIN && c->clen == 0 && c->req_id != 0 && c->rec_id == c->req_id;
}

/*
 * Consume n bytes read from c.  Returns 0 to go on reading, 1 when an
 * answer waits for the socket to be writable, -1 to close the connection
 * (done without FCGI_KEEP_CONN, or a protocol error).
 */
static int feed(struct conn *c, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t k;

        if (c->hdr_have < FCGI_HEADER_LEN) {
            k = FCGI_HEADER_LEN - c->hdr_have;
            if (k > n)
                k = n;
            memcpy(c->hdr + c->hdr_have, p, k);
            c->hdr_have += k;
            p += k;
            n -= k;
            if (c->hdr_have < FCGI_HEADER_LEN)
                return 0;
            if (c->hdr[0] != FCGI_VERSION_1)
                return -1;
            c->type = c->hdr[1];
            c->rec_id = (unsigned)c->hdr[2] << 8 | c->hdr[3];
            c->clen = (size_t)c->hdr[4] << 8 | c->hdr[5];
            c->total = c->clen + c->hdr[6];
            c->pos = 0;
            if (c->type == FCGI_BEGIN_REQUEST)
                c->flags = 0;
        } else {
            k = c->total - c->pos;
            if (k > n)
                k = n;
            if (c->type == FCGI_BEGIN_REQUEST && c->clen > BEGIN_FLAGS_AT &&
                c->pos <= BEGIN_FLAGS_AT && BEGIN_FLAGS_AT < c->pos + k)
                c->flags = p[BEGIN_FLAGS_AT - c->pos];
            c->pos += k;
            p += k;
            n -= k;
        }
        if (c->pos < c->total)
            continue;
        c->hdr_have = 0;   /* the record is complete: a header comes next */
        if (!record_done(c))
            continue;
        c->out_id = c->req_id;
        c->req_id = 0;
        c->sent = 0;
        switch (send_answer(c)) {
        case -1:
            return -1;
        case 0:
            /* nginx sends the next request only after reading the whole
             * answer; bytes after the request would need a buffer that a
             * conforming peer never makes us keep */
            c->pending = 1;
            return n > 0 ? -1 : 1;
        }
        if (!c->keep)
            return -1;
    }
    return 0;
}

static void close_conn(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static void watch(int ep, struct conn *c, int op, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(ep, op, c->fd, &ev);
}

static void accept_all(int ep, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* EAGAIN: another worker took it, or the queue is empty */
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                perror("null_fcgi: accept4");
            return;
        }
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        watch(ep, c, EPOLL_CTL_ADD, EPOLLIN);
    }
}

static void serve(int lfd, void *arg)
{
    static unsigned char buf[65536];
    struct epoll_event evs[256];
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
    int ep = epoll_create1(EPOLL_CLOEXEC);

    (void)arg;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror("null_fcgi: epoll");
        _exit(1);
    }
    for (;;) {
        int n = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("null_fcgi: epoll_wait");
            _exit(1);
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            ssize_t r;
            int rc;

            if (c == NULL) {
                accept_all(ep, lfd);
                continue;
            }
            if (c->pending) {
                /* writable again: the rest of the answer, then read again */
                rc = send_answer(c);
                c->pending = rc == 0;
                if (rc < 0 || (rc == 1 && !c->keep))
                    close_conn(ep, c);
                else if (rc == 1)
                    watch(ep, c, EPOLL_CTL_MOD, EPOLLIN);
                continue;
            }
            r = recv(c->fd, buf, sizeof buf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            rc = r > 0 ? feed(c, buf, (size_t)r) : -1;
            if (rc < 0)
                close_conn(ep, c);
            else if (rc == 1)
                watch(ep, c, EPOLL_CTL_MOD, EPOLLOUT);
        }
    }
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-n WORKERS(1-%d)] [-b BACKLOG] SOCKET_PATH\n", prog, BENCH_MAX_WORKERS);
    return 2;
}

int main(int argc, char **argv)
{
    long workers = 2, backlog = 1024;
    int opt, lfd, rc;

    while ((opt = getopt(argc, argv, "n:b:")) != -1) {
        switch (opt) {
        case 'n':
            if ((workers = bench_number(optarg, 1, BENCH_MAX_WORKERS)) < 0)
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

    lfd = bench_listen_unix(argv[optind], (int)backlog, 1);
    if (lfd < 0) {
        fprintf(stderr, "null_fcgi: %s: %s\n", argv[optind], strerror(-lfd));
        return 1;
    }
    rc = bench_prefork(lfd, (int)workers, argv[optind], serve, NULL);
    if (rc < 0) {
        fprintf(stderr, "null_fcgi: fork: %s\n", strerror(-rc));
        return 1;
    }
    return rc;
}
