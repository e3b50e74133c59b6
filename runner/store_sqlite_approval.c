/*
 * store_sqlite_approval.c — the SQLite backend's approvals (store_backend.h,
 * store_sqlite.h; the contract in store.h): the record a claim creates,
 * reads and listings, the vote and its decision, expiry, the Slack message
 * reference and the change sequence.
 *
 * Every write runs in one BEGIN IMMEDIATE transaction: the write lock comes
 * first, so two votes (threads, daemons, a CLI) serialise, and the second
 * sees the first's decision. A decision changes the job in the same
 * transaction ("pending_approval" -> "queued", "denied" or "expired").
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* The next value of the change sequence into *SEQ (inside a transaction). */
static int next_seq(struct store_sqlite *s, int64_t *seq)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_SEQ_NEXT);
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
	}
	store_sqlite_done(st);
	return rc;
}

int store_sqlite_approval_create(struct store_sqlite *s, const struct store_claim_req *rq, int64_t job_id)
{
	const struct store_approval_req *a = rq->approval;
	sqlite3_stmt *st;
	int64_t seq = 0;
	int rc;

	if ((rc = next_seq(s, &seq)) != 0)
		return rc;
	st = store_sqlite_stmt(s, Q_APPROVAL_PUT);
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_id);
	sqlite3_bind_text(st, 3, rq->hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rq->key, -1, SQLITE_STATIC);
	bind_opt(st, 5, a->requester);
	sqlite3_bind_int(st, 6, a->required);
	sqlite3_bind_int(st, 7, a->allow_self ? 1 : 0);
	sqlite3_bind_int64(st, 8, rq->now_ms);
	sqlite3_bind_int64(st, 9, a->expires_ms);
	bind_opt(st, 10, a->channel);
	sqlite3_bind_int64(st, 11, seq);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	return rc;
}

/* ---- reads ------------------------------------------------------------ */

/* The STORE_SQLITE_APPROVAL_COLS of ST's row into *A (no votes). */
static void read_row(sqlite3_stmt *st, struct store_approval *a)
{
	memset(a, 0, sizeof *a);
	store_sqlite_copy_column(st, 0, a->id, sizeof a->id);
	a->job_id = sqlite3_column_int64(st, 1);
	store_sqlite_copy_column(st, 2, a->hook, sizeof a->hook);
	store_sqlite_copy_column(st, 3, a->key, sizeof a->key);
	store_sqlite_copy_column(st, 4, a->requester, sizeof a->requester);
	a->required = sqlite3_column_int(st, 5);
	a->allow_self = sqlite3_column_int(st, 6);
	a->approvals = sqlite3_column_int(st, 7);
	a->created_ms = sqlite3_column_int64(st, 8);
	a->expires_ms = sqlite3_column_int64(st, 9);
	a->state = store_approval_state_from_name((const char *)sqlite3_column_text(st, 10));
	store_sqlite_copy_column(st, 11, a->decided_by, sizeof a->decided_by);
	a->decided_ms = sqlite3_column_int64(st, 12);
	store_sqlite_copy_column(st, 13, a->reason, sizeof a->reason);
	store_sqlite_copy_column(st, 14, a->channel, sizeof a->channel);
	store_sqlite_copy_column(st, 15, a->message_ts, sizeof a->message_ts);
	a->seq = sqlite3_column_int64(st, 16);
	a->synced_seq = sqlite3_column_int64(st, 17);
}

/* A's votes, oldest first, into a->votes. */
static int read_votes(struct store_sqlite *s, struct store_approval *a)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_VOTES);
	struct store_vote *v = NULL, *nv;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				store_backend_msg(&s->base, "out of memory");
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		store_sqlite_copy_column(st, 0, v[n].voter, sizeof v[n].voter);
		v[n].source = !strcmp((const char *)sqlite3_column_text(st, 1) ? (const char *)
		    sqlite3_column_text(st, 1) : "", "cli") ? STORE_VOTE_CLI : STORE_VOTE_SLACK;
		v[n].decision = !strcmp((const char *)sqlite3_column_text(st, 2) ? (const char *)
		    sqlite3_column_text(st, 2) : "", "deny") ? STORE_VOTE_DENY : STORE_VOTE_APPROVE;
		store_sqlite_copy_column(st, 3, v[n].reason, sizeof v[n].reason);
		v[n].at_ms = sqlite3_column_int64(st, 4);
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	rc = 0;
	a->votes = v;
	a->nvotes = n;
	v = NULL;
out:
	store_sqlite_done(st);
	free(v);
	return rc;
}

/* One approval by id (ID non-NULL) or by job, with its votes. */
static int get_one(struct store_sqlite *s, const char *id, int64_t job_id, struct store_approval *out)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, id ? Q_APPROVAL_GET : Q_APPROVAL_BY_JOB);
	int rc;

	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		store_backend_msg(&s->base, "no such approval");
		store_sqlite_done(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		store_sqlite_done(st);
		return rc;
	}
	read_row(st, out);
	store_sqlite_done(st);
	rc = read_votes(s, out);
	if (rc)
		store_approval_clear(out);
	return rc;
}

int store_sqlite_approval_get(struct store *b, const char *id, int64_t job_id, struct store_approval *out)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	rc = get_one(s, id, job_id, out);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

/* The rows of ST (bound by the caller) as an array; WITH_VOTES reads each
 * one's votes. The caller holds the lock. */
static int read_list(struct store_sqlite *s, sqlite3_stmt *st, int with_votes, struct store_approval **out,
    size_t *n)
{
	struct store_approval *v = NULL, *nv;
	size_t k = 0, cap = 0, i;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				store_backend_msg(&s->base, "out of memory");
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		read_row(st, &v[k++]);
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	store_sqlite_done(st);
	rc = 0;
	for (i = 0; with_votes && i < k && !rc; i++)
		rc = read_votes(s, &v[i]);
	if (rc)
		goto out;
	*out = v;
	*n = k;
	v = NULL;
	k = 0;
out:
	store_sqlite_done(st);
	store_approvals_free(v, k);
	return rc;
}

int store_sqlite_approval_pending(struct store *b, const char *hook, int limit,
    struct store_approval **out, size_t *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, hook ? Q_PENDING_HOOK : Q_PENDING_ALL);
	if (hook)
		sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	rc = read_list(s, st, 1, out, n);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

/* A single count(*) or value of statement Q. */
static int one_number(struct store *b, int q, int64_t *v)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, q);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
	}
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

int store_sqlite_approval_count(struct store *b, int *n)
{
	int64_t v = 0;
	int rc = one_number(b, Q_COUNT_PENDING, &v);

	if (!rc)
		*n = (int)v;
	return rc;
}

int store_sqlite_approval_max_seq(struct store *b, int64_t *seq)
{
	return one_number(b, Q_SEQ_MAX, seq);
}

/* ---- decisions ------------------------------------------------------ */

/* Decide approval A (pending, read in this transaction) as STATE, by BY
 * (NULL for expiry) with REASON, counting ADD more approve votes; its job
 * follows. */
static int decide(struct store_sqlite *s, const struct store_approval *a, enum store_approval_state state,
    const char *by, const char *reason, int add, int64_t now_ms)
{
	sqlite3_stmt *st;
	int64_t seq = 0;
	int rc;

	if ((rc = next_seq(s, &seq)) != 0)
		return rc;
	st = store_sqlite_stmt(s, Q_APPROVAL_DECIDE);
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store_approval_state_name(state), -1, SQLITE_STATIC);
	bind_opt(st, 3, by);
	sqlite3_bind_int64(st, 4, now_ms);
	bind_opt(st, 5, reason);
	sqlite3_bind_int64(st, 6, seq);
	sqlite3_bind_int(st, 7, add);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	if (rc)
		return rc;
	if (sqlite3_changes(s->db) != 1) {
		store_backend_msg(&s->base, "approval changed under the write lock");
		return -EIO;
	}
	if (state == STORE_APPROVAL_APPROVED) {
		st = store_sqlite_stmt(s, Q_JOB_APPROVED);
		sqlite3_bind_int64(st, 1, a->job_id);
	} else {
		st = store_sqlite_stmt(s, Q_JOB_REFUSED);
		sqlite3_bind_int64(st, 1, a->job_id);
		sqlite3_bind_text(st, 2, state == STORE_APPROVAL_DENIED ? "denied" : "expired", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
	}
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	/* A job no longer pending (pruned: the approval would be gone with it)
	 * changes nothing: the approval's record is the decision. */
	return rc;
}

static int has_voted(struct store_sqlite *s, const char *id, const char *voter, int *yes)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_VOTE_GET);
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, voter, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
	store_sqlite_done(st);
	return rc;
}

static int put_vote(struct store_sqlite *s, const struct store_vote_req *v)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_VOTE_PUT);
	int rc;

	sqlite3_bind_text(st, 1, v->approval_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->voter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, store_vote_source_name(v->source), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, store_vote_decision_name(v->decision), -1, SQLITE_STATIC);
	bind_opt(st, 5, v->reason);
	sqlite3_bind_int64(st, 6, v->now_ms);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	return rc;
}

/* A counted approve vote that did not decide: one more, a new seq. */
static int count_vote(struct store_sqlite *s, const char *id)
{
	sqlite3_stmt *st;
	int64_t seq = 0;
	int rc;

	if ((rc = next_seq(s, &seq)) != 0)
		return rc;
	st = store_sqlite_stmt(s, Q_APPROVAL_COUNT);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	rc = store_sqlite_run(s, st);
	store_sqlite_done(st);
	return rc;
}

int store_sqlite_approval_vote(struct store *b, const struct store_vote_req *v, enum store_vote_kind *kind,
    struct store_approval *out)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	struct store_approval a;
	int rc, voted = 0, write = 0;

	memset(&a, 0, sizeof a);
	pthread_mutex_lock(&s->base.mu);
	if ((rc = store_sqlite_begin(s)) != 0)
		goto out;
	if ((rc = get_one(s, v->approval_id, 0, &a)) != 0)
		goto out;
	if (a.state != STORE_APPROVAL_PENDING) {
		*kind = STORE_VOTE_CLOSED;
	} else if (v->now_ms >= a.expires_ms) {
		if ((rc = decide(s, &a, STORE_APPROVAL_EXPIRED, NULL, NULL, 0, v->now_ms)) != 0)
			goto out;
		*kind = STORE_VOTE_LATE;
		write = 1;
	} else if ((rc = has_voted(s, a.id, v->voter, &voted)) != 0) {
		goto out;
	} else if (voted) {
		*kind = STORE_VOTE_TWICE;
	} else {
		if ((rc = put_vote(s, v)) != 0)
			goto out;
		write = 1;
		if (v->decision == STORE_VOTE_DENY)
			rc = decide(s, &a, STORE_APPROVAL_DENIED, v->voter, v->reason, 0, v->now_ms);
		else if (a.approvals + 1 >= a.required)
			rc = decide(s, &a, STORE_APPROVAL_APPROVED, v->voter, NULL, 1, v->now_ms);
		else
			rc = count_vote(s, a.id);
		if (rc)
			goto out;
		*kind = v->decision == STORE_VOTE_DENY || a.approvals + 1 >= a.required ?
		    STORE_VOTE_DECIDED : STORE_VOTE_COUNTED;
	}
	store_approval_clear(&a);
	if (write && (rc = get_one(s, v->approval_id, 0, &a)) != 0)
		goto out;
	if (write)
		rc = store_sqlite_commit(s);
	else
		store_sqlite_rollback(s); /* nothing written: just end the transaction */
	if (rc)
		goto out;
	if (!write && (rc = get_one(s, v->approval_id, 0, &a)) != 0)
		goto out;
	*out = a;
	memset(&a, 0, sizeof a);
out:
	if (rc)
		store_sqlite_rollback(s);
	pthread_mutex_unlock(&s->base.mu);
	store_approval_clear(&a);
	return rc;
}

int store_sqlite_approval_expire(struct store *b, int64_t now_ms, int max, struct store_approval **out,
    size_t *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	struct store_approval *v = NULL;
	char (*ids)[STORE_APPROVAL_ID_LEN + 1] = NULL;
	sqlite3_stmt *st = NULL;
	size_t k = 0, i;
	int rc;

	if (!(ids = calloc((size_t)max, sizeof *ids)) || !(v = calloc((size_t)max, sizeof *v))) {
		free(ids);
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->base.mu);
	/* Most ticks find nothing due: a read first, so they never take the
	 * write lock (nor fail on a store that is read-only for a while). */
	st = store_sqlite_stmt(s, Q_EXPIRE_DUE);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, 1);
	rc = sqlite3_step(st);
	store_sqlite_done(st);
	st = NULL;
	if (rc == SQLITE_DONE) {
		rc = 0;
		*out = NULL;
		*n = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	if ((rc = store_sqlite_begin(s)) != 0)
		goto out;
	st = store_sqlite_stmt(s, Q_EXPIRE_DUE);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, max);
	while (k < (size_t)max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		store_sqlite_copy_column(st, 0, ids[k++], sizeof ids[0]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	store_sqlite_done(st);
	st = NULL;
	rc = 0;
	for (i = 0; i < k && !rc; i++) {
		struct store_approval a;
		memset(&a, 0, sizeof a);
		if ((rc = get_one(s, ids[i], 0, &a)) == 0)
			rc = decide(s, &a, STORE_APPROVAL_EXPIRED, NULL, NULL, 0, now_ms);
		store_approval_clear(&a);
		if (!rc && (rc = get_one(s, ids[i], 0, &v[i])) == 0) {
			free(v[i].votes); /* the listing has no votes */
			v[i].votes = NULL;
			v[i].nvotes = 0;
		}
	}
	if (!rc)
		rc = store_sqlite_commit(s);
	if (rc)
		goto out;
	*out = k ? v : NULL;
	*n = k;
	if (k)
		v = NULL;
out:
	store_sqlite_done(st);
	if (rc)
		store_sqlite_rollback(s);
	pthread_mutex_unlock(&s->base.mu);
	store_approvals_free(v, k);
	free(ids);
	return rc;
}

/* ---- Slack message and changes ---------------------------------------- */

int store_sqlite_approval_message(struct store *b, const char *id, const char *channel, const char *ts)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_SET_MESSAGE);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
	rc = store_sqlite_run(s, st);
	if (!rc && sqlite3_changes(s->db) == 0) {
		store_backend_msg(&s->base, "no such approval");
		rc = -ENOENT;
	}
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

int store_sqlite_approval_changed(struct store *b, int64_t since_seq, int limit,
    struct store_approval **out, size_t *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_CHANGED);
	sqlite3_bind_int64(st, 1, since_seq);
	sqlite3_bind_int(st, 2, limit);
	rc = read_list(s, st, 0, out, n);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

int store_sqlite_approval_unsynced(struct store *b, int limit, struct store_approval **out, size_t *n)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_UNSYNCED);
	sqlite3_bind_int(st, 1, limit);
	rc = read_list(s, st, 1, out, n);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

int store_sqlite_approval_claim_sync(struct store *b, const char *id, int64_t seq, int *won)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->base.mu);
	st = store_sqlite_stmt(s, Q_CLAIM_SYNC);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	rc = store_sqlite_run(s, st); /* one statement: atomic on its own */
	store_sqlite_done(st);
	if (rc)
		goto out;
	*won = sqlite3_changes(s->db) == 1;
	if (!*won) {
		st = store_sqlite_stmt(s, Q_APPROVAL_EXISTS);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			store_backend_msg(&s->base, "no such approval");
			rc = -ENOENT;
		} else {
			rc = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
		}
		store_sqlite_done(st);
	}
out:
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}
