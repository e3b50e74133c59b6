/*
 * queue.c — the async hooks' job queue. The queue itself is durable, in the
 * store ("queued" jobs, oldest first: jobs queued before a restart run after
 * it); this module is the only one that puts jobs in it and takes them out.
 * Owns: the put (the claim as "queued" under the configured cap: the count
 * and the insert are one store transaction, so the cap holds under any
 * number of requests), its "job_queued" log line, the wake-up of a taker,
 * the take (a wake-up, or a look every second), putting back a job that did
 * not start, the count for /metrics, and shutting the takers out at
 * shutdown (puts go on: their jobs wait for the next start).
 */
#ifndef QUEUE_H
#define QUEUE_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct queue;

/* A queue over ST (which must outlive it), taken from by TAKERS threads: at
 * most that many wake-ups are owed at once, and each taker looks once at
 * the start. 0 or -ENOMEM. */
int queue_new(struct store *st, int takers, struct queue **out);
/* Free Q (NULL is fine); no thread may be in queue_take. */
void queue_free(struct queue *q);

/* Claim RQ's delivery as a queued job (RQ's initial_state and max_queued
 * are set here: STORE_FULL when MAX_QUEUED jobs wait; 0: no cap). On a NEW
 * or RETRY claim the job is logged as queued (REQUEST_ID ties the line to
 * the request) and a taker is woken. 0 with OUT filled as store_claim_req
 * fills it (every kind: the caller answers it), or the store's -errno. */
int queue_put(struct queue *q, struct store_claim_req *rq, int max_queued, const char *request_id,
    struct store_claim_res *out);

/* For a taker: wait for a wake-up (at most a second), then take the oldest
 * queued job and mark it running, as store_take_queued does (JOB, *BODY,
 * *LEN, *META filled; the caller frees them). -ENOENT when none is queued,
 * -ECANCELED once the queue is shut (nothing taken), or the store's -errno. */
int queue_take(struct queue *q, struct store_job *job, char **body, size_t *len, char **meta);

/* A job taken that did not start (the daemon is stopping): back to
 * "queued", to run after the next start. As store_requeue. */
int queue_return(struct queue *q, int64_t job_id);

/* A job may be waiting: wake a taker now rather than at its next look. */
void queue_wake(struct queue *q);

/* How many jobs are queued. As store_count_queued. */
int queue_count(struct queue *q, int *n);

/* Shutdown: every queue_take, waiting or to come, returns -ECANCELED. Puts
 * are still accepted. */
void queue_shut(struct queue *q);
#endif
