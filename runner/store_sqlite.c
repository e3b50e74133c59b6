/*
 * store_sqlite.c — the SQLite store backend (store_backend.h; its files and
 * schema in store_sqlite.h): the connection, opening (file creation, WAL,
 * pragmas, migration, marking interrupted jobs), closing, the health probe,
 * and the helpers the backend's other files share. Nothing here logs; the
 * last failure is kept for store_errmsg.
 *
 * How:
 *  - One connection per store, every use under s->base.mu, so a claim's
 *    transaction is never interleaved with another thread's statements.
 *    Other processes (a CLI) coordinate through SQLite's file locks: WAL lets
 *    readers run beside the writer, the busy timeout makes writers wait.
 *  - synchronous=FULL: we promise no lost events, and a claim or an outcome
 *    is answered to Hookdeck right after its commit, so the commit must
 *    survive power loss too, not only a crash of this process (which
 *    WAL+NORMAL would already survive). The cost is one WAL fsync per
 *    transaction; claims, takes and outcomes that arrive together share one
 *    (store_sqlite_group.c).
 *  - Statements are prepared once at open, values always bound.
 */
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

#include "../common/clock.h"
#include "store_sqlite.h"

static void sqlite_close(struct store *b);

/* ---- errors ---------------------------------------------------------- */

static int map_rc(struct store_sqlite *s, int rc)
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
int store_sqlite_fail(struct store_sqlite *s, int rc)
{
	const char *m = s->db ? sqlite3_errmsg(s->db) : NULL, *e = sqlite3_errstr(rc);

	if (m && strcmp(m, e))
		snprintf(s->base.err, sizeof s->base.err, "%s (%s)", m, e);
	else
		snprintf(s->base.err, sizeof s->base.err, "%s", e);
	return map_rc(s, rc);
}

/* ---- statements ------------------------------------------------------ */

sqlite3_stmt *store_sqlite_stmt(struct store_sqlite *s, int i)
{
	sqlite3_stmt *st = s->q[i];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

void store_sqlite_done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Step ST to completion (no rows wanted). */
int store_sqlite_run(struct store_sqlite *s, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
	sqlite3_reset(st);
	return rc;
}

int store_sqlite_begin(struct store_sqlite *s)
{
	return store_sqlite_run(s, store_sqlite_stmt(s, Q_BEGIN));
}

int store_sqlite_commit(struct store_sqlite *s)
{
	return store_sqlite_run(s, store_sqlite_stmt(s, Q_COMMIT));
}

/* Roll back whatever transaction is open; SQLite may already have done it
 * (it does on some errors), hence the autocommit test. */
void store_sqlite_rollback(struct store_sqlite *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(store_sqlite_stmt(s, Q_ROLLBACK));
		sqlite3_reset(s->q[Q_ROLLBACK]);
	}
}

/* One PRAGMA whose single text result must be WANT (NULL: any). */
static int pragma(struct store_sqlite *s, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	if (want) {
		const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (!got || strcasecmp(got, want)) {
			snprintf(s->base.err, sizeof s->base.err, "%s: got %s, want %s", sql, got ? got : "nothing",
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
static int wal_mode(struct store_sqlite *s)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = pragma(s, "PRAGMA journal_mode = WAL", "wal");
		if (rc != -EBUSY || tries >= STORE_SQLITE_BUSY_TIMEOUT_MS / 10)
			return rc;
		nanosleep(&pause, NULL);
	}
}

/* Create the file 0600 ourselves: SQLite would use 0644 & ~umask, and gives
 * the -wal and -shm files the database's mode. Refuses non-regular files
 * (O_NONBLOCK: a FIFO must not hang us). An existing file keeps its mode.
 * Without CREATE, only opens an existing file. */
static int precreate(const char *path, int create)
{
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);

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
static int prepare(struct store_sqlite *s, int from, int to)
{
	int i, rc;

	for (i = from; i < to; i++) {
		rc = sqlite3_prepare_v3(s->db, store_sqlite_schema_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(s, rc);
	}
	return 0;
}

static int mark_interrupted(struct store_sqlite *s, int *n)
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_MARK_INTERRUPTED);
	int rc;

	sqlite3_bind_int64(st, 1, clock_wall_ms());
	rc = store_sqlite_run(s, st); /* one statement: atomic on its own */
	if (!rc && n)
		*n = sqlite3_changes(s->db);
	store_sqlite_done(st);
	return rc;
}

/* The file at PATH, when it must already be there: stat()'s errno, with
 * *WHY for a missing one (-ENOENT) and one that is not a regular file. */
static int must_exist(const char *path, enum store_why *why)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			*why = STORE_WHY_ABSENT;
		return -errno;
	}
	if (!S_ISREG(sb.st_mode)) {
		*why = STORE_WHY_NOT_A_STORE;
		return -EINVAL;
	}
	return 0;
}

static int sqlite_open(const struct store_config *sc, int mark_interrupted_jobs, int *n_interrupted,
    struct store **out, enum store_why *why)
{
	const char *path = sc->sqlite_path;
	struct store_sqlite *s = NULL;
	int rc;

	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	rc = store_base_init(&s->base, &store_sqlite_ops);
	if (rc) {
		free(s);
		return rc;
	}
	if ((rc = store_sqlite_group_init(s)) != 0) {
		store_base_fini(&s->base);
		free(s);
		return rc;
	}
	if (sc->must_exist && (rc = must_exist(path, why)) != 0)
		goto out;
	rc = precreate(path, !sc->must_exist);
	if (rc) {
		if (rc == -EINVAL)
			*why = STORE_WHY_NOT_A_STORE;
		else if (rc == -ENOENT && sc->must_exist) /* gone since the stat */
			*why = STORE_WHY_ABSENT;
		goto out;
	}
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    (sc->must_exist ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
	    NULL);
	if (rc != SQLITE_OK) {
		rc = s->db ? store_sqlite_fail(s, rc) : -ENOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_SQLITE_BUSY_TIMEOUT_MS);
	/* hardening: no schema-borne functions, no writable_schema tricks */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	if (sqlite3_db_readonly(s->db, "main") != 0) {
		store_backend_msg(&s->base, "database opened read-only");
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
	if (!rc && (rc = store_sqlite_schema_migrate(s)) == -EPROTO)
		*why = STORE_WHY_NEWER;
	if (!rc)
		rc = prepare(s, Q_LATEST, Q_COUNT); /* these need the tables */
	if (rc)
		goto out;
	if (mark_interrupted_jobs) {
		rc = mark_interrupted(s, n_interrupted);
		if (rc)
			goto out;
	}
	*out = &s->base;
	s = NULL;
out:
	if (s)
		sqlite_close(&s->base);
	return rc;
}

static void sqlite_close(struct store *b)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	int i;

	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_close(s->db); /* checkpoints and removes the WAL when last */
	store_sqlite_group_fini(s);
	store_base_fini(&s->base);
	free(s);
}

int store_sqlite_dup_column(sqlite3_stmt *st, int col, char **out)
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

void store_sqlite_copy_column(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = 0;
}

int store_sqlite_read_job(sqlite3_stmt *st, struct store_job *j)
{
	int rc;

	memset(j, 0, sizeof *j);
	j->id = sqlite3_column_int64(st, 0);
	store_sqlite_copy_column(st, 1, j->hook, sizeof j->hook);
	store_sqlite_copy_column(st, 2, j->key, sizeof j->key);
	j->attempt = sqlite3_column_int(st, 3);
	j->state = jobstate_from_name((const char *)sqlite3_column_text(st, 4));
	j->created_ms = sqlite3_column_int64(st, 5);
	j->started_ms = sqlite3_column_int64(st, 6);  /* NULL reads as 0 */
	j->finished_ms = sqlite3_column_int64(st, 7);
	j->exit_code = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
	store_sqlite_copy_column(st, 9, j->signal, sizeof j->signal);
	store_sqlite_copy_column(st, 10, j->error, sizeof j->error);
	j->http_status = sqlite3_column_int(st, 11);
	rc = store_sqlite_dup_column(st, 12, &j->response);
	if (!rc)
		rc = store_sqlite_dup_column(st, 13, &j->output_tail);
	if (rc)
		store_job_clear(j);
	return rc;
}

int store_sqlite_delivery_read(struct store_sqlite *s, const char *hook, const char *key, char **body,
    size_t *len, char **meta, char sha[65])
{
	sqlite3_stmt *st = store_sqlite_stmt(s, Q_DELIVERY_GET);
	const void *b;
	char *p = NULL, *m = NULL;
	size_t n;
	int rc;

	sqlite3_bind_text(st, 1, hook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		store_backend_msg(&s->base, "no such delivery (pruned?)");
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		goto out;
	}
	rc = 0;
	if (sha)
		store_sqlite_copy_column(st, 2, sha, 65);
	if (body) {
		b = sqlite3_column_blob(st, 0); /* NULL for an empty blob */
		n = (size_t)sqlite3_column_bytes(st, 0);
		if ((!b && n) || !(p = malloc(n + 1)) || store_sqlite_dup_column(st, 1, &m)) {
			store_backend_msg(&s->base, "out of memory");
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
	store_sqlite_done(st);
	free(p);
	free(m);
	return rc;
}

/* The checks: the file is still at its path and readable and writable
 * there, a read of the jobs table, and the write lock within the busy
 * timeout. */
static int sqlite_health(struct store *b, enum store_why *why)
{
	struct store_sqlite *s = (struct store_sqlite *)b;
	sqlite3_stmt *st = NULL;
	const char *path;
	int rc, moved = 0;

	pthread_mutex_lock(&s->base.mu);
	/* SQLite keeps writing to an unlinked file without complaint in WAL mode. */
	rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved);
	if (rc == SQLITE_OK && moved) {
		store_backend_msg(&s->base, "database file was moved or deleted");
		*why = STORE_WHY_GONE;
		rc = -EROFS;
		goto out;
	}
	/* the open descriptor may still write; the file at its path may not */
	path = sqlite3_db_filename(s->db, "main");
	if (path && *path && access(path, R_OK | W_OK) < 0) {
		rc = -errno;
		*why = STORE_WHY_NO_ACCESS;
		snprintf(s->base.err, sizeof s->base.err, "%s: %s", path, strerror(errno));
		goto out;
	}
	st = store_sqlite_stmt(s, Q_HEALTH_READ);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_sqlite_fail(s, rc);
		*why = STORE_WHY_READ;
		goto out;
	}
	store_sqlite_done(st);
	st = NULL;
	rc = store_sqlite_begin(s); /* the write lock within the busy timeout */
	if (rc) {
		*why = STORE_WHY_LOCKED;
		goto out;
	}
	store_sqlite_rollback(s);
out:
	store_sqlite_done(st);
	pthread_mutex_unlock(&s->base.mu);
	return rc;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.claim = store_sqlite_claim,
	.unclaim = store_sqlite_claim_undo,
	.finish = store_sqlite_claim_finish,
	.job_get = store_sqlite_history_job,
	.prune = store_sqlite_history_prune,
	.take_queued = store_sqlite_queue_take,
	.requeue = store_sqlite_queue_requeue,
	.count_queued = store_sqlite_queue_count,
	.claim_again = store_sqlite_claim_again,
	.delivery_get = store_sqlite_history_delivery,
	.list = store_sqlite_history_list,
	.attempts = store_sqlite_history_attempts,
	.health = sqlite_health,
	.approval_get = store_sqlite_approval_get,
	.approvals_pending = store_sqlite_approval_pending,
	.approvals_count_pending = store_sqlite_approval_count,
	.approval_vote = store_sqlite_approval_vote,
	.approvals_expire = store_sqlite_approval_expire,
	.approval_set_message = store_sqlite_approval_message,
	.approvals_changed = store_sqlite_approval_changed,
	.approvals_max_seq = store_sqlite_approval_max_seq,
	.approvals_unsynced = store_sqlite_approval_unsynced,
	.approval_claim_sync = store_sqlite_approval_claim_sync,
};
