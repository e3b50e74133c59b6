/*
 * store_pg.h — the PostgreSQL store backend's own declarations, shared by
 * its files (store_pg*.c) and by nothing else: the handle, its connection
 * pool, the instance lease, and the helpers every file uses.
 *
 * The backend keeps the store in one schema (store_config.pg_schema) of a
 * database that several runner instances share:
 *   schema_version(version)                                the layout's version
 *   deliveries(hook, key, body_sha256, body BYTEA, headers BYTEA, received_ms,
 *              PRIMARY KEY(hook, key))                     one per verified key
 *   jobs(id BIGINT IDENTITY, hook, key, attempt, state, body_sha256,
 *        created_ms, started_ms, finished_ms, exit_code, signal, error,
 *        http_status, response BYTEA, output_tail BYTEA, owner,
 *        UNIQUE(hook, key, attempt))
 *   jwt_ids(hook, jti (hex of its bytes), key, expires_ms, PRIMARY KEY(hook, jti))
 *   instances(id, host, pid, started, lease_until)        one per open handle
 *   approvals(id, job_id UNIQUE, hook, key, ..., state, seq, synced_seq)
 *   approval_votes(approval_id, voter, ..., PRIMARY KEY(approval_id, voter))
 *   approval_seq(n)                                       the change counter
 * What came from the network or a remote shell (stored headers, answers,
 * output tails, token ids) is kept as bytes, not TEXT: a UTF8 database
 * refuses invalid UTF-8, and SQLite keeps such bytes as they are.
 * A job's owner is the instance that claimed or took it "running". Migrations
 * (store_pg_schema.c) run under a session advisory lock, so two instances
 * starting together migrate once.
 *
 * Helpers are called without s->base.mu; they take it only to write
 * s->base.err. A connection (struct store_pg_conn) is used by one thread at
 * a time: taken from the pool and given back.
 */
#ifndef STORE_PG_H
#define STORE_PG_H
#include <libpq-fe.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store_backend.h"

#define STORE_PG_POOL_MAX 64
#define STORE_PG_SCHEMA_MAX 63
#define STORE_PG_CHANNEL "webhook_runner_queued"

struct store_pg_conn {
	PGconn *c;
	int busy;
};

struct store_pg {
	struct store base; /* first: what the front holds */
	char *url, *password;
	char schema[STORE_PG_SCHEMA_MAX + 1];
	char id[33];      /* this handle's instance id */
	int lease_ms, heartbeat_ms, connect_timeout_s, marks;
	/* the pool */
	pthread_mutex_t pmu;
	pthread_cond_t pcv;
	struct store_pg_conn pool[STORE_PG_POOL_MAX];
	int npool;
	/* claims (and takes) whose COMMIT lost its connection: taken back (put
	 * back in the queue) once the server answers again; under hmu */
	struct { int64_t id; int how; } undo[64]; /* how: STORE_PG_UNDO_* */
	int nundo;
	/* the heartbeat thread (store_pg_lease.c): its own connection */
	pthread_t hb;
	int hb_started, hb_stop;
	pthread_mutex_t hmu;
	pthread_cond_t hcv;
	PGconn *hconn;
	void (*wake)(void *);
	void *wake_arg;
	void (*swept)(int, void *); /* store_on_interrupted's */
	void *swept_arg;
};

/* Query parameters, all text but those marked binary. */
struct store_pg_params {
	const char *v[16];
	int len[16], fmt[16];
	char num[16][24];
	int n;
};

/* ---- store_pg.c: connections and helpers ---- */

/* A connection of the pool (waits for a free one), connected: a lost one
 * is reopened first. NULL with -ENOTCONN in *rc (and the message kept) when
 * the server cannot be reached. */
struct store_pg_conn *store_pg_get(struct store_pg *s, int *rc);
/* Give C back to the pool. */
void store_pg_put(struct store_pg *s, struct store_pg_conn *c);
/* Open a new connection to S's database with its search_path set. NULL
 * with the message kept on failure. */
PGconn *store_pg_connect(struct store_pg *s, int *rc);
/* Run SQL with P (may be NULL) on C. 0 with *RES (may be NULL: cleared)
 * holding the result, or a negative errno with the server's message kept:
 * -ENOTCONN when the connection is lost, -EBUSY for a serialisation
 * failure, a deadlock or a lock timeout, -ENOSPC, -ENOMEM, -EROFS, -EIO. */
int store_pg_exec(struct store_pg *s, PGconn *c, const char *sql, const struct store_pg_params *p,
    PGresult **res);
/* BEGIN, COMMIT, ROLLBACK (the last ignores failures). */
int store_pg_begin(struct store_pg *s, PGconn *c);
int store_pg_commit(struct store_pg *s, PGconn *c);
void store_pg_rollback(struct store_pg *s, PGconn *c);
/* Keep MSG as the last failure (takes s->base.mu). */
void store_pg_msg(struct store_pg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void store_pg_p_str(struct store_pg_params *p, const char *v);   /* NULL: SQL NULL */
void store_pg_p_i64(struct store_pg_params *p, int64_t v);
void store_pg_p_bin(struct store_pg_params *p, const void *v, size_t len); /* NULL V: SQL NULL */
/* A text of ours as BYTEA: its bytes as they are, valid UTF-8 or not (NULL: SQL NULL). */
#define store_pg_p_text_bytes(p, v) store_pg_p_bin((p), (v), (v) ? strlen(v) : 0)

/* Row ROW, column COL of R as int64 (0 for NULL), a BYTEA column as a
 * malloc'ed NUL-terminated string (*out NULL for NULL; 0 or -ENOMEM), a
 * text column copied into DST (CAP bytes, "" for NULL). */
int64_t store_pg_i64(const PGresult *r, int row, int col);
int store_pg_dup_bytea(const PGresult *r, int row, int col, char **out);
void store_pg_copy(const PGresult *r, int row, int col, char *dst, size_t cap);
/* The STORE_PG_JOB_COLS of R's row ROW into *J. 0 or -ENOMEM. */
int store_pg_read_job(const PGresult *r, int row, struct store_job *j);
/* The delivery of (HOOK, KEY) on C: body and headers when BODY is non-NULL,
 * its body hash when SHA is. -ENOENT when none. */
int store_pg_delivery_read(struct store_pg *s, PGconn *c, const char *hook, const char *key,
    char **body, size_t *len, char **meta, char sha[65]);

#define STORE_PG_JOB_COLS "id, hook, key, attempt, state, created_ms, started_ms," \
	" finished_ms, exit_code, signal, error, http_status, response, output_tail"

/* ---- store_pg_schema.c ---- */

/* Create S's schema when absent (unless MUST_EXIST: -ENOENT with
 * STORE_WHY_ABSENT) and bring it to this build's version, on C, under a
 * session advisory lock that serialises every instance's migration. -EPROTO
 * with STORE_WHY_NEWER when the schema is newer than this build's. */
int store_pg_schema_migrate(struct store_pg *s, PGconn *c, int must_exist, enum store_why *why);

/* ---- store_pg_lease.c: instances, the heartbeat, interrupted jobs ---- */

/* Register S's instance (a lease of s->lease_ms) on C. */
int store_pg_lease_register(struct store_pg *s, PGconn *c);
/* Mark "running" jobs whose owner holds no live lease "interrupted"
 * (finished now). *n (may be NULL) gets how many. */
int store_pg_lease_sweep(struct store_pg *s, PGconn *c, int *n);
/* Start / stop the heartbeat thread: renews the lease every
 * s->heartbeat_ms, sweeps when s->marks, takes back claims whose commit
 * was lost (s->undo), and LISTENs for queued jobs (s->wake). */
int store_pg_lease_start(struct store_pg *s);
void store_pg_lease_stop(struct store_pg *s);
/* What the heartbeat does with a noted job once the server answers again. */
enum {
	STORE_PG_UNDO_CLAIM = 0,  /* a claim whose commit may or may not have happened: taken back */
	STORE_PG_UNDO_TAKE = 1,   /* a take likewise: put back in the queue */
	STORE_PG_UNDO_FINISH = 2, /* a job whose outcome could not be written: "interrupted" */
};
/* Note JOB_ID for the heartbeat (HOW: STORE_PG_UNDO_*), so that no job of
 * this live instance stays "running" when nobody runs it. */
void store_pg_lease_undo_later(struct store_pg *s, int64_t job_id, int how);

/* ---- the operations (store.h says what each does) ---- */

/* store_pg_claim.c */
int store_pg_claim(struct store *b, const struct store_claim_req *rq, struct store_claim_res *out);
int store_pg_claim_undo(struct store *b, int64_t job_id);
int store_pg_claim_again(struct store *b, int64_t job_id, enum jobstate initial_state,
    int64_t now_ms, struct store_claim_res *out);
int store_pg_claim_finish(struct store *b, int64_t job_id, const struct store_outcome *o);
/* Take back claim JOB_ID on C (in its own transaction): as store_unclaim. */
int store_pg_claim_undo_on(struct store_pg *s, PGconn *c, int64_t job_id);
/* store_pg_queue.c */
int store_pg_queue_take(struct store *b, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta);
int store_pg_queue_requeue(struct store *b, int64_t job_id);
int store_pg_queue_count(struct store *b, int *n);
/* store_pg_approval.c */
/* Create the approval of RQ (rq->approval) for job JOB_ID of KEY, on C
 * inside the caller's claim transaction. */
int store_pg_approval_create(struct store_pg *s, PGconn *c, const struct store_claim_req *rq,
    const char *key, int64_t job_id);
int store_pg_approval_get(struct store *b, const char *id, int64_t job_id, struct store_approval *out);
int store_pg_approval_pending(struct store *b, const char *hook, int limit,
    struct store_approval **out, size_t *n);
int store_pg_approval_count(struct store *b, int *n);
int store_pg_approval_vote(struct store *b, const struct store_vote_req *v, enum store_vote_kind *kind,
    struct store_approval *out);
int store_pg_approval_expire(struct store *b, int64_t now_ms, int max, struct store_approval **out,
    size_t *n);
int store_pg_approval_message(struct store *b, const char *id, const char *channel, const char *ts);
int store_pg_approval_changed(struct store *b, int64_t since_seq, int limit,
    struct store_approval **out, size_t *n);
int store_pg_approval_max_seq(struct store *b, int64_t *seq);
int store_pg_approval_unsynced(struct store *b, int limit, struct store_approval **out, size_t *n);
int store_pg_approval_claim_sync(struct store *b, const char *id, int64_t seq, int *won);
/* store_pg_history.c */
int store_pg_history_job(struct store *b, int64_t id, struct store_job *out);
int store_pg_history_delivery(struct store *b, const char *hook, const char *key, char **body,
    size_t *len, char **meta);
int store_pg_history_list(struct store *b, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n);
int store_pg_history_attempts(struct store *b, const char *hook, const char *key,
    struct store_job **out, size_t *n);
int store_pg_history_prune(struct store *b, int64_t cutoff_ms, int *n);
#endif
