/*
 * store_pg_queue.c — the PostgreSQL backend's durable queue of async hooks
 * (store_backend.h, store_pg.h): taking the oldest queued job, putting one
 * back, counting them.
 *
 * The queue is the jobs table: a queued job is a row in state "queued".
 * Taking one is one transaction that locks the lowest queued id with FOR
 * UPDATE SKIP LOCKED, flips it to "running" under this instance, and reads
 * its delivery: takers on every instance share the one queue, never get
 * the same job, and never wait for each other. Putting a job back NOTIFYs
 * the takers of every instance, as a queued claim does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

static int take_tx(struct store_pg *s, PGconn *c, int64_t now_ms, struct store_job *j, char **body,
    size_t *len, char **meta)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	if ((rc = store_pg_begin(s, c)) != 0)
		return rc;
	store_pg_p_i64(&p, now_ms);
	store_pg_p_str(&p, s->id);
	rc = store_pg_exec(s, c, "UPDATE jobs SET state = 'running', started_ms = $1, owner = $2"
	    " WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
	    " FOR UPDATE SKIP LOCKED) RETURNING " STORE_PG_JOB_COLS, &p, &r);
	if (rc)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		store_pg_msg(s, "store_take_queued: the queue is empty");
		return -ENOENT;
	}
	rc = store_pg_read_job(r, 0, j);
	PQclear(r);
	if (rc) {
		store_pg_msg(s, "store_take_queued: out of memory");
		return rc;
	}
	rc = store_pg_delivery_read(s, c, j->hook, j->key, body, len, meta, NULL);
	if (rc == -ENOENT) { /* the foreign key makes this impossible; never hand out a bodiless job */
		store_pg_msg(s, "store_take_queued: job %lld has no delivery", (long long)j->id);
		rc = -EIO;
	}
	if (!rc && (rc = store_pg_commit(s, c)) != 0) {
		if (rc == -ENOTCONN) /* taken or not: nobody runs it */
			store_pg_lease_undo_later(s, j->id, STORE_PG_UNDO_TAKE);
		free(*body);
		free(*meta);
		*body = *meta = NULL;
		*len = 0;
	}
	return rc;
}

int store_pg_queue_take(struct store *b, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_conn *pc;
	struct store_job j;
	int rc;

	/* one more try on a new connection when a dropped one failed before
	 * anything was taken (j.id still 0: the COMMIT was not reached) */
	for (int tries = 0;; tries++) {
		memset(&j, 0, sizeof j);
		if (!(pc = store_pg_get(s, &rc)))
			return rc;
		rc = take_tx(s, pc->c, now_ms, &j, body, len, meta);
		store_pg_put(s, pc);
		if (!rc)
			break;
		store_job_clear(&j);
		if (rc != -ENOTCONN || j.id || tries > 0)
			return rc;
	}
	*job = j;
	return 0;
}

int store_pg_queue_requeue(struct store *b, int64_t job_id)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_params p = { .n = 0 };
	struct store_pg_conn *pc;
	PGresult *r = NULL;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	store_pg_p_i64(&p, job_id);
	if ((rc = store_pg_begin(s, pc->c)) == 0 &&
	    (rc = store_pg_exec(s, pc->c, "UPDATE jobs SET state = 'queued', started_ms = NULL, owner = NULL"
		" WHERE id = $1 AND state = 'running'", &p, &r)) == 0) {
		if (strcmp(PQcmdTuples(r), "1") != 0) {
			store_pg_msg(s, "store_requeue: no such running job");
			rc = -ENOENT;
		} else if ((rc = store_pg_exec(s, pc->c, "NOTIFY " STORE_PG_CHANNEL, NULL, NULL)) == 0) {
			rc = store_pg_commit(s, pc->c);
		}
	}
	PQclear(r);
	store_pg_put(s, pc);
	return rc;
}

int store_pg_queue_count(struct store *b, int *n)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_conn *pc;
	PGresult *r = NULL;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	rc = store_pg_exec(s, pc->c, "SELECT count(*) FROM jobs WHERE state = 'queued'", NULL, &r);
	if (!rc)
		*n = (int)store_pg_i64(r, 0, 0);
	PQclear(r);
	store_pg_put(s, pc);
	return rc;
}
