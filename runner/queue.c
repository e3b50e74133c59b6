/*
 * queue.c — the async job queue over the store (contract in queue.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common/clock.h"
#include "log.h"
#include "queue.h"

#define POLL_MS 1000

struct queue {
	struct store *st;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int shut;
	int pending; /* wake-ups owed, at most takers */
	int takers;
};

int queue_new(struct store *st, int takers, struct queue **out)
{
	struct queue *q = calloc(1, sizeof *q);

	if (!q)
		return -ENOMEM;
	q->st = st;
	q->takers = takers;
	q->pending = takers; /* look at the queue once at start: jobs from before a restart */
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	*out = q;
	return 0;
}

void queue_free(struct queue *q)
{
	if (!q)
		return;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

int queue_put(struct queue *q, struct store_claim_req *rq, int max_queued, const char *request_id,
    struct store_claim_res *out)
{
	char jid[24];
	int rc;

	rq->initial_state = JOBSTATE_QUEUED;
	rq->max_queued = max_queued;
	if ((rc = store_claim_req(q->st, rq, out)) != 0)
		return rc;
	if (out->kind == STORE_NEW || out->kind == STORE_RETRY) {
		snprintf(jid, sizeof jid, "%" PRId64, out->job_id);
		log_event(LOG_INFO, "job_queued", "request_id", request_id, "hook", rq->hook, "job", jid, NULL);
		queue_wake(q);
	}
	return 0;
}

int queue_take(struct queue *q, struct store_job *job, char **body, size_t *len, char **meta)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shut && !q->pending) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += POLL_MS / 1000;
		pthread_cond_timedwait(&q->cv, &q->mu, &until);
	}
	if (q->pending)
		q->pending--;
	if (q->shut) {
		pthread_mutex_unlock(&q->mu);
		return -ECANCELED;
	}
	pthread_mutex_unlock(&q->mu);
	return store_take_queued(q->st, clock_wall_ms(), job, body, len, meta);
}

int queue_return(struct queue *q, int64_t job_id)
{
	return store_requeue(q->st, job_id);
}

void queue_wake(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->pending < q->takers)
		q->pending++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

int queue_count(struct queue *q, int *n)
{
	return store_count_queued(q->st, n);
}

void queue_shut(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->shut = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
