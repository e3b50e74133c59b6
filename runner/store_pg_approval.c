/*
 * store_pg_approval.c — the PostgreSQL backend's approvals (store_backend.h,
 * store_pg.h; the contract in store.h): the record a claim creates, reads
 * and listings, the vote and its decision, expiry, the Slack message
 * reference and the change sequence, shared by every instance on the store.
 *
 * A vote is one READ COMMITTED transaction that first locks the approval's
 * row (SELECT ... FOR UPDATE): two votes on one approval, from threads,
 * instances or a CLI, serialise there, and the second reads the first's
 * vote and decision (each later statement takes a new snapshot). One vote
 * per voter is the votes' primary key (approval_id, voter), checked under
 * that lock. A decision changes the job in the same transaction: approved
 * moves it "pending_approval" -> "queued" and NOTIFYs the takers of every
 * instance, as a queued claim does; denied and expired make it final.
 *
 * Expiry takes at most MAX due approvals with FOR UPDATE SKIP LOCKED, so
 * instances expiring at once split the work and never wait on an approval
 * a vote holds (that vote decides it: a vote at or after the expiry
 * expires it).
 *
 * Every change takes the next value of the store-wide counter
 * (approval_seq, one row, updated inside the change's transaction). Its row
 * lock is held to the commit, so changes commit in seq order and a reader
 * of "seq > cursor" never skips one. Claiming a change to show
 * (claim_sync) is one conditional UPDATE: of several instances exactly one
 * moves synced_seq up to the change, so the Slack message is updated once.
 *
 * Locks are always taken approval row first, then the counter, then the
 * job's row, so votes, expiry and claims never deadlock on each other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

#define COLS "id, job_id, hook, key, requester, required, allow_self, approvals, created_ms," \
	" expires_ms, state, decided_by, decided_ms, reason, channel, message_ts, seq, synced_seq"

/* ---- connections and retries ------------------------------------------- */

/* One operation on a pooled connection: *committing is set once its COMMIT
 * is sent (then it is never tried again). On failure it leaves no output. */
typedef int (*op_fn)(struct store_pg *s, PGconn *c, void *arg, int *committing);

/* Run FN on a pooled connection. A pooled connection that the server
 * dropped fails at its first statement, before anything was written: one
 * more try on a new connection. */
static int run(struct store_pg *s, op_fn fn, void *arg)
{
	struct store_pg_conn *pc;
	int rc, committing;

	for (int tries = 0;; tries++) {
		committing = 0;
		if (!(pc = store_pg_get(s, &rc)))
			return rc;
		rc = fn(s, pc->c, arg, &committing);
		store_pg_put(s, pc); /* rolls back what is still open */
		if (rc != -ENOTCONN || committing || tries > 0)
			return rc;
	}
}

/* The next value of the change counter (inside a transaction). */
static int next_seq(struct store_pg *s, PGconn *c, int64_t *seq)
{
	PGresult *r = NULL;
	int rc = store_pg_exec(s, c, "UPDATE approval_seq SET n = n + 1 RETURNING n", NULL, &r);

	if (!rc && PQntuples(r) != 1) {
		store_pg_msg(s, "approvals: the change counter is missing");
		rc = -EIO;
	}
	if (!rc)
		*seq = store_pg_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

int store_pg_approval_create(struct store_pg *s, PGconn *c, const struct store_claim_req *rq,
    const char *key, int64_t job_id)
{
	const struct store_approval_req *a = rq->approval;
	struct store_pg_params p = { .n = 0 };
	int64_t seq = 0;
	int rc;

	if ((rc = next_seq(s, c, &seq)) != 0)
		return rc;
	store_pg_p_str(&p, a->id);
	store_pg_p_i64(&p, job_id);
	store_pg_p_str(&p, rq->hook);
	store_pg_p_str(&p, key);
	store_pg_p_str(&p, a->requester && *a->requester ? a->requester : NULL);
	store_pg_p_i64(&p, a->required);
	store_pg_p_i64(&p, a->allow_self ? 1 : 0);
	store_pg_p_i64(&p, rq->now_ms);
	store_pg_p_i64(&p, a->expires_ms);
	store_pg_p_str(&p, a->channel && *a->channel ? a->channel : NULL);
	store_pg_p_i64(&p, seq);
	return store_pg_exec(s, c, "INSERT INTO approvals (id, job_id, hook, key, requester, required,"
	    " allow_self, created_ms, expires_ms, state, channel, seq)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11)", &p, NULL);
}

/* ---- reads ------------------------------------------------------------ */

/* The COLS of R's row ROW into *A (no votes). */
static void read_row(const PGresult *r, int row, struct store_approval *a)
{
	memset(a, 0, sizeof *a);
	store_pg_copy(r, row, 0, a->id, sizeof a->id);
	a->job_id = store_pg_i64(r, row, 1);
	store_pg_copy(r, row, 2, a->hook, sizeof a->hook);
	store_pg_copy(r, row, 3, a->key, sizeof a->key);
	store_pg_copy(r, row, 4, a->requester, sizeof a->requester);
	a->required = (int)store_pg_i64(r, row, 5);
	a->allow_self = (int)store_pg_i64(r, row, 6);
	a->approvals = (int)store_pg_i64(r, row, 7);
	a->created_ms = store_pg_i64(r, row, 8);
	a->expires_ms = store_pg_i64(r, row, 9);
	a->state = store_approval_state_from_name(PQgetvalue(r, row, 10));
	store_pg_copy(r, row, 11, a->decided_by, sizeof a->decided_by);
	a->decided_ms = store_pg_i64(r, row, 12);
	store_pg_copy(r, row, 13, a->reason, sizeof a->reason);
	store_pg_copy(r, row, 14, a->channel, sizeof a->channel);
	store_pg_copy(r, row, 15, a->message_ts, sizeof a->message_ts);
	a->seq = store_pg_i64(r, row, 16);
	a->synced_seq = store_pg_i64(r, row, 17);
}

/* A's votes, oldest first, into a->votes. */
static int read_votes(struct store_pg *s, PGconn *c, struct store_approval *a)
{
	struct store_pg_params p = { .n = 0 };
	struct store_vote *v = NULL;
	PGresult *r = NULL;
	int rc, i, k;

	store_pg_p_str(&p, a->id);
	rc = store_pg_exec(s, c, "SELECT voter, source, decision, reason, at_ms FROM approval_votes"
	    " WHERE approval_id = $1 ORDER BY at_ms, n", &p, &r);
	if (rc)
		return rc;
	k = PQntuples(r);
	if (k > 0 && !(v = calloc((size_t)k, sizeof *v))) {
		PQclear(r);
		store_pg_msg(s, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < k; i++) {
		store_pg_copy(r, i, 0, v[i].voter, sizeof v[i].voter);
		v[i].source = !strcmp(PQgetvalue(r, i, 1), "cli") ? STORE_VOTE_CLI : STORE_VOTE_SLACK;
		v[i].decision = !strcmp(PQgetvalue(r, i, 2), "deny") ? STORE_VOTE_DENY : STORE_VOTE_APPROVE;
		store_pg_copy(r, i, 3, v[i].reason, sizeof v[i].reason);
		v[i].at_ms = store_pg_i64(r, i, 4);
	}
	PQclear(r);
	free(a->votes);
	a->votes = v;
	a->nvotes = (size_t)k;
	return 0;
}

/* One approval by id (ID non-NULL) or by job, with its votes; LOCK takes
 * its row lock (FOR UPDATE) for the caller's transaction. */
static int get_one(struct store_pg *s, PGconn *c, const char *id, int64_t job_id, int lock,
    struct store_approval *out)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	if (id)
		store_pg_p_str(&p, id);
	else
		store_pg_p_i64(&p, job_id);
	rc = store_pg_exec(s, c, id ? (lock ? "SELECT " COLS " FROM approvals WHERE id = $1 FOR UPDATE" :
	    "SELECT " COLS " FROM approvals WHERE id = $1") :
	    "SELECT " COLS " FROM approvals WHERE job_id = $1", &p, &r);
	if (rc)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		store_pg_msg(s, "no such approval");
		return -ENOENT;
	}
	read_row(r, 0, out);
	PQclear(r);
	rc = read_votes(s, c, out);
	if (rc)
		store_approval_clear(out);
	return rc;
}

struct get_arg {
	const char *id;
	int64_t job_id;
	struct store_approval *out;
};

static int get_op(struct store_pg *s, PGconn *c, void *arg, int *committing)
{
	struct get_arg *g = arg;

	(void)committing;
	return get_one(s, c, g->id, g->job_id, 0, g->out);
}

int store_pg_approval_get(struct store *b, const char *id, int64_t job_id, struct store_approval *out)
{
	struct get_arg g = { .id = id, .job_id = job_id, .out = out };

	return run((struct store_pg *)b, get_op, &g);
}

/* A listing: SQL with P, each row's votes when WITH_VOTES. */
struct list_arg {
	const char *sql;
	struct store_pg_params p;
	int with_votes;
	struct store_approval **out;
	size_t *n;
};

static int list_op(struct store_pg *s, PGconn *c, void *arg, int *committing)
{
	struct list_arg *l = arg;
	struct store_approval *v = NULL;
	PGresult *r = NULL;
	int rc, i, k;

	(void)committing;
	if ((rc = store_pg_exec(s, c, l->sql, &l->p, &r)) != 0)
		return rc;
	k = PQntuples(r);
	if (k > 0 && !(v = calloc((size_t)k, sizeof *v))) {
		PQclear(r);
		store_pg_msg(s, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < k; i++)
		read_row(r, i, &v[i]);
	PQclear(r);
	for (i = 0; l->with_votes && i < k && !rc; i++)
		rc = read_votes(s, c, &v[i]);
	if (rc) {
		store_approvals_free(v, (size_t)k);
		return rc;
	}
	*l->out = v;
	*l->n = (size_t)k;
	return 0;
}

int store_pg_approval_pending(struct store *b, const char *hook, int limit,
    struct store_approval **out, size_t *n)
{
	struct list_arg l = {
		.sql = hook ? "SELECT " COLS " FROM approvals WHERE state = 'pending' AND hook = $2"
		    " ORDER BY expires_ms, job_id LIMIT $1" :
		    "SELECT " COLS " FROM approvals WHERE state = 'pending' ORDER BY expires_ms, job_id LIMIT $1",
		.with_votes = 1, .out = out, .n = n,
	};

	store_pg_p_i64(&l.p, limit);
	if (hook)
		store_pg_p_str(&l.p, hook);
	return run((struct store_pg *)b, list_op, &l);
}

int store_pg_approval_changed(struct store *b, int64_t since_seq, int limit,
    struct store_approval **out, size_t *n)
{
	struct list_arg l = {
		.sql = "SELECT " COLS " FROM approvals WHERE seq > $1 ORDER BY seq LIMIT $2",
		.with_votes = 0, .out = out, .n = n,
	};

	store_pg_p_i64(&l.p, since_seq);
	store_pg_p_i64(&l.p, limit);
	return run((struct store_pg *)b, list_op, &l);
}

int store_pg_approval_unsynced(struct store *b, int limit, struct store_approval **out, size_t *n)
{
	struct list_arg l = {
		.sql = "SELECT " COLS " FROM approvals WHERE seq > synced_seq ORDER BY seq LIMIT $1",
		.with_votes = 1, .out = out, .n = n,
	};

	store_pg_p_i64(&l.p, limit);
	return run((struct store_pg *)b, list_op, &l);
}

/* A single number: the first column of SQL's one row. */
struct num_arg {
	const char *sql;
	int64_t v;
};

static int num_op(struct store_pg *s, PGconn *c, void *arg, int *committing)
{
	struct num_arg *a = arg;
	PGresult *r = NULL;
	int rc;

	(void)committing;
	if ((rc = store_pg_exec(s, c, a->sql, NULL, &r)) != 0)
		return rc;
	if (PQntuples(r) != 1) {
		store_pg_msg(s, "approvals: a count returned no row");
		rc = -EIO;
	} else {
		a->v = store_pg_i64(r, 0, 0);
	}
	PQclear(r);
	return rc;
}

int store_pg_approval_count(struct store *b, int *n)
{
	struct num_arg a = { .sql = "SELECT count(*) FROM approvals WHERE state = 'pending'" };
	int rc = run((struct store_pg *)b, num_op, &a);

	if (!rc)
		*n = (int)a.v;
	return rc;
}

int store_pg_approval_max_seq(struct store *b, int64_t *seq)
{
	/* the counter, not max(seq): a change whose row was pruned still counts */
	struct num_arg a = { .sql = "SELECT n FROM approval_seq" };
	int rc = run((struct store_pg *)b, num_op, &a);

	if (!rc)
		*seq = a.v;
	return rc;
}

/* ---- decisions ------------------------------------------------------ */

/* Decide approval A (pending, its row locked in this transaction) as
 * STATE, by BY (NULL for expiry) with REASON, counting ADD more approve
 * votes; its job follows. AFTER (may be NULL) gets the row as decided. */
static int decide(struct store_pg *s, PGconn *c, const struct store_approval *a,
    enum store_approval_state state, const char *by, const char *reason, int add, int64_t now_ms,
    struct store_approval *after)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int64_t seq = 0;
	int rc;

	if ((rc = next_seq(s, c, &seq)) != 0)
		return rc;
	store_pg_p_str(&p, a->id);
	store_pg_p_str(&p, store_approval_state_name(state));
	store_pg_p_str(&p, by && *by ? by : NULL);
	store_pg_p_i64(&p, now_ms);
	store_pg_p_str(&p, reason && *reason ? reason : NULL);
	store_pg_p_i64(&p, seq);
	store_pg_p_i64(&p, add);
	rc = store_pg_exec(s, c, "UPDATE approvals SET state = $2, decided_by = $3, decided_ms = $4,"
	    " reason = $5, seq = $6, approvals = approvals + $7 WHERE id = $1 AND state = 'pending'"
	    " RETURNING " COLS, &p, &r);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		store_pg_msg(s, "approval changed under its row lock");
		return -EIO;
	}
	if (after)
		read_row(r, 0, after);
	PQclear(r);
	r = NULL;
	p.n = 0;
	store_pg_p_i64(&p, a->job_id);
	if (state == STORE_APPROVAL_APPROVED) {
		rc = store_pg_exec(s, c, "UPDATE jobs SET state = 'queued' WHERE id = $1"
		    " AND state = 'pending_approval' RETURNING id", &p, &r);
		/* delivered at commit, to the takers of every instance */
		if (!rc && PQntuples(r) == 1)
			rc = store_pg_exec(s, c, "NOTIFY " STORE_PG_CHANNEL, NULL, NULL);
		PQclear(r);
	} else {
		store_pg_p_str(&p, state == STORE_APPROVAL_DENIED ? "denied" : "expired");
		store_pg_p_i64(&p, now_ms);
		rc = store_pg_exec(s, c, "UPDATE jobs SET state = $2, finished_ms = $3, http_status = 403"
		    " WHERE id = $1 AND state = 'pending_approval'", &p, NULL);
	}
	/* A job no longer pending changes nothing: the approval's record is
	 * the decision. */
	return rc;
}

/* A counted approve vote that did not decide: one more, a new seq. */
static int count_vote(struct store_pg *s, PGconn *c, const char *id)
{
	struct store_pg_params p = { .n = 0 };
	int64_t seq = 0;
	int rc;

	if ((rc = next_seq(s, c, &seq)) != 0)
		return rc;
	store_pg_p_str(&p, id);
	store_pg_p_i64(&p, seq);
	return store_pg_exec(s, c, "UPDATE approvals SET approvals = approvals + 1, seq = $2"
	    " WHERE id = $1 AND state = 'pending'", &p, NULL);
}

/* 1 when VOTER already voted on ID, 0 when not, negative on failure. */
static int has_voted(struct store_pg *s, PGconn *c, const char *id, const char *voter)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	store_pg_p_str(&p, id);
	store_pg_p_str(&p, voter);
	rc = store_pg_exec(s, c, "SELECT 1 FROM approval_votes WHERE approval_id = $1 AND voter = $2",
	    &p, &r);
	if (!rc)
		rc = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

static int put_vote(struct store_pg *s, PGconn *c, const struct store_vote_req *v)
{
	struct store_pg_params p = { .n = 0 };

	store_pg_p_str(&p, v->approval_id);
	store_pg_p_str(&p, v->voter);
	store_pg_p_str(&p, store_vote_source_name(v->source));
	store_pg_p_str(&p, store_vote_decision_name(v->decision));
	store_pg_p_str(&p, v->reason && *v->reason ? v->reason : NULL);
	store_pg_p_i64(&p, v->now_ms);
	return store_pg_exec(s, c, "INSERT INTO approval_votes (approval_id, voter, source, decision,"
	    " reason, at_ms) VALUES ($1, $2, $3, $4, $5, $6)", &p, NULL);
}

struct vote_arg {
	const struct store_vote_req *v;
	enum store_vote_kind kind;
	struct store_approval out;
};

static int vote_tx(struct store_pg *s, PGconn *c, const struct store_vote_req *v,
    enum store_vote_kind *kind, int *write)
{
	struct store_approval a;
	int rc;

	memset(&a, 0, sizeof a);
	*write = 0;
	if ((rc = store_pg_begin(s, c)) != 0 || (rc = get_one(s, c, v->approval_id, 0, 1, &a)) != 0)
		return rc;
	if (a.state != STORE_APPROVAL_PENDING) {
		*kind = STORE_VOTE_CLOSED;
	} else if (v->now_ms >= a.expires_ms) {
		rc = decide(s, c, &a, STORE_APPROVAL_EXPIRED, NULL, NULL, 0, v->now_ms, NULL);
		*kind = STORE_VOTE_LATE;
		*write = 1;
	} else if ((rc = has_voted(s, c, a.id, v->voter)) != 0) {
		if (rc == 1) {
			*kind = STORE_VOTE_TWICE;
			rc = 0;
		}
	} else if ((rc = put_vote(s, c, v)) == 0) {
		*write = 1;
		if (v->decision == STORE_VOTE_DENY)
			rc = decide(s, c, &a, STORE_APPROVAL_DENIED, v->voter, v->reason, 0, v->now_ms, NULL);
		else if (a.approvals + 1 >= a.required)
			rc = decide(s, c, &a, STORE_APPROVAL_APPROVED, v->voter, NULL, 1, v->now_ms, NULL);
		else
			rc = count_vote(s, c, a.id);
		*kind = v->decision == STORE_VOTE_DENY || a.approvals + 1 >= a.required ?
		    STORE_VOTE_DECIDED : STORE_VOTE_COUNTED;
	}
	store_approval_clear(&a);
	return rc;
}

static int vote_op(struct store_pg *s, PGconn *c, void *arg, int *committing)
{
	struct vote_arg *va = arg;
	int rc, write = 0;

	memset(&va->out, 0, sizeof va->out);
	if ((rc = vote_tx(s, c, va->v, &va->kind, &write)) != 0)
		return rc;
	/* the approval as this transaction leaves it, votes included */
	if ((rc = get_one(s, c, va->v->approval_id, 0, 0, &va->out)) != 0)
		return rc;
	if (write) {
		*committing = 1;
		rc = store_pg_commit(s, c);
	} else {
		store_pg_rollback(s, c); /* nothing written: just end the transaction */
	}
	if (rc)
		store_approval_clear(&va->out);
	return rc;
}

int store_pg_approval_vote(struct store *b, const struct store_vote_req *v, enum store_vote_kind *kind,
    struct store_approval *out)
{
	struct vote_arg va = { .v = v };
	int rc = run((struct store_pg *)b, vote_op, &va);

	if (!rc) {
		*kind = va.kind;
		*out = va.out;
	}
	return rc;
}

struct expire_arg {
	int64_t now_ms;
	int max;
	struct store_approval *v;
	size_t n;
};

static int expire_op(struct store_pg *s, PGconn *c, void *arg, int *committing)
{
	struct expire_arg *e = arg;
	struct store_pg_params p = { .n = 0 };
	struct store_approval *v = NULL;
	PGresult *r = NULL;
	int rc, i, k = 0;

	e->v = NULL;
	e->n = 0;
	if ((rc = store_pg_begin(s, c)) != 0)
		return rc;
	/* due ones that no other transaction holds: another instance's expiry
	 * or a vote (which decides it itself) */
	store_pg_p_i64(&p, e->now_ms);
	store_pg_p_i64(&p, e->max);
	rc = store_pg_exec(s, c, "SELECT " COLS " FROM approvals WHERE state = 'pending'"
	    " AND expires_ms <= $1 ORDER BY expires_ms, job_id LIMIT $2 FOR UPDATE SKIP LOCKED", &p, &r);
	if (rc)
		return rc;
	k = PQntuples(r);
	if (k == 0) {
		PQclear(r);
		return 0; /* nothing due: the transaction is rolled back unused */
	}
	if (!(v = calloc((size_t)k, sizeof *v))) {
		PQclear(r);
		store_pg_msg(s, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < k; i++)
		read_row(r, i, &v[i]);
	PQclear(r);
	for (i = 0; i < k && !rc; i++) {
		struct store_approval a = v[i];
		rc = decide(s, c, &a, STORE_APPROVAL_EXPIRED, NULL, NULL, 0, e->now_ms, &v[i]);
	}
	if (!rc) {
		*committing = 1;
		rc = store_pg_commit(s, c);
	}
	if (rc) {
		store_approvals_free(v, (size_t)k);
		return rc;
	}
	e->v = v;
	e->n = (size_t)k;
	return 0;
}

int store_pg_approval_expire(struct store *b, int64_t now_ms, int max, struct store_approval **out,
    size_t *n)
{
	struct expire_arg e = { .now_ms = now_ms, .max = max };
	int rc = run((struct store_pg *)b, expire_op, &e);

	if (!rc) {
		*out = e.v;
		*n = e.n;
	}
	return rc;
}

/* ---- Slack message and change claims ---------------------------------- */

/* One statement (atomic on its own) that changes at most ID's row; ROWS
 * gets how many it changed. */
struct one_arg {
	const char *sql;
	struct store_pg_params p;
	const char *id;
	int rows;
};

static int one_op(struct store_pg *s, PGconn *c, void *arg, int *committing)
{
	struct one_arg *o = arg;
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	*committing = 1; /* autocommit: a lost answer may have been applied */
	if ((rc = store_pg_exec(s, c, o->sql, &o->p, &r)) != 0)
		return rc;
	o->rows = atoi(PQcmdTuples(r));
	PQclear(r);
	r = NULL;
	if (o->rows > 0)
		return 0;
	store_pg_p_str(&p, o->id);
	if ((rc = store_pg_exec(s, c, "SELECT 1 FROM approvals WHERE id = $1", &p, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0) {
		store_pg_msg(s, "no such approval");
		rc = -ENOENT;
	}
	PQclear(r);
	return rc;
}

int store_pg_approval_message(struct store *b, const char *id, const char *channel, const char *ts)
{
	struct one_arg o = {
		.sql = "UPDATE approvals SET channel = $2, message_ts = $3 WHERE id = $1", .id = id,
	};

	store_pg_p_str(&o.p, id);
	store_pg_p_str(&o.p, channel);
	store_pg_p_str(&o.p, ts);
	return run((struct store_pg *)b, one_op, &o);
}

int store_pg_approval_claim_sync(struct store *b, const char *id, int64_t seq, int *won)
{
	/* Of concurrent claimers one updates the row; the others wait for its
	 * lock, re-check the WHERE on the new row and change nothing. */
	struct one_arg o = {
		.sql = "UPDATE approvals SET synced_seq = $2 WHERE id = $1 AND synced_seq < $2", .id = id,
	};
	int rc;

	store_pg_p_str(&o.p, id);
	store_pg_p_i64(&o.p, seq);
	rc = run((struct store_pg *)b, one_op, &o);
	if (!rc)
		*won = o.rows == 1;
	return rc;
}
