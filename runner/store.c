/*
 * store.c — the embedded SQLite store (contract in store.h). Owns the
 * database file and its connection, the schema and its forward migrations
 * (PRAGMA user_version), the idempotency claim, outcomes, pruning and the
 * health probe. Nothing here logs; the last failure is kept for store_errmsg.
 *
 * How:
 *  - One connection per store, every use under s->mu, so a claim's
 *    transaction is never interleaved with another thread's statements.
 *    Other processes (a CLI) coordinate through SQLite's file locks: WAL lets
 *    readers run beside the writer, the busy timeout makes writers wait.
 *  - synchronous=FULL: we promise no lost events, and a claim or an outcome
 *    is answered to Hookdeck right after its commit, so the commit must
 *    survive power loss too, not only a crash of this process (which
 *    WAL+NORMAL would already survive). The cost is one WAL fsync per
 *    transaction (two per job), small next to an SSH job.
 *  - Statements are prepared once at open, values always bound. The claim's
 *    lookup of the latest attempt uses the UNIQUE(hook, key, attempt) index
 *    backwards: O(log n).
 *  - Migrations: migrations[v] takes the schema from version v to v+1 and
 *    ends by setting user_version; store_open applies the missing ones in
 *    one transaction. Version 2 replaced the one partial index of
 *    unfinished jobs by one per state, because SQLite uses a partial index
 *    only when the query repeats its WHERE term: "state = 'queued'" cannot
 *    use an index "WHERE state IN ('queued', 'running')". It also added the
 *    indexes of the history listing, so every list is read newest first
 *    straight off an index (no sort, LIMIT stops the scan).
 *  - The queue is the jobs table itself: a queued job is a row in state
 *    "queued"; taking one is a BEGIN IMMEDIATE transaction that reads the
 *    lowest queued id and flips it to "running", so two takers (threads or
 *    processes) serialise on the write lock and never get the same job.
 */
#include "store.h"
#include "../common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
/* Header names (lower case) that carry a signature: never kept. */
#define STORE_SIGNATURE_HEADERS "('x-hookdeck-signature', 'x-hookdeck-signature-2'," \
	" 'x-hub-signature-256', 'x-hub-signature', 'webhook-signature'," \
	" 'authorization', 'proxy-authorization', 'cookie')"
#define PRUNE_BATCH 1000

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE deliveries ("
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  body_sha256 TEXT NOT NULL,"
	"  body BLOB,"
	"  headers TEXT,"
	"  received_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (hook, key));"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL CHECK (attempt >= 1),"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded',"
	"    'failed', 'timeout', 'interrupted')),"
	"  body_sha256 TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  started_ms INTEGER,"
	"  finished_ms INTEGER,"
	"  exit_code INTEGER,"
	"  signal TEXT,"
	"  error TEXT,"
	"  http_status INTEGER,"
	"  response TEXT,"
	"  output_tail TEXT,"
	"  UNIQUE (hook, key, attempt),"
	"  FOREIGN KEY (hook, key) REFERENCES deliveries (hook, key));"
	/* prune: range over finished_ms */
	"CREATE INDEX jobs_finished ON jobs (finished_ms);"
	/* start-up: find the few unfinished rows without a scan */
	"CREATE INDEX jobs_active ON jobs (state) WHERE state IN ('queued', 'running');"
	"PRAGMA user_version = 1;",
	/* 1 -> 2: the async queue and the history listing */
	"DROP INDEX jobs_active;"
	/* store_take_queued / store_count_queued: (state, rowid), oldest first */
	"CREATE INDEX jobs_queued ON jobs (state) WHERE state = 'queued';"
	/* start-up marks only running jobs interrupted */
	"CREATE INDEX jobs_running ON jobs (state) WHERE state = 'running';"
	/* store_list by hook, newest first */
	"CREATE INDEX jobs_hook ON jobs (hook, id);"
	/* store_list of failed jobs, newest first */
	"CREATE INDEX jobs_failed ON jobs (id) WHERE state IN ('failed', 'timeout', 'interrupted');"
	"PRAGMA user_version = 2;",
	/* 2 -> 3: replays of captured deliveries. A body a hook already has is
	 * found by its hash; single-use JWT ids are remembered until they
	 * expire; signature headers, a ready-made replay kit, leave the stored
	 * headers. */
	"CREATE INDEX deliveries_body ON deliveries (hook, body_sha256);"
	"CREATE TABLE jwt_ids ("
	"  hook TEXT NOT NULL,"
	"  jti TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (hook, jti));"
	"CREATE INDEX jwt_ids_expiry ON jwt_ids (expires_ms);"
	"UPDATE deliveries SET headers = json_set(headers, '$.headers', json((SELECT"
	"  json_group_object(key, value) FROM json_each(deliveries.headers, '$.headers')"
	"  WHERE lower(key) NOT IN " STORE_SIGNATURE_HEADERS ")))"
	"  WHERE json_valid(headers) AND json_type(headers, '$.headers') = 'object';"
	"PRAGMA user_version = 3;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
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
	Q_COUNT
};

/* The columns read_job() reads, in its order. */
#define JOB_COLS "id, hook, key, attempt, state, created_ms, started_ms, finished_ms," \
	" exit_code, signal, error, http_status, response, output_tail"
#define FAILED_STATES "state IN ('failed', 'timeout', 'interrupted')"

static const char *const sql_text[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_LATEST] = "SELECT id, attempt, state, body_sha256, http_status, response FROM jobs"
		" WHERE hook = ?1 AND key = ?2 ORDER BY attempt DESC LIMIT 1",
	[Q_DELIVERY_PUT] = "INSERT INTO deliveries (hook, key, body_sha256, body, headers, received_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hook, key) DO UPDATE SET"
		" body_sha256 = excluded.body_sha256, body = excluded.body,"
		" headers = excluded.headers, received_ms = excluded.received_ms",
	[Q_JOB_INSERT] = "INSERT INTO jobs (hook, key, attempt, state, body_sha256, created_ms, started_ms)"
		" VALUES (?1, ?2, ?3, ?6, ?4, ?5, CASE WHEN ?6 = 'running' THEN ?5 END)",
	[Q_FINISH] = "UPDATE jobs SET state = ?2, started_ms = ?3, finished_ms = ?4, exit_code = ?5,"
		" signal = ?6, error = ?7, http_status = ?8, response = ?9, output_tail = ?10"
		" WHERE id = ?1",
	[Q_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
	[Q_MARK_INTERRUPTED] = "UPDATE jobs SET state = 'interrupted', finished_ms = ?1"
		" WHERE state = 'running'",
	[Q_PRUNE_JOBS] = "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_ms < ?1"
		" AND state NOT IN ('queued', 'running') ORDER BY finished_ms LIMIT ?2)"
		" RETURNING hook, key",
	[Q_PRUNE_DELIVERY] = "DELETE FROM deliveries WHERE hook = ?1 AND key = ?2"
		" AND NOT EXISTS (SELECT 1 FROM jobs WHERE hook = ?1 AND key = ?2)",
	[Q_HEALTH_READ] = "SELECT max(id) FROM jobs",
	[Q_JOB_KEY] = "SELECT hook, key FROM jobs WHERE id = ?1",
	[Q_QUEUE_HEAD] = "SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1",
	[Q_TAKE] = "UPDATE jobs SET state = 'running', started_ms = ?2 WHERE id = ?1 AND state = 'queued'",
	[Q_COUNT_QUEUED] = "SELECT count(*) FROM jobs WHERE state = 'queued'",
	[Q_REQUEUE] = "UPDATE jobs SET state = 'queued', started_ms = NULL WHERE id = ?1 AND state = 'running'",
	[Q_DELIVERY_GET] = "SELECT body, headers, body_sha256 FROM deliveries WHERE hook = ?1 AND key = ?2",
	[Q_LIST_ALL] = "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?2",
	[Q_LIST_HOOK] = "SELECT " JOB_COLS " FROM jobs WHERE hook = ?1 ORDER BY id DESC LIMIT ?2",
	[Q_LIST_FAILED] = "SELECT " JOB_COLS " FROM jobs WHERE " FAILED_STATES
		" ORDER BY id DESC LIMIT ?2",
	[Q_LIST_HOOK_FAILED] = "SELECT " JOB_COLS " FROM jobs WHERE hook = ?1 AND " FAILED_STATES
		" ORDER BY id DESC LIMIT ?2",
	[Q_ATTEMPTS] = "SELECT " JOB_COLS " FROM jobs WHERE hook = ?1 AND key = ?2"
		" ORDER BY attempt LIMIT 10000",
	[Q_BY_BODY] = "SELECT key FROM deliveries WHERE hook = ?1 AND body_sha256 = ?2"
		" ORDER BY received_ms DESC LIMIT 1",
	[Q_JTI_GET] = "SELECT key, expires_ms FROM jwt_ids WHERE hook = ?1 AND jti = ?2",
	[Q_JTI_PUT] = "INSERT INTO jwt_ids (hook, jti, key, expires_ms) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (hook, jti) DO UPDATE SET key = excluded.key,"
		" expires_ms = max(expires_ms, excluded.expires_ms)",
	[Q_PRUNE_JTI] = "DELETE FROM jwt_ids WHERE expires_ms < ?1",
	[Q_UNCLAIM_JOB] = "DELETE FROM jobs WHERE id = ?1 AND state IN ('running', 'queued')"
		" RETURNING hook, key, attempt",
	[Q_UNCLAIM_DELIVERY] = "DELETE FROM deliveries WHERE hook = ?1 AND key = ?2"
		" AND NOT EXISTS (SELECT 1 FROM jobs WHERE hook = ?1 AND key = ?2)",
};

struct store {
	pthread_mutex_t mu;
	int mu_ok;
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	char err[256];
};

/* ---- errors ---------------------------------------------------------- */

static void set_msg(struct store *s, const char *msg)
{
	snprintf(s->err, sizeof s->err, "%s", msg);
}

static int map_rc(struct store *s, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN: {
		int e = s->db ? sqlite3_system_errno(s->db) : 0;
		return e > 0 ? -e : -EIO;
	}
	default:
		return -EIO;
	}
}

/* Keep SQLite's message for RC (before a rollback overwrites it) and map it. */
static int fail(struct store *s, int rc)
{
	const char *m = s->db ? sqlite3_errmsg(s->db) : NULL, *e = sqlite3_errstr(rc);

	if (m && strcmp(m, e))
		snprintf(s->err, sizeof s->err, "%s (%s)", m, e);
	else
		snprintf(s->err, sizeof s->err, "%s", e);
	return map_rc(s, rc);
}

/* ---- statements ------------------------------------------------------ */

static sqlite3_stmt *q(struct store *s, int i)
{
	sqlite3_stmt *st = s->q[i];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void q_done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Step ST to completion (no rows wanted). */
static int run(struct store *s, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	rc = rc == SQLITE_DONE ? 0 : fail(s, rc);
	sqlite3_reset(st);
	return rc;
}

static int begin(struct store *s)
{
	return run(s, q(s, Q_BEGIN));
}

static int commit(struct store *s)
{
	return run(s, q(s, Q_COMMIT));
}

/* Roll back whatever transaction is open; SQLite may already have done it
 * (it does on some errors), hence the autocommit test. */
static void rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(q(s, Q_ROLLBACK));
		sqlite3_reset(s->q[Q_ROLLBACK]);
	}
}

/* Run a constant SQL script (several statements, no values) at open time. */
static int exec_script(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	const char *tail = sql;
	int rc = 0;

	while (tail && *tail) {
		int r = sqlite3_prepare_v2(s->db, tail, -1, &st, &tail);
		if (r != SQLITE_OK) {
			rc = fail(s, r);
			goto out;
		}
		if (!st) /* whitespace or comment only */
			break;
		rc = run(s, st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc)
			goto out;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* One PRAGMA whose single text result must be WANT (NULL: any). */
static int pragma(struct store *s, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		rc = fail(s, rc);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = fail(s, rc);
		goto out;
	}
	if (want) {
		const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (!got || strcasecmp(got, want)) {
			snprintf(s->err, sizeof s->err, "%s: got %s, want %s", sql, got ? got : "nothing",
			    want);
			rc = -EIO;
			goto out;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- open / migrate -------------------------------------------------- */

/* PRAGMA journal_mode = WAL. Switching a new file to WAL needs an exclusive
 * lock, and SQLite answers "database is locked" at once, without its busy
 * handler, while another connection opens the same file: two instances
 * starting together on a new store. Retried for the busy timeout. */
static int wal_mode(struct store *s)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = pragma(s, "PRAGMA journal_mode = WAL", "wal");
		if (rc != -EBUSY || tries >= BUSY_TIMEOUT_MS / 10)
			return rc;
		nanosleep(&pause, NULL);
	}
}

/* Create the file 0600 ourselves: SQLite would use 0644 & ~umask, and gives
 * the -wal and -shm files the database's mode. Refuses non-regular files
 * (O_NONBLOCK: a FIFO must not hang us). An existing file keeps its mode. */
static int precreate(const char *path)
{
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	close(fd);
	return rc;
}

/* Prepare the statements FROM..TO-1, once for the store's lifetime. */
static int prepare(struct store *s, int from, int to)
{
	int i, rc;

	for (i = from; i < to; i++) {
		rc = sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
		if (rc != SQLITE_OK)
			return fail(s, rc);
	}
	return 0;
}

static int migrate(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc, v;

	rc = begin(s); /* under the write lock: one process migrates, the others see it done */
	if (rc)
		goto out;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (v < 0 || v > SCHEMA_VERSION) {
		snprintf(s->err, sizeof s->err, "schema version %d is newer than this build's %d", v,
		    SCHEMA_VERSION);
		rc = -EPROTO;
		goto out;
	}
	for (; v < SCHEMA_VERSION; v++) {
		rc = exec_script(s, migrations[v]);
		if (rc)
			goto out;
	}
	rc = commit(s);
out:
	sqlite3_finalize(st);
	if (rc)
		rollback(s);
	return rc;
}

static int mark_interrupted(struct store *s, int *n)
{
	sqlite3_stmt *st = q(s, Q_MARK_INTERRUPTED);
	int rc;

	sqlite3_bind_int64(st, 1, clock_wall_ms());
	rc = run(s, st); /* one statement: atomic on its own */
	if (!rc && n)
		*n = sqlite3_changes(s->db);
	q_done(st);
	return rc;
}

int store_open(const char *path, int mark_interrupted_jobs, int *n_interrupted, struct store **out)
{
	struct store *s = NULL;
	int rc;

	if (n_interrupted)
		*n_interrupted = 0;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path || !*path)
		return -EINVAL;
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->mu, NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	s->mu_ok = 1;
	rc = precreate(path);
	if (rc)
		goto out;
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
	    NULL);
	if (rc != SQLITE_OK) {
		rc = s->db ? fail(s, rc) : -ENOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* hardening: no schema-borne functions, no writable_schema tricks */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	if (sqlite3_db_readonly(s->db, "main") != 0) {
		set_msg(s, "database opened read-only");
		rc = -EROFS;
		goto out;
	}
	rc = wal_mode(s);
	if (!rc)
		rc = pragma(s, "PRAGMA synchronous = FULL", NULL);
	if (!rc)
		rc = pragma(s, "PRAGMA foreign_keys = ON", NULL);
	if (!rc)
		rc = pragma(s, "PRAGMA journal_size_limit = 16777216", NULL); /* WAL kept after a checkpoint */
	if (rc)
		goto out;
	rc = prepare(s, 0, Q_LATEST); /* transaction control, needed by migrate */
	if (!rc)
		rc = migrate(s);
	if (!rc)
		rc = prepare(s, Q_LATEST, Q_COUNT); /* these need the tables */
	if (rc)
		goto out;
	if (mark_interrupted_jobs) {
		rc = mark_interrupted(s, n_interrupted);
		if (rc)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_close(s->db); /* checkpoints and removes the WAL when last */
	if (s->mu_ok)
		pthread_mutex_destroy(&s->mu);
	free(s);
}

const char *store_errmsg(struct store *s)
{
	return s ? s->err : "no store";
}

/* ---- claim ----------------------------------------------------------- */

static int is_sha256_hex(const char *h)
{
	size_t i;

	if (!h)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return h[64] == 0;
}

static int valid_name(const char *p, size_t cap)
{
	return p && *p && strnlen(p, cap) < cap;
}

static int dup_column(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *p;

	*out = NULL;
	if (!t)
		return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : -ENOMEM;
	p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, t, n);
	p[n] = 0;
	*out = p;
	return 0;
}

static void copy_column(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = 0;
}

static int valid_initial_state(const char *state)
{
	return state && (!strcmp(state, "running") || !strcmp(state, "queued"));
}

/* Insert attempt ATTEMPT of (HOOK, KEY) in STATE ("running": started now). */
static int put_job(struct store *s, const char *hook, const char *key, const char *sha,
    int64_t now_ms, int attempt, const char *state, int64_t *job_id)
{
	sqlite3_stmt *st = q(s, Q_JOB_INSERT);
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, attempt);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_text(st, 6, state, -1, SQLITE_STATIC);
	rc = run(s, st);
	q_done(st);
	if (!rc)
		*job_id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* Insert delivery (or refresh it for a retry) and the attempt. */
static int put_attempt(struct store *s, const char *hook, const char *key, const char *sha,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms, int attempt,
    const char *state, int64_t *job_id)
{
	sqlite3_stmt *st = q(s, Q_DELIVERY_PUT);
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 4, body ? (const void *)body : "", len, SQLITE_STATIC);
	if (headers_json)
		sqlite3_bind_text(st, 5, headers_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	rc = run(s, st);
	q_done(st);
	if (rc)
		return rc;
	return put_job(s, hook, key, sha, now_ms, attempt, state, job_id);
}

int store_claim(struct store *s, const char *hook, const char *key, const char *body_sha256_hex,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms,
    struct store_claim_res *out)
{
	return store_claim_state(s, hook, key, body_sha256_hex, body, len, headers_json, now_ms,
	    "running", out);
}

int store_claim_state(struct store *s, const char *hook, const char *key, const char *body_sha256_hex,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms,
    const char *initial_state, struct store_claim_res *out)
{
	struct store_claim_req rq = {
		.hook = hook, .key = key, .body_sha256 = body_sha256_hex, .body = body, .len = len,
		.headers_json = headers_json, .now_ms = now_ms, .initial_state = initial_state,
	};

	return store_claim_req(s, &rq, out);
}

/* The key of the delivery of HOOK whose body hashes to SHA (the latest, if
 * several), into KEY. 0, -ENOENT when none, or an SQLite failure. */
static int key_by_body(struct store *s, const char *hook, const char *sha, char *key, size_t cap)
{
	sqlite3_stmt *st = q(s, Q_BY_BODY);
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_column(st, 0, key, cap);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : fail(s, rc);
	}
	q_done(st);
	return rc;
}

/* Single-use JWT ids: 1 when JTI was already used on HOOK for another
 * delivery than KEY and has not expired at NOW_MS; otherwise it is recorded
 * for KEY until UNTIL_MS and 0 is returned. Negative on failure. */
static int jti_check(struct store *s, const char *hook, const char *jti, const char *key,
    int64_t now_ms, int64_t until_ms)
{
	sqlite3_stmt *st = q(s, Q_JTI_GET);
	char used_by[sizeof ((struct store_job *)0)->key];
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_column(st, 0, used_by, sizeof used_by);
		if (strcmp(used_by, key) != 0 && sqlite3_column_int64(st, 1) >= now_ms) {
			q_done(st);
			return 1;
		}
	} else if (rc != SQLITE_DONE) {
		rc = fail(s, rc);
		q_done(st);
		return rc;
	}
	q_done(st);
	st = q(s, Q_JTI_PUT);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, until_ms);
	rc = run(s, st);
	q_done(st);
	return rc;
}

static int valid_req(const struct store_claim_req *rq)
{
	return rq && valid_name(rq->hook, sizeof ((struct store_job *)0)->hook) &&
	    valid_name(rq->key, sizeof ((struct store_job *)0)->key) &&
	    is_sha256_hex(rq->body_sha256) && (rq->body || !rq->len) &&
	    valid_initial_state(rq->initial_state) && rq->max_queued >= 0 &&
	    (!rq->jti || valid_name(rq->jti, STORE_JTI_MAX + 1));
}

int store_claim_req(struct store *s, const struct store_claim_req *rq, struct store_claim_res *out)
{
	struct store_claim_res r = { 0 };
	sqlite3_stmt *st = NULL;
	const char *state, *sha, *hook, *key;
	int rc, locked = 0, write = 0;

	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out || !valid_req(rq)) {
		if (s) {
			pthread_mutex_lock(&s->mu);
			set_msg(s, "store_claim: invalid argument");
			pthread_mutex_unlock(&s->mu);
		}
		return -EINVAL;
	}
	hook = rq->hook;
	snprintf(r.key, sizeof r.key, "%s", rq->key);
	key = r.key;
	pthread_mutex_lock(&s->mu);
	locked = 1;
	rc = begin(s);
	if (rc)
		goto out;
	st = q(s, Q_LATEST);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE && rq->by_body) {
		/* A new key: is it a body this hook already has, under another key? */
		q_done(st);
		st = NULL;
		rc = key_by_body(s, hook, rq->body_sha256, r.key, sizeof r.key);
		if (rc && rc != -ENOENT)
			goto out;
		if (rc == 0) {
			r.by_body = 1;
			st = q(s, Q_LATEST);
			sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			if (rc == SQLITE_DONE) { /* a delivery without a job: foreign keys forbid it */
				set_msg(s, "store_claim: a delivery has no job");
				rc = -EIO;
				goto out;
			}
		} else {
			rc = SQLITE_DONE;
		}
	}
	if (rc == SQLITE_DONE) {
		r.kind = STORE_NEW;
		r.attempt = 1;
	} else if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	} else {
		r.job_id = sqlite3_column_int64(st, 0);
		r.attempt = sqlite3_column_int(st, 1);
		state = (const char *)sqlite3_column_text(st, 2);
		sha = (const char *)sqlite3_column_text(st, 3);
		if (!state || !sha) {
			rc = sqlite3_errcode(s->db) == SQLITE_NOMEM ? -ENOMEM : -EIO;
			set_msg(s, "store_claim: job row without state or body hash");
			goto out;
		}
		if (strcmp(sha, rq->body_sha256)) {
			r.kind = STORE_MISMATCH;
		} else if (!strcmp(state, "queued") || !strcmp(state, "running")) {
			r.kind = STORE_BUSY;
		} else if (!strcmp(state, "succeeded")) {
			r.kind = STORE_REPLAY;
			r.http_status = sqlite3_column_int(st, 4);
			rc = dup_column(st, 5, &r.response);
			if (!rc && !r.response && !(r.response = strdup("")))
				rc = -ENOMEM;
			if (rc) {
				set_msg(s, "store_claim: out of memory");
				goto out;
			}
		} else if (!strcmp(state, "failed") || !strcmp(state, "timeout") ||
		    !strcmp(state, "interrupted")) {
			r.kind = STORE_RETRY;
			r.attempt++;
		} else {
			snprintf(s->err, sizeof s->err, "store_claim: unknown job state \"%.32s\"", state);
			rc = -EIO;
			goto out;
		}
	}
	q_done(st);
	st = NULL;
	if (r.kind == STORE_MISMATCH)
		goto done; /* nothing written, not even the token's id */
	if (rq->jti) {
		rc = jti_check(s, hook, rq->jti, key, rq->now_ms, rq->jti_until_ms);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			r.kind = STORE_JTI_REUSED;
			free(r.response);
			r.response = NULL;
			rc = 0;
			goto done;
		}
		write = 1;
	}
	if (r.kind == STORE_NEW || r.kind == STORE_RETRY) {
		if (rq->max_queued && !strcmp(rq->initial_state, "queued")) {
			int n = 0;
			st = q(s, Q_COUNT_QUEUED);
			rc = sqlite3_step(st);
			if (rc != SQLITE_ROW) {
				rc = fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
				goto out;
			}
			n = sqlite3_column_int(st, 0);
			q_done(st);
			st = NULL;
			if (n >= rq->max_queued) {
				r.kind = STORE_FULL;
				write = 0; /* a refused delivery leaves no trace, its token id neither */
				goto done;
			}
		}
		rc = put_attempt(s, hook, key, rq->body_sha256, rq->body, rq->len, rq->headers_json,
		    rq->now_ms, r.attempt, rq->initial_state, &r.job_id);
		if (rc)
			goto out;
		write = 1;
	}
done:
	if (write) {
		rc = commit(s);
		if (rc)
			goto out;
	} else {
		rollback(s); /* nothing was written: just end the transaction */
	}
	rc = 0;
	*out = r;
	r.response = NULL;
out:
	q_done(st);
	if (locked) {
		if (rc)
			rollback(s);
		pthread_mutex_unlock(&s->mu);
	}
	free(r.response);
	return rc;
}

int store_unclaim(struct store *s, int64_t job_id)
{
	sqlite3_stmt *st = NULL, *del;
	char hook[sizeof ((struct store_job *)0)->hook], key[sizeof ((struct store_job *)0)->key];
	int rc;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	rc = begin(s);
	if (rc)
		goto out;
	st = q(s, Q_UNCLAIM_JOB);
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		set_msg(s, "store_unclaim: no such unfinished job");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	copy_column(st, 0, hook, sizeof hook);
	copy_column(st, 1, key, sizeof key);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		rc = fail(s, rc);
		goto out;
	}
	q_done(st);
	st = NULL;
	del = q(s, Q_UNCLAIM_DELIVERY); /* only when no other attempt is left */
	sqlite3_bind_text(del, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(del, 2, key, -1, SQLITE_STATIC);
	rc = run(s, del);
	q_done(del);
	if (!rc)
		rc = commit(s);
out:
	q_done(st);
	if (rc)
		rollback(s);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void store_claim_res_clear(struct store_claim_res *r)
{
	if (!r)
		return;
	free(r->response);
	r->response = NULL;
}

/* ---- outcome, lookup ------------------------------------------------- */

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int store_finish(struct store *s, int64_t job_id, const struct store_outcome *o)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	if (!o || !o->state || (strcmp(o->state, "succeeded") && strcmp(o->state, "failed") &&
	    strcmp(o->state, "timeout") && strcmp(o->state, "interrupted")) ||
	    (o->signal && strlen(o->signal) >= sizeof ((struct store_job *)0)->signal) ||
	    (o->error && strlen(o->error) >= sizeof ((struct store_job *)0)->error)) {
		set_msg(s, "store_finish: invalid argument");
		rc = -EINVAL;
		goto out;
	}
	st = q(s, Q_FINISH);
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, o->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, o->started_ms);
	sqlite3_bind_int64(st, 4, o->finished_ms);
	if (o->exit_code >= 0)
		sqlite3_bind_int(st, 5, o->exit_code);
	bind_opt_text(st, 6, o->signal);
	bind_opt_text(st, 7, o->error);
	sqlite3_bind_int(st, 8, o->http_status);
	bind_opt_text(st, 9, o->response);
	bind_opt_text(st, 10, o->output_tail);
	rc = run(s, st); /* one statement: atomic on its own */
	if (rc)
		goto out;
	if (sqlite3_changes(s->db) == 0) {
		set_msg(s, "store_finish: no such job");
		rc = -ENOENT;
	}
out:
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* The JOB_COLS of ST's current row into *J (J's strings malloc'ed). */
static int read_job(sqlite3_stmt *st, struct store_job *j)
{
	int rc;

	memset(j, 0, sizeof *j);
	j->id = sqlite3_column_int64(st, 0);
	copy_column(st, 1, j->hook, sizeof j->hook);
	copy_column(st, 2, j->key, sizeof j->key);
	j->attempt = sqlite3_column_int(st, 3);
	copy_column(st, 4, j->state, sizeof j->state);
	j->created_ms = sqlite3_column_int64(st, 5);
	j->started_ms = sqlite3_column_int64(st, 6);  /* NULL reads as 0 */
	j->finished_ms = sqlite3_column_int64(st, 7);
	j->exit_code = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
	copy_column(st, 9, j->signal, sizeof j->signal);
	copy_column(st, 10, j->error, sizeof j->error);
	j->http_status = sqlite3_column_int(st, 11);
	rc = dup_column(st, 12, &j->response);
	if (!rc)
		rc = dup_column(st, 13, &j->output_tail);
	if (rc)
		store_job_clear(j);
	return rc;
}

int store_job_get(struct store *s, int64_t id, struct store_job *out)
{
	struct store_job j;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(&j, 0, sizeof j);
	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	st = q(s, Q_JOB_GET);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		set_msg(s, "store_job_get: no such job");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	rc = read_job(st, &j);
	if (rc) {
		set_msg(s, "store_job_get: out of memory");
		goto out;
	}
	*out = j;
	memset(&j, 0, sizeof j);
out:
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	store_job_clear(&j);
	return rc;
}

void store_job_clear(struct store_job *j)
{
	if (!j)
		return;
	free(j->response);
	free(j->output_tail);
	j->response = j->output_tail = NULL;
}

/* ---- queue, replay, history ------------------------------------------ */

/* The delivery of (HOOK, KEY), under s->mu: its body (NUL-terminated) and
 * headers when BODY/META are non-NULL, its body hash when SHA is. -ENOENT
 * when none. */
static int delivery_read(struct store *s, const char *hook, const char *key, char **body,
    size_t *len, char **meta, char sha[65])
{
	sqlite3_stmt *st = q(s, Q_DELIVERY_GET);
	const void *b;
	char *p = NULL, *m = NULL;
	size_t n;
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		set_msg(s, "no such delivery (pruned?)");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	rc = 0;
	if (sha)
		copy_column(st, 2, sha, 65);
	if (body) {
		b = sqlite3_column_blob(st, 0); /* NULL for an empty blob */
		n = (size_t)sqlite3_column_bytes(st, 0);
		if ((!b && n) || !(p = malloc(n + 1)) || dup_column(st, 1, &m)) {
			set_msg(s, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		if (n)
			memcpy(p, b, n);
		p[n] = 0;
		*body = p;
		*len = n;
		*meta = m;
		p = m = NULL;
	}
out:
	q_done(st);
	free(p);
	free(m);
	return rc;
}

int store_take_queued(struct store *s, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta)
{
	struct store_job j;
	sqlite3_stmt *st = NULL;
	char *b = NULL, *m = NULL;
	size_t n = 0;
	int64_t id;
	int rc;

	memset(&j, 0, sizeof j);
	if (job)
		memset(job, 0, sizeof *job);
	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	if (meta)
		*meta = NULL;
	if (!s || !job || !body || !len || !meta)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	rc = begin(s); /* the write lock first: another taker waits for our commit */
	if (rc)
		goto out;
	st = q(s, Q_QUEUE_HEAD);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		set_msg(s, "store_take_queued: the queue is empty");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	id = sqlite3_column_int64(st, 0);
	q_done(st);
	st = q(s, Q_TAKE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = run(s, st);
	if (rc)
		goto out;
	if (sqlite3_changes(s->db) != 1) {
		set_msg(s, "store_take_queued: the queued job changed under the write lock");
		rc = -EIO;
		goto out;
	}
	q_done(st);
	st = q(s, Q_JOB_GET);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
		goto out;
	}
	if ((rc = read_job(st, &j))) {
		set_msg(s, "store_take_queued: out of memory");
		goto out;
	}
	q_done(st);
	st = NULL;
	rc = delivery_read(s, j.hook, j.key, &b, &n, &m, NULL);
	if (rc == -ENOENT) { /* foreign keys make this impossible; never hand out a bodiless job */
		snprintf(s->err, sizeof s->err, "store_take_queued: job %lld has no delivery",
		    (long long)id);
		rc = -EIO;
	}
	if (rc)
		goto out;
	rc = commit(s);
	if (rc)
		goto out;
	*job = j;
	memset(&j, 0, sizeof j);
	*body = b;
	*len = n;
	*meta = m;
	b = m = NULL;
out:
	q_done(st);
	if (rc)
		rollback(s);
	pthread_mutex_unlock(&s->mu);
	store_job_clear(&j);
	free(b);
	free(m);
	return rc;
}

int store_requeue(struct store *s, int64_t job_id)
{
	sqlite3_stmt *st;
	int rc;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	st = q(s, Q_REQUEUE);
	sqlite3_bind_int64(st, 1, job_id);
	rc = run(s, st); /* one statement: atomic on its own */
	if (!rc && sqlite3_changes(s->db) == 0) {
		set_msg(s, "store_requeue: no such running job");
		rc = -ENOENT;
	}
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_count_queued(struct store *s, int *n)
{
	sqlite3_stmt *st;
	int rc;

	if (n)
		*n = 0;
	if (!s || !n)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	st = q(s, Q_COUNT_QUEUED);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
	}
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_claim_again(struct store *s, int64_t job_id, const char *initial_state, int64_t now_ms,
    struct store_claim_res *out)
{
	struct store_claim_res r = { 0 };
	sqlite3_stmt *st = NULL;
	char hook[sizeof ((struct store_job *)0)->hook], key[sizeof ((struct store_job *)0)->key];
	char sha[65], state[16];
	int rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out || !valid_initial_state(initial_state)) {
		if (s) {
			pthread_mutex_lock(&s->mu);
			set_msg(s, "store_claim_again: invalid argument");
			pthread_mutex_unlock(&s->mu);
		}
		return -EINVAL;
	}
	pthread_mutex_lock(&s->mu);
	rc = begin(s);
	if (rc)
		goto out;
	st = q(s, Q_JOB_KEY);
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		set_msg(s, "store_claim_again: no such job");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	copy_column(st, 0, hook, sizeof hook);
	copy_column(st, 1, key, sizeof key);
	q_done(st);
	st = q(s, Q_LATEST);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) { /* the job itself is one of them */
		rc = fail(s, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
		goto out;
	}
	r.job_id = sqlite3_column_int64(st, 0);
	r.attempt = sqlite3_column_int(st, 1);
	copy_column(st, 2, state, sizeof state);
	q_done(st);
	st = NULL;
	if (!strcmp(state, "queued") || !strcmp(state, "running")) {
		r.kind = STORE_BUSY;
		rollback(s); /* nothing was written: just end the transaction */
		rc = 0;
		*out = r;
		goto out;
	}
	rc = delivery_read(s, hook, key, NULL, NULL, NULL, sha);
	if (rc) {
		if (rc == -ENOENT)
			set_msg(s, "store_claim_again: the job's delivery was pruned");
		goto out;
	}
	rc = put_job(s, hook, key, sha, now_ms, r.attempt + 1, initial_state, &r.job_id);
	if (rc)
		goto out;
	rc = commit(s);
	if (rc)
		goto out;
	r.kind = STORE_RETRY;
	r.attempt++;
	*out = r;
out:
	q_done(st);
	if (rc)
		rollback(s);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_delivery_get(struct store *s, const char *hook, const char *key, char **body,
    size_t *len, char **meta)
{
	int rc;

	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	if (meta)
		*meta = NULL;
	if (!s || !body || !len || !meta || !valid_name(hook, sizeof ((struct store_job *)0)->hook) ||
	    !valid_name(key, sizeof ((struct store_job *)0)->key)) {
		if (s) {
			pthread_mutex_lock(&s->mu);
			set_msg(s, "store_delivery_get: invalid argument");
			pthread_mutex_unlock(&s->mu);
		}
		return -EINVAL;
	}
	pthread_mutex_lock(&s->mu);
	rc = delivery_read(s, hook, key, body, len, meta, NULL);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Every row of ST (bound, under s->mu) into a malloc'ed array. */
static int collect(struct store *s, sqlite3_stmt *st, const char *fn, struct store_job **out,
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
		if ((rc = read_job(st, &v[cnt])))
			break;
		cnt++;
	}
	if (rc == -ENOMEM) {
		snprintf(s->err, sizeof s->err, "%s: out of memory", fn);
	} else if (rc != SQLITE_DONE) {
		rc = fail(s, rc);
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

int store_list(struct store *s, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!s || !out || !n || limit < 1 || limit > 10000 ||
	    (hook && !valid_name(hook, sizeof ((struct store_job *)0)->hook))) {
		if (s) {
			pthread_mutex_lock(&s->mu);
			set_msg(s, "store_list: invalid argument");
			pthread_mutex_unlock(&s->mu);
		}
		return -EINVAL;
	}
	pthread_mutex_lock(&s->mu);
	/* one statement per filter, so each reads its own index newest first */
	st = q(s, hook ? (failed_only ? Q_LIST_HOOK_FAILED : Q_LIST_HOOK) :
	    (failed_only ? Q_LIST_FAILED : Q_LIST_ALL));
	if (hook)
		sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	rc = collect(s, st, "store_list", out, n);
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_attempts(struct store *s, const char *hook, const char *key, struct store_job **out,
    size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!s || !out || !n || !valid_name(hook, sizeof ((struct store_job *)0)->hook) ||
	    !valid_name(key, sizeof ((struct store_job *)0)->key)) {
		if (s) {
			pthread_mutex_lock(&s->mu);
			set_msg(s, "store_attempts: invalid argument");
			pthread_mutex_unlock(&s->mu);
		}
		return -EINVAL;
	}
	pthread_mutex_lock(&s->mu);
	st = q(s, Q_ATTEMPTS);
	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = collect(s, st, "store_attempts", out, n);
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- prune, health --------------------------------------------------- */

/* One transaction: delete up to PRUNE_BATCH finished jobs, then each of
 * their deliveries whose key has no job left. *n gets the jobs deleted. */
static int prune_batch(struct store *s, int64_t cutoff_ms, int *n)
{
	sqlite3_stmt *st = NULL, *del;
	int rc, count = 0;

	rc = begin(s);
	if (rc)
		goto out;
	st = q(s, Q_PRUNE_JOBS);
	sqlite3_bind_int64(st, 1, cutoff_ms);
	sqlite3_bind_int(st, 2, PRUNE_BATCH);
	/* RETURNING rows are computed by the first step, so the deliveries
	 * can be deleted while they are read back. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		count++;
		del = q(s, Q_PRUNE_DELIVERY);
		sqlite3_bind_text(del, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(del, 2, (const char *)sqlite3_column_text(st, 1), -1, SQLITE_TRANSIENT);
		rc = run(s, del);
		q_done(del);
		if (rc)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = fail(s, rc);
		goto out;
	}
	q_done(st);
	st = NULL;
	rc = commit(s);
	if (!rc)
		*n = count;
out:
	q_done(st);
	if (rc)
		rollback(s);
	return rc;
}

int store_prune(struct store *s, int64_t cutoff_ms, int *n)
{
	sqlite3_stmt *st;
	int rc = 0, total = 0, got;

	if (n)
		*n = 0;
	if (!s)
		return -EINVAL;
	/* Single-use token ids past their expiry prove nothing any more: such
	 * a token is refused as expired anyway. One statement, atomic. */
	pthread_mutex_lock(&s->mu);
	st = q(s, Q_PRUNE_JTI);
	sqlite3_bind_int64(st, 1, clock_wall_ms());
	rc = run(s, st);
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	if (rc)
		return rc;
	do {
		got = 0;
		pthread_mutex_lock(&s->mu); /* released between batches: claims go on */
		rc = prune_batch(s, cutoff_ms, &got);
		pthread_mutex_unlock(&s->mu);
		total += got;
	} while (!rc && got == PRUNE_BATCH);
	if (n)
		*n = total;
	return rc;
}

int store_health(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const char *path;
	int rc, moved = 0;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	/* SQLite keeps writing to an unlinked file without complaint in WAL mode. */
	rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved);
	if (rc == SQLITE_OK && moved) {
		set_msg(s, "database file was moved or deleted");
		rc = -EROFS;
		goto out;
	}
	/* the open descriptor may still write; the file at its path may not */
	path = sqlite3_db_filename(s->db, "main");
	if (path && *path && access(path, R_OK | W_OK) < 0) {
		rc = -errno;
		snprintf(s->err, sizeof s->err, "%s: %s", path, strerror(errno));
		goto out;
	}
	st = q(s, Q_HEALTH_READ);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = fail(s, rc);
		goto out;
	}
	q_done(st);
	st = NULL;
	rc = begin(s); /* the write lock within the busy timeout */
	if (rc)
		goto out;
	rollback(s);
out:
	q_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
