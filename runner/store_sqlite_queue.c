/*
 * store_sqlite_queue.c — the SQLite backend's durable queue of async hooks
 * (store_backend.h, store_sqlite.h): taking the oldest queued job, putting
 * one back, counting them.
 *
 * The queue is the jobs table itself: a queued job is a row in state
 * "queued"; taking one is a BEGIN IMMEDIATE transaction that reads the
 * lowest queued id and flips it to "running", so two takers (threads or
 * processes) serialise on the write lock and never get the same job. A
 * take is a group op (store_sqlite_group.c): takes, claims and outcomes
 * that arrive together share one commit, and a taker gets its job only
 * once that commit returned (a job handed out before it could run twice
 * after a crash).
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"

/* Taking the queue's head as a group op: the job and its delivery, handed
 * over by the caller once the group committed. */
struct take_op {
	int64_t now_ms;
	struct store_job j;
	char *b, *m;
	size_t n;
};

static int take_tx(struct store_sqlite *s, void *arg, int *keep)
{
	struct take_op *t = arg;
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc;

	(void)keep;
	st = store_sqlite_stmt(s, Q_QUEUE_HEAD);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		store_backend_msg(&s->base, "store_take_queued: the queue is empty");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	id = sqlite3_column_int64(st, 0);
	store_sqlite_done(st);
	st = store_sqlite_stmt(s, Q_TAKE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t->now_ms);
	rc = store_sqlite_run(s, st);
	if (rc)
		goto out;
	if (sqlite3_changes(s->db) != 1) {
		store_backend_msg(&s->base, "store_take_queued: the queued job changed under the write lock");
		rc = -EIO;
		goto out;
	}
	store_sqlite_done(st);
	st = store_sqlite_stmt(s, Q_JOB_GET);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
		goto out;
	}
	if ((rc = store_sqlite_read_job(st, &t->j))) {
		store_backend_msg(&s->base, "store_take_queued: out of memory");
		goto out;
	}
	store_sqlite_done(st);
	st = NULL;
	rc = store_sqlite_delivery_read(s, t->j.hook, t->j.key, &t->b, &t->n, &t->m, NULL);
	if (rc == -ENOENT) { /* foreign keys make this impossible; never hand out a bodiless job */
		snprintf(s->base.err, sizeof s->base.err, "store_take_queued: job %lld has no delivery",
		    (long long)id);
		rc = -EIO;
	}
out:
	store_sqlite_done(st);
	return rc;
}

int store_sqlite_queue_take(struct store *base, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta)
{
	struct take_op t = { .now_ms = now_ms };
	int rc;

	rc = store_sqlite_group_run((struct store_sqlite *)base, take_tx, &t);
	if (rc) { /* not taken, or not durably: the job stays queued */
		store_job_clear(&t.j);
		free(t.b);
		free(t.m);
		return rc;
	}
	*job = t.j;
	*body = t.b;
	*len = t.n;
	*meta = t.m;
	return 0;
}

int store_sqlite_queue_requeue(struct store *b, int64_t job_id)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_REQUEUE);
	sqlite3_bind_int64(st, 1, job_id);
	rc = store_sqlite_run(s, st); /* one statement: atomic on its own */
	if (!rc && sqlite3_changes(s->db) == 0) {
		store_backend_msg(&s->base, "store_requeue: no such running job");
		rc = -ENOENT;
	}
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

int store_sqlite_queue_count(struct store *b, int *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_COUNT_QUEUED);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
	}
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}
