/*
 * store_sqlite.h — the SQLite store backend's own declarations, shared by
 * its files (store_sqlite*.c) and by nothing else: the handle, the
 * statements prepared at open, and the helpers every file uses.
 *
 * The backend keeps the store in one database file:
 *   deliveries(hook, key, body_sha256, body BLOB, headers TEXT (JSON object),
 *              received_ms, PRIMARY KEY(hook, key))       one per verified key
 *   jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, hook, key, attempt, state,
 *        body_sha256, created_ms, started_ms, finished_ms, exit_code,
 *        signal, error, http_status, response TEXT, output_tail TEXT,
 *        UNIQUE(hook, key, attempt))                       one per attempt
 *   jwt_ids(hook, jti, key, expires_ms, PRIMARY KEY(hook, jti))
 *   approvals(id PRIMARY KEY, job_id UNIQUE -> jobs ON DELETE CASCADE, hook,
 *             key, requester, required, allow_self, approvals, created_ms,
 *             expires_ms, state, decided_by, decided_ms, reason, channel,
 *             message_ts, seq, synced_seq)                one per approval job
 *   approval_votes(approval_id -> approvals ON DELETE CASCADE, voter,
 *             source, decision, reason, at_ms, PRIMARY KEY(approval_id, voter))
 *   approval_seq(n)                                     the change sequence
 * with forward migrations (PRAGMA user_version, store_sqlite_schema.c), WAL
 * mode, synchronous=FULL and a 5 s busy timeout. The file (and its
 * -wal/-shm, which SQLite gives the database's mode) is created 0600. The
 * claim runs in one BEGIN IMMEDIATE transaction. Foreign keys are on: every
 * job has its delivery. AUTOINCREMENT: job ids are never reused.
 *
 * Helpers are called with s->base.mu held; they keep SQLite's message in
 * s->base.err on failure (store_sqlite_fail).
 */
#ifndef STORE_SQLITE_H
#define STORE_SQLITE_H
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store_backend.h"

#define STORE_SQLITE_BUSY_TIMEOUT_MS 5000

/* The prepared statements, by purpose (texts in store_sqlite_schema.c). */
enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_LATEST,
	Q_DELIVERY_PUT,
	Q_JOB_INSERT,
	Q_FINISH,
	Q_JOB_GET,
	Q_MARK_INTERRUPTED,
	Q_PRUNE_JOBS,
	Q_PRUNE_DELIVERY,
	Q_HEALTH_READ,
	Q_JOB_KEY,
	Q_QUEUE_HEAD,
	Q_TAKE,
	Q_COUNT_QUEUED, Q_REQUEUE,
	Q_DELIVERY_GET,
	Q_LIST_ALL,
	Q_LIST_HOOK,
	Q_LIST_FAILED,
	Q_LIST_HOOK_FAILED,
	Q_ATTEMPTS,
	Q_BY_BODY,
	Q_JTI_GET,
	Q_JTI_PUT,
	Q_PRUNE_JTI,
	Q_UNCLAIM_JOB,
	Q_UNCLAIM_DELIVERY,
	Q_APPROVAL_PUT,
	Q_SEQ_NEXT,
	Q_SEQ_MAX,
	Q_APPROVAL_GET,
	Q_APPROVAL_BY_JOB,
	Q_VOTES,
	Q_PENDING_ALL,
	Q_PENDING_HOOK,
	Q_COUNT_PENDING,
	Q_VOTE_GET,
	Q_VOTE_PUT,
	Q_APPROVAL_COUNT,
	Q_APPROVAL_DECIDE,
	Q_JOB_APPROVED,
	Q_JOB_REFUSED,
	Q_EXPIRE_DUE,
	Q_SET_MESSAGE,
	Q_CHANGED,
	Q_UNSYNCED,
	Q_CLAIM_SYNC,
	Q_APPROVAL_EXISTS,
	Q_COUNT
};

struct store_sqlite;
struct store_sqlite_gop;

/* One write of a group (store_sqlite_group.c): its statements, run with
 * s->base.mu held inside the group's open transaction (never BEGIN or
 * COMMIT). 0 or a negative errno, which rolls its writes back; *KEEP (1 on
 * entry) set to 0 rolls them back too while its answer (0) stands. */
typedef int (*store_sqlite_group_fn)(struct store_sqlite *s, void *arg, int *keep);

struct store_sqlite {
	struct store base; /* first: what the front holds */
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	struct {
		pthread_mutex_t mu;               /* the queue and the leadership (not base.mu) */
		struct store_sqlite_gop *head, **tail; /* ops waiting for the next group */
		int leader;                       /* a thread is committing a group */
		int ok;                           /* mu initialised */
		uint64_t commits, ops;            /* groups committed, ops in them (under base.mu) */
		int largest;                      /* most ops in one committed group */
	} group;
};

/* ---- store_sqlite.c: the connection and the helpers ---- */

/* Keep SQLite's message for RC (before a rollback overwrites it) and map it
 * to a negative errno. */
int store_sqlite_fail(struct store_sqlite *s, int rc);
/* Statement I, reset and unbound, ready to bind. */
sqlite3_stmt *store_sqlite_stmt(struct store_sqlite *s, int i);
/* Reset and unbind ST (NULL: nothing). */
void store_sqlite_done(sqlite3_stmt *st);
/* Step ST to completion (no rows wanted). 0 or store_sqlite_fail's. */
int store_sqlite_run(struct store_sqlite *s, sqlite3_stmt *st);
/* BEGIN IMMEDIATE (the write lock, within the busy timeout), COMMIT, and a
 * ROLLBACK of whatever transaction is open (none: nothing). */
int store_sqlite_begin(struct store_sqlite *s);
int store_sqlite_commit(struct store_sqlite *s);
void store_sqlite_rollback(struct store_sqlite *s);
/* Column COL of ST's row as a malloc'ed string into *OUT (NULL for NULL).
 * 0 or -ENOMEM. */
int store_sqlite_dup_column(sqlite3_stmt *st, int col, char **out);
/* Column COL of ST's row into DST (CAP bytes, truncated, "" for NULL). */
void store_sqlite_copy_column(sqlite3_stmt *st, int col, char *dst, size_t cap);
/* The STORE_SQLITE_JOB_COLS of ST's current row into *J (J's strings
 * malloc'ed). 0 or -ENOMEM. */
int store_sqlite_read_job(sqlite3_stmt *st, struct store_job *j);
/* The delivery of (HOOK, KEY): its body (NUL-terminated) and headers when
 * BODY/META are non-NULL, its body hash when SHA is. -ENOENT when none. */
int store_sqlite_delivery_read(struct store_sqlite *s, const char *hook, const char *key,
    char **body, size_t *len, char **meta, char sha[65]);

/* ---- store_sqlite_group.c: group commit ---- */

/* Set up and tear down S's group (its mutex). 0 or -ENOMEM. */
int store_sqlite_group_init(struct store_sqlite *s);
void store_sqlite_group_fini(struct store_sqlite *s);
/* Run FN(S, ARG, &keep) in the next group and return once that group's
 * COMMIT returned: FN's own answer (0 or its errno) when the group
 * committed, else the error that failed the group (then nothing FN wrote
 * was kept, whatever it answered). Called WITHOUT s->base.mu held. */
int store_sqlite_group_run(struct store_sqlite *s, store_sqlite_group_fn fn, void *arg);
/* Groups committed on B, the ops they held, and the most in one group
 * (for tests and the benchmark). */
void store_sqlite_group_stats(struct store *b, uint64_t *commits, uint64_t *ops, int *largest);

/* ---- store_sqlite_schema.c: the schema and the statements' SQL ---- */

/* The columns store_sqlite_read_job reads, in its order. */
#define STORE_SQLITE_JOB_COLS "id, hook, key, attempt, state, created_ms, started_ms," \
	" finished_ms, exit_code, signal, error, http_status, response, output_tail"
/* The columns store_sqlite_approval_read reads, in its order. */
#define STORE_SQLITE_APPROVAL_COLS "id, job_id, hook, key, requester, required, allow_self," \
	" approvals, created_ms, expires_ms, state, decided_by, decided_ms, reason, channel," \
	" message_ts, seq, synced_seq"
extern const char *const store_sqlite_schema_sql[Q_COUNT];
/* Bring the file's schema to this build's version, in one transaction under
 * the write lock (so one process migrates and the others see it done). The
 * statements Q_BEGIN..Q_ROLLBACK must be prepared. -EPROTO when the file's
 * version is newer than this build's. */
int store_sqlite_schema_migrate(struct store_sqlite *s);

/* ---- the operations (store.h says what each does) ---- */

/* store_sqlite_claim.c */
int store_sqlite_claim(struct store *b, const struct store_claim_req *rq, struct store_claim_res *out);
int store_sqlite_claim_undo(struct store *b, int64_t job_id);
int store_sqlite_claim_again(struct store *b, int64_t job_id, enum jobstate initial_state,
    int64_t now_ms, struct store_claim_res *out);
int store_sqlite_claim_finish(struct store *b, int64_t job_id, const struct store_outcome *o);
/* store_sqlite_queue.c */
int store_sqlite_queue_take(struct store *b, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta);
int store_sqlite_queue_requeue(struct store *b, int64_t job_id);
int store_sqlite_queue_count(struct store *b, int *n);
/* store_sqlite_history.c */
int store_sqlite_history_job(struct store *b, int64_t id, struct store_job *out);
int store_sqlite_history_delivery(struct store *b, const char *hook, const char *key, char **body,
    size_t *len, char **meta);
int store_sqlite_history_list(struct store *b, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n);
int store_sqlite_history_attempts(struct store *b, const char *hook, const char *key,
    struct store_job **out, size_t *n);
int store_sqlite_history_prune(struct store *b, int64_t cutoff_ms, int *n);
/* store_sqlite_approval.c */
/* Inside the claim's transaction: the approval RQ of job JOB_ID. */
int store_sqlite_approval_create(struct store_sqlite *s, const struct store_claim_req *rq, int64_t job_id);
int store_sqlite_approval_get(struct store *b, const char *id, int64_t job_id, struct store_approval *out);
int store_sqlite_approval_pending(struct store *b, const char *hook, int limit,
    struct store_approval **out, size_t *n);
int store_sqlite_approval_count(struct store *b, int *n);
int store_sqlite_approval_vote(struct store *b, const struct store_vote_req *v, enum store_vote_kind *kind,
    struct store_approval *out);
int store_sqlite_approval_expire(struct store *b, int64_t now_ms, int max, struct store_approval **out,
    size_t *n);
int store_sqlite_approval_message(struct store *b, const char *id, const char *channel, const char *ts);
int store_sqlite_approval_changed(struct store *b, int64_t since_seq, int limit,
    struct store_approval **out, size_t *n);
int store_sqlite_approval_max_seq(struct store *b, int64_t *seq);
int store_sqlite_approval_unsynced(struct store *b, int limit, struct store_approval **out, size_t *n);
int store_sqlite_approval_claim_sync(struct store *b, const char *id, int64_t seq, int *won);
#endif
