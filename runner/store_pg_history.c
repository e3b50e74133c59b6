/*
 * store_pg_history.c — the PostgreSQL backend's reads of the job history
 * (store_backend.h, store_pg.h): one job, a stored delivery, the listings,
 * and pruning what is past its retention.
 *
 * Each listing is one statement, so it is a consistent snapshot. Pruning
 * runs in transactions of at most PRUNE_BATCH jobs, each committed before
 * the next, so claims are never held up behind one long delete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "store_pg.h"

#define PRUNE_BATCH 1000
#define FAILED_STATES "state IN ('failed', 'timeout', 'interrupted')"

int store_pg_history_job(struct store *b, int64_t id, struct store_job *out)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_params p = { .n = 0 };
	struct store_pg_conn *pc;
	PGresult *r = NULL;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	store_pg_p_i64(&p, id);
	rc = store_pg_exec(s, pc->c, "SELECT " STORE_PG_JOB_COLS " FROM jobs WHERE id = $1", &p, &r);
	if (!rc && PQntuples(r) == 0) {
		store_pg_msg(s, "store_job_get: no such job");
		rc = -ENOENT;
	} else if (!rc && (rc = store_pg_read_job(r, 0, out)) != 0) {
		store_pg_msg(s, "store_job_get: out of memory");
	}
	PQclear(r);
	store_pg_put(s, pc);
	return rc;
}

int store_pg_history_delivery(struct store *b, const char *hook, const char *key, char **body,
    size_t *len, char **meta)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_conn *pc;
	int rc;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	rc = store_pg_delivery_read(s, pc->c, hook, key, body, len, meta, NULL);
	store_pg_put(s, pc);
	return rc;
}

/* Every row of SQL with P into a malloc'ed array. */
static int collect(struct store_pg *s, const char *sql, const struct store_pg_params *p,
    const char *fn, struct store_job **out, size_t *n)
{
	struct store_pg_conn *pc;
	struct store_job *v = NULL;
	PGresult *r = NULL;
	int rc, i, cnt = 0;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	if ((rc = store_pg_exec(s, pc->c, sql, p, &r)) != 0)
		goto out;
	if (PQntuples(r) > 0 && !(v = calloc((size_t)PQntuples(r), sizeof *v))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < PQntuples(r); i++, cnt++)
		if ((rc = store_pg_read_job(r, i, &v[i])) != 0)
			goto out;
	*out = v;
	*n = (size_t)cnt;
	v = NULL;
out:
	if (rc == -ENOMEM)
		store_pg_msg(s, "%s: out of memory", fn);
	for (i = 0; v && i < cnt; i++)
		store_job_clear(&v[i]);
	free(v);
	PQclear(r);
	store_pg_put(s, pc);
	return rc;
}

int store_pg_history_list(struct store *b, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n)
{
	static const char *const sql[4] = {
		"SELECT " STORE_PG_JOB_COLS " FROM jobs ORDER BY id DESC LIMIT $1",
		"SELECT " STORE_PG_JOB_COLS " FROM jobs WHERE " FAILED_STATES " ORDER BY id DESC LIMIT $1",
		"SELECT " STORE_PG_JOB_COLS " FROM jobs WHERE hook = $1 ORDER BY id DESC LIMIT $2",
		"SELECT " STORE_PG_JOB_COLS " FROM jobs WHERE hook = $1 AND " FAILED_STATES
		" ORDER BY id DESC LIMIT $2",
	};
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_params p = { .n = 0 };
	const char *q = sql[(hook ? 2 : 0) + (failed_only ? 1 : 0)];

	if (hook)
		store_pg_p_str(&p, hook);
	store_pg_p_i64(&p, limit);
	return collect(s, q, &p, "store_list", out, n);
}

int store_pg_history_attempts(struct store *b, const char *hook, const char *key, struct store_job **out,
    size_t *n)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_params p = { .n = 0 };

	store_pg_p_str(&p, hook);
	store_pg_p_str(&p, key);
	return collect(s, "SELECT " STORE_PG_JOB_COLS " FROM jobs WHERE hook = $1 AND key = $2"
	    " ORDER BY attempt LIMIT 10000", &p, "store_attempts", out, n);
}

/* One transaction: delete up to PRUNE_BATCH finished jobs, then their
 * deliveries that have no job left. *n gets the jobs deleted. */
static int prune_batch(struct store_pg *s, PGconn *c, int64_t cutoff_ms, int *n)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	if ((rc = store_pg_begin(s, c)) != 0)
		return rc;
	store_pg_p_i64(&p, cutoff_ms);
	store_pg_p_i64(&p, PRUNE_BATCH);
	rc = store_pg_exec(s, c, "WITH gone AS (DELETE FROM jobs WHERE id IN (SELECT id FROM jobs"
	    " WHERE finished_ms < $1 AND state NOT IN ('queued', 'running') ORDER BY finished_ms"
	    " LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id, hook, key),"
	    " keys AS (SELECT DISTINCT hook, key FROM gone),"
	    " dels AS (DELETE FROM deliveries d USING keys k WHERE d.hook = k.hook AND d.key = k.key"
	    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.hook = d.hook AND j.key = d.key"
	    " AND j.id NOT IN (SELECT id FROM gone)) RETURNING 1)"
	    " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM dels)", &p, &r);
	if (!rc)
		*n = (int)store_pg_i64(r, 0, 0);
	PQclear(r);
	if (!rc)
		rc = store_pg_commit(s, c);
	store_pg_rollback(s, c);
	return rc;
}

int store_pg_history_prune(struct store *b, int64_t cutoff_ms, int *n)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_params p = { .n = 0 };
	struct store_pg_conn *pc;
	int rc, total = 0, got;

	if (!(pc = store_pg_get(s, &rc)))
		return rc;
	store_pg_p_i64(&p, clock_wall_ms());
	rc = store_pg_exec(s, pc->c, "DELETE FROM jwt_ids WHERE expires_ms < $1", &p, NULL);
	while (!rc) {
		got = 0;
		rc = prune_batch(s, pc->c, cutoff_ms, &got);
		total += got;
		if (got < PRUNE_BATCH)
			break;
	}
	store_pg_put(s, pc);
	if (n)
		*n = total;
	return rc;
}
