/*
 * store_sqlite_schema.c — the SQLite backend's schema (contract in
 * store_sqlite.h): the forward migrations and the SQL of every statement
 * the backend prepares.
 *
 * Migrations: migrations[v] takes the schema from version v to v+1 and ends
 * by setting user_version; store_sqlite_schema_migrate applies the missing
 * ones in one transaction. Version 2 replaced the one partial index of
 * unfinished jobs by one per state, because SQLite uses a partial index only
 * when the query repeats its WHERE term: "state = 'queued'" cannot use an
 * index "WHERE state IN ('queued', 'running')". It also added the indexes of
 * the history listing, so every list is read newest first straight off an
 * index (no sort, LIMIT stops the scan). The claim's lookup of the latest
 * attempt uses the UNIQUE(hook, key, attempt) index backwards: O(log n).
 *
 * Version 4 added approvals: the jobs table rebuilt for the new states,
 * the approvals with their votes, and one change sequence for all of them.
 *
 * A migration, once released, never changes: existing files went through it.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "store_sqlite.h"

/* Header names (lower case) that carry a signature: never kept. */
#define STORE_SIGNATURE_HEADERS "('x-hookdeck-signature', 'x-hookdeck-signature-2'," \
	" 'x-hub-signature-256', 'x-hub-signature', 'webhook-signature'," \
	" 'authorization', 'proxy-authorization', 'cookie')"

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
	/* 3 -> 4: approvals. The jobs table is rebuilt for the states of
	 * approval hooks (a CHECK constraint cannot be altered), keeping every
	 * id and the AUTOINCREMENT high-water mark, so ids are still never
	 * reused; then the approvals, their votes, and the change sequence. */
	"CREATE TABLE jobs_new ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL CHECK (attempt >= 1),"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded',"
	"    'failed', 'timeout', 'interrupted', 'pending_approval', 'denied', 'expired')),"
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
	"INSERT INTO jobs_new (id, hook, key, attempt, state, body_sha256, created_ms, started_ms,"
	"  finished_ms, exit_code, signal, error, http_status, response, output_tail)"
	"  SELECT id, hook, key, attempt, state, body_sha256, created_ms, started_ms,"
	"  finished_ms, exit_code, signal, error, http_status, response, output_tail FROM jobs;"
	"INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs_new', 0"
	"  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs_new');"
	"UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence"
	"  WHERE name IN ('jobs', 'jobs_new')) WHERE name = 'jobs_new';"
	"DROP TABLE jobs;"
	"ALTER TABLE jobs_new RENAME TO jobs;"
	"CREATE INDEX jobs_finished ON jobs (finished_ms);"
	"CREATE INDEX jobs_queued ON jobs (state) WHERE state = 'queued';"
	"CREATE INDEX jobs_running ON jobs (state) WHERE state = 'running';"
	"CREATE INDEX jobs_hook ON jobs (hook, id);"
	"CREATE INDEX jobs_failed ON jobs (id) WHERE state IN ('failed', 'timeout', 'interrupted');"
	"CREATE TABLE approvals ("
	"  id TEXT PRIMARY KEY,"
	"  job_id INTEGER NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,"
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  requester TEXT,"
	"  required INTEGER NOT NULL CHECK (required >= 1),"
	"  allow_self INTEGER NOT NULL,"
	"  approvals INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),"
	"  decided_by TEXT,"
	"  decided_ms INTEGER,"
	"  reason TEXT,"
	"  channel TEXT,"
	"  message_ts TEXT,"
	"  seq INTEGER NOT NULL,"
	"  synced_seq INTEGER NOT NULL DEFAULT 0);"
	/* expiry and the pending listing */
	"CREATE INDEX approvals_pending ON approvals (expires_ms) WHERE state = 'pending';"
	/* store_approvals_changed */
	"CREATE INDEX approvals_seq ON approvals (seq);"
	/* store_approvals_unsynced: the query repeats this WHERE */
	"CREATE INDEX approvals_unsynced ON approvals (seq) WHERE seq > synced_seq;"
	"CREATE TABLE approval_votes ("
	"  approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,"
	"  voter TEXT NOT NULL,"
	"  source TEXT NOT NULL CHECK (source IN ('slack', 'cli')),"
	"  decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),"
	"  reason TEXT,"
	"  at_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (approval_id, voter));"
	"CREATE TABLE approval_seq (n INTEGER NOT NULL);"
	"INSERT INTO approval_seq (n) VALUES (0);"
	"PRAGMA user_version = 4;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

#define FAILED_STATES "state IN ('failed', 'timeout', 'interrupted')"

const char *const store_sqlite_schema_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT grouped",
	[Q_RELEASE] = "RELEASE grouped",
	[Q_ROLLBACK_TO] = "ROLLBACK TO grouped",
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
	[Q_JOB_GET] = "SELECT " STORE_SQLITE_JOB_COLS " FROM jobs WHERE id = ?1",
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
	[Q_LIST_ALL] = "SELECT " STORE_SQLITE_JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?2",
	[Q_LIST_HOOK] = "SELECT " STORE_SQLITE_JOB_COLS " FROM jobs WHERE hook = ?1 ORDER BY id DESC LIMIT ?2",
	[Q_LIST_FAILED] = "SELECT " STORE_SQLITE_JOB_COLS " FROM jobs WHERE " FAILED_STATES
		" ORDER BY id DESC LIMIT ?2",
	[Q_LIST_HOOK_FAILED] = "SELECT " STORE_SQLITE_JOB_COLS " FROM jobs WHERE hook = ?1 AND " FAILED_STATES
		" ORDER BY id DESC LIMIT ?2",
	[Q_ATTEMPTS] = "SELECT " STORE_SQLITE_JOB_COLS " FROM jobs WHERE hook = ?1 AND key = ?2"
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
	[Q_APPROVAL_PUT] = "INSERT INTO approvals (id, job_id, hook, key, requester, required, allow_self,"
		" created_ms, expires_ms, state, channel, seq)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11)",
	[Q_SEQ_NEXT] = "UPDATE approval_seq SET n = n + 1 RETURNING n",
	[Q_SEQ_MAX] = "SELECT n FROM approval_seq",
	[Q_APPROVAL_GET] = "SELECT " STORE_SQLITE_APPROVAL_COLS " FROM approvals WHERE id = ?1",
	[Q_APPROVAL_BY_JOB] = "SELECT " STORE_SQLITE_APPROVAL_COLS " FROM approvals WHERE job_id = ?1",
	[Q_VOTES] = "SELECT voter, source, decision, reason, at_ms FROM approval_votes"
		" WHERE approval_id = ?1 ORDER BY at_ms, rowid",
	[Q_PENDING_ALL] = "SELECT " STORE_SQLITE_APPROVAL_COLS " FROM approvals WHERE state = 'pending'"
		" ORDER BY expires_ms, job_id LIMIT ?2",
	[Q_PENDING_HOOK] = "SELECT " STORE_SQLITE_APPROVAL_COLS " FROM approvals WHERE state = 'pending'"
		" AND hook = ?1 ORDER BY expires_ms, job_id LIMIT ?2",
	[Q_COUNT_PENDING] = "SELECT count(*) FROM approvals WHERE state = 'pending'",
	[Q_VOTE_GET] = "SELECT 1 FROM approval_votes WHERE approval_id = ?1 AND voter = ?2",
	[Q_VOTE_PUT] = "INSERT INTO approval_votes (approval_id, voter, source, decision, reason, at_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_APPROVAL_COUNT] = "UPDATE approvals SET approvals = approvals + 1, seq = ?2"
		" WHERE id = ?1 AND state = 'pending'",
	[Q_APPROVAL_DECIDE] = "UPDATE approvals SET state = ?2, decided_by = ?3, decided_ms = ?4,"
		" reason = ?5, seq = ?6, approvals = approvals + ?7 WHERE id = ?1 AND state = 'pending'",
	[Q_JOB_APPROVED] = "UPDATE jobs SET state = 'queued' WHERE id = ?1 AND state = 'pending_approval'",
	[Q_JOB_REFUSED] = "UPDATE jobs SET state = ?2, finished_ms = ?3, http_status = 403"
		" WHERE id = ?1 AND state = 'pending_approval'",
	[Q_EXPIRE_DUE] = "SELECT id FROM approvals WHERE state = 'pending' AND expires_ms <= ?1"
		" ORDER BY expires_ms LIMIT ?2",
	[Q_SET_MESSAGE] = "UPDATE approvals SET channel = ?2, message_ts = ?3 WHERE id = ?1",
	[Q_CHANGED] = "SELECT " STORE_SQLITE_APPROVAL_COLS " FROM approvals WHERE seq > ?1"
		" ORDER BY seq LIMIT ?2",
	[Q_UNSYNCED] = "SELECT " STORE_SQLITE_APPROVAL_COLS " FROM approvals WHERE seq > synced_seq"
		" ORDER BY seq LIMIT ?1",
	[Q_CLAIM_SYNC] = "UPDATE approvals SET synced_seq = ?2 WHERE id = ?1 AND synced_seq < ?2",
	[Q_APPROVAL_EXISTS] = "SELECT 1 FROM approvals WHERE id = ?1",
};

/* Run a constant SQL script (several statements, no values) at open time. */
static int exec_script(struct store_sqlite *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	const char *tail = sql;
	int rc = 0;

	while (tail && *tail) {
		int r = sqlite3_prepare_v2(s->db, tail, -1, &st, &tail);
		if (r != SQLITE_OK) {
			rc = store_sqlite_fail(s, r);
			goto out;
		}
		if (!st) /* whitespace or comment only */
			break;
		rc = store_sqlite_run(s, st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc)
			goto out;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

int store_sqlite_schema_migrate(struct store_sqlite *s)
{
	sqlite3_stmt *st = NULL;
	int rc, v;

	rc = store_sqlite_begin(s); /* under the write lock: one process migrates, the others see it done */
	if (rc)
		goto out;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (v < 0 || v > SCHEMA_VERSION) {
		snprintf(s->base.err, sizeof s->base.err, "schema version %d is newer than this build's %d", v,
		    SCHEMA_VERSION);
		rc = -EPROTO;
		goto out;
	}
	for (; v < SCHEMA_VERSION; v++) {
		rc = exec_script(s, migrations[v]);
		if (rc)
			goto out;
	}
	rc = store_sqlite_commit(s);
out:
	sqlite3_finalize(st);
	if (rc)
		store_sqlite_rollback(s);
	return rc;
}
