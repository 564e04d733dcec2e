/*
 * test_cancel.c: sl_req_cancelled() on a pool thread while the loop thread
 * cancels the request, built with ThreadSanitizer.
 *
 * The loop marks a request cancelled with an atomic store
 * (sl_worker_cancel); a pool handler polls sl_req_cancelled() meanwhile.
 * A plain load there is a data race, which ThreadSanitizer reports: the
 * program then exits non-zero (its exitcode, 66) and the test fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "api/request.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The loop thread: cancel the request a moment after the handler started,
 * as sl_worker_cancel() does. */
static void *loop_thread(void *arg)
{
    sl_req *req = arg;
    sleep_ms(20);
    __atomic_store_n(&req->cancelled, 1, __ATOMIC_RELAXED);
    return NULL;
}

int main(void)
{
    sl_req *req = malloc(sizeof *req);
    if (req == NULL)
        return 1;
    sl_req_init(req);
    pthread_t t;
    if (pthread_create(&t, NULL, loop_thread, req) != 0)
        return 1;
    /* The handler: poll until cancelled, bounded (5 s). */
    long polls = 0;
    while (!sl_req_cancelled(req) && polls < 5000) {
        sleep_ms(1);
        polls++;
    }
    pthread_join(t, NULL);
    int seen = sl_req_cancelled(req);
    printf("%s - sl_req_cancelled() sees the cancel (after %ld polls)\n",
           seen ? "ok" : "not ok", polls);
    free(req);
    return seen ? 0 : 1;
}
