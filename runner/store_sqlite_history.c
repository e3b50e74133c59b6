/*
 * store_sqlite_history.c — the SQLite backend's reads of the job history
 * (store_backend.h, store_sqlite.h): one job, a stored delivery, the
 * listings, and pruning what is past its retention.
 *
 * Each listing is one statement per filter, so each reads its own index
 * newest first (no sort; LIMIT stops the scan) and is a consistent
 * snapshot. Pruning runs in transactions of at most PRUNE_BATCH jobs, the
 * lock released between them, so claims are not held up.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "store_sqlite.h"

#define PRUNE_BATCH 1000

int store_sqlite_history_job(struct store *b, int64_t id, struct store_job *out)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	struct store_job j;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(&j, 0, sizeof j);
	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_JOB_GET);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		store_backend_msg(&s->base, "store_job_get: no such job");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	rc = store_sqlite_read_job(st, &j);
	if (rc) {
		store_backend_msg(&s->base, "store_job_get: out of memory");
		goto out;
	}
	*out = j;
	memset(&j, 0, sizeof j);
out:
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	store_job_clear(&j);
	return rc;
}

int store_sqlite_history_delivery(struct store *b, const char *hook, const char *key, char **body,
    size_t *len, char **meta)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	rc = store_sqlite_delivery_read(s, hook, key, body, len, meta, NULL);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

/* Every row of ST (bound, under s->base.mu) into a malloc'ed array. */
static int collect(struct store_sqlite *s, sqlite3_stmt *st, const char *fn, struct store_job **out,
    size_t *n)
{
	struct store_job *v = NULL, *nv;
	size_t cnt = 0, cap = 0, i;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		if ((rc = store_sqlite_read_job(st, &v[cnt])))
			break;
		cnt++;
	}
	if (rc == -ENOMEM) {
		snprintf(s->base.err, sizeof s->base.err, "%s: out of memory", fn);
	} else if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
	} else {
		*out = v;
		*n = cnt;
		return 0;
	}
	for (i = 0; i < cnt; i++)
		store_job_clear(&v[i]);
	free(v);
	return rc;
}

int store_sqlite_history_list(struct store *b, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	/* one statement per filter, so each reads its own index newest first */
	st = store_sqlite_stmt(s, hook ? (failed_only ? Q_LIST_HOOK_FAILED : Q_LIST_HOOK) :
	    (failed_only ? Q_LIST_FAILED : Q_LIST_ALL));
	if (hook)
		sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	rc = collect(s, st, "store_list", out, n);
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

int store_sqlite_history_attempts(struct store *b, const char *hook, const char *key, struct store_job **out,
    size_t *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_ATTEMPTS);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = collect(s, st, "store_attempts", out, n);
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

/* ---- prune, health --------------------------------------------------- */

/* One transaction: delete up to PRUNE_BATCH finished jobs, then each of
 * their deliveries whose key has no job left. *n gets the jobs deleted. */
static int prune_batch(struct store_sqlite *s, int64_t cutoff_ms, int *n)
{
	sqlite3_stmt *st = NULL, *del;
	int rc, count = 0;

	rc = store_sqlite_begin(s);
	if (rc)
		goto out;
	st = store_sqlite_stmt(s, Q_PRUNE_JOBS);
	sqlite3_bind_int64(st, 1, cutoff_ms);
	sqlite3_bind_int(st, 2, PRUNE_BATCH);
	/* RETURNING rows are computed by the first step, so the deliveries
	 * can be deleted while they are read back. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		count++;
		del = store_sqlite_stmt(s, Q_PRUNE_DELIVERY);
		sqlite3_bind_text(del, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(del, 2, (const char *)sqlite3_column_text(st, 1), -1, SQLITE_TRANSIENT);
		rc = store_sqlite_run(s, del);
		store_sqlite_done(del);
		if (rc)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	store_sqlite_done(st);
	st = NULL;
	rc = store_sqlite_commit(s);
	if (!rc)
		*n = count;
out:
	store_sqlite_done(st);
	if (rc)
		store_sqlite_rollback(s);
	return rc;
}

int store_sqlite_history_prune(struct store *b, int64_t cutoff_ms, int *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc = 0, total = 0, got;

	/* Single-use token ids past their expiry prove nothing any more: such
	 * a token is refused as expired anyway. One statement, atomic. */
	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_PRUNE_JTI);
	sqlite3_bind_int64(st, 1, clock_wall_ms());
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	if (rc)
		return rc;
	do {
		got = 0;
		pthread_mutex_lock(&s->base.mu); /* released between batches: claims go on */
		rc = prune_batch(s, cutoff_ms, &got);
		pthread_mutex_unlock(&s->base.mu);
		total += got;
	} while (!rc && got == PRUNE_BATCH);
	if (n)
		*n = total;
	return rc;
}
