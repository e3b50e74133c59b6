/*
 * store_pg_schema.c — the PostgreSQL backend's schema (contract in
 * store_pg.h): creating the schema and its forward migrations.
 *
 * migrations[v] takes the layout from version v to v+1; the missing ones
 * run in one transaction that ends by recording the version in
 * schema_version. The whole check-and-migrate runs under a session
 * advisory lock named after the schema, so of several instances starting
 * together on a new database one creates and migrates, and the others wait
 * and then find it done. A migration, once released, never changes.
 *
 * The layout is the SQLite backend's, in PostgreSQL's types, plus what
 * sharing needs: the jobs' owner and the instances with their leases.
 * Stored headers, answers and output tails are BYTEA: they may hold bytes
 * that are not UTF-8, which a TEXT column of a UTF8 database refuses.
 * Version 2 added approvals (store_pg_approval.c says how they are used).
 * The claim's lookup of the latest attempt reads UNIQUE(hook, key, attempt)
 * backwards; the queue's head is the partial index of queued ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE deliveries ("
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  body_sha256 TEXT NOT NULL,"
	"  body BYTEA,"
	"  headers BYTEA,"
	"  received_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (hook, key));"
	"CREATE INDEX deliveries_body ON deliveries (hook, body_sha256, received_ms);"
	"CREATE TABLE jobs ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL CHECK (attempt >= 1),"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded',"
	"    'failed', 'timeout', 'interrupted')),"
	"  body_sha256 TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL,"
	"  started_ms BIGINT,"
	"  finished_ms BIGINT,"
	"  exit_code INTEGER,"
	"  signal TEXT,"
	"  error TEXT,"
	"  http_status INTEGER,"
	"  response BYTEA,"
	"  output_tail BYTEA,"
	"  owner TEXT,"
	"  UNIQUE (hook, key, attempt),"
	"  FOREIGN KEY (hook, key) REFERENCES deliveries (hook, key));"
	"CREATE INDEX jobs_finished ON jobs (finished_ms);"
	"CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';"
	"CREATE INDEX jobs_running ON jobs (owner) WHERE state = 'running';"
	"CREATE INDEX jobs_hook ON jobs (hook, id);"
	"CREATE INDEX jobs_failed ON jobs (id) WHERE state IN ('failed', 'timeout', 'interrupted');"
	"CREATE TABLE jwt_ids ("
	"  hook TEXT NOT NULL,"
	"  jti TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  expires_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (hook, jti));"
	"CREATE INDEX jwt_ids_expiry ON jwt_ids (expires_ms);"
	"CREATE TABLE instances ("
	"  id TEXT PRIMARY KEY,"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  started TIMESTAMPTZ NOT NULL DEFAULT now(),"
	"  lease_until TIMESTAMPTZ NOT NULL);",
	/* 1 -> 2: approvals. The jobs' states gain those of approval hooks;
	 * then the approvals, their votes (one per voter: the primary key), and
	 * the store-wide change counter, one row that every change updates:
	 * its row lock orders the changes, so seq order is commit order and a
	 * reader's cursor never skips a change committed late. */
	"ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_state_check;"
	"ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running',"
	"  'succeeded', 'failed', 'timeout', 'interrupted', 'pending_approval', 'denied', 'expired'));"
	"CREATE TABLE approvals ("
	"  id TEXT PRIMARY KEY,"
	"  job_id BIGINT NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,"
	"  hook TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  requester TEXT,"
	"  required INTEGER NOT NULL CHECK (required >= 1),"
	"  allow_self INTEGER NOT NULL,"
	"  approvals INTEGER NOT NULL DEFAULT 0,"
	"  created_ms BIGINT NOT NULL,"
	"  expires_ms BIGINT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),"
	"  decided_by TEXT,"
	"  decided_ms BIGINT,"
	"  reason TEXT,"
	"  channel TEXT,"
	"  message_ts TEXT,"
	"  seq BIGINT NOT NULL,"
	"  synced_seq BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX approvals_pending ON approvals (expires_ms) WHERE state = 'pending';"
	"CREATE INDEX approvals_seq ON approvals (seq);"
	"CREATE INDEX approvals_unsynced ON approvals (seq) WHERE seq > synced_seq;"
	"CREATE TABLE approval_votes ("
	"  approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,"
	"  voter TEXT NOT NULL,"
	"  n BIGINT GENERATED ALWAYS AS IDENTITY,"
	"  source TEXT NOT NULL CHECK (source IN ('slack', 'cli')),"
	"  decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),"
	"  reason TEXT,"
	"  at_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (approval_id, voter));"
	"CREATE TABLE approval_seq (n BIGINT NOT NULL);"
	"INSERT INTO approval_seq (n) VALUES (0);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* The advisory lock's key: the schema's name, hashed by the server. */
#define LOCK_KEY "hashtextextended('webhook-runner migrate ' || $1, 0)"

static int migrate_locked(struct store_pg *s, PGconn *c, int must_exist, enum store_why *why)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	char sql[256];
	int rc, v = 0;

	store_pg_p_str(&p, s->schema);
	rc = store_pg_exec(s, c, "SELECT to_regclass(quote_ident($1) || '.schema_version') IS NOT NULL",
	    &p, &r);
	if (rc)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		if (must_exist) {
			store_pg_msg(s, "no store in schema %s", s->schema);
			*why = STORE_WHY_ABSENT;
			rc = -ENOENT;
			goto out;
		}
		snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", s->schema);
		if ((rc = store_pg_begin(s, c)) || (rc = store_pg_exec(s, c, sql, NULL, NULL)) ||
		    (rc = store_pg_exec(s, c, "CREATE TABLE schema_version (version INTEGER NOT NULL)",
			NULL, NULL)) ||
		    (rc = store_pg_exec(s, c, "INSERT INTO schema_version VALUES (0)", NULL, NULL)) ||
		    (rc = store_pg_commit(s, c)))
			goto out;
	}
	PQclear(r);
	r = NULL;
	if ((rc = store_pg_begin(s, c)) ||
	    (rc = store_pg_exec(s, c, "SELECT version FROM schema_version FOR UPDATE", NULL, &r)))
		goto out;
	v = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
	if (v < 0 || v > SCHEMA_VERSION) {
		store_pg_msg(s, "schema version %d is newer than this build's %d", v, SCHEMA_VERSION);
		*why = STORE_WHY_NEWER;
		rc = -EPROTO;
		goto out;
	}
	for (; v < SCHEMA_VERSION; v++)
		if ((rc = store_pg_exec(s, c, migrations[v], NULL, NULL)) != 0)
			goto out;
	p.n = 0;
	store_pg_p_i64(&p, SCHEMA_VERSION);
	if ((rc = store_pg_exec(s, c, "UPDATE schema_version SET version = $1", &p, NULL)) ||
	    (rc = store_pg_commit(s, c)))
		goto out;
out:
	PQclear(r);
	store_pg_rollback(s, c);
	return rc;
}

int store_pg_schema_migrate(struct store_pg *s, PGconn *c, int must_exist, enum store_why *why)
{
	struct store_pg_params p = { .n = 0 };
	int rc, urc;

	store_pg_p_str(&p, s->schema);
	/* search_path names the schema before it exists: set it again after */
	if ((rc = store_pg_exec(s, c, "SELECT pg_advisory_lock(" LOCK_KEY ")", &p, NULL)) != 0)
		return rc;
	rc = migrate_locked(s, c, must_exist, why);
	urc = store_pg_exec(s, c, "SELECT pg_advisory_unlock(" LOCK_KEY ")", &p, NULL);
	return rc ? rc : urc;
}
