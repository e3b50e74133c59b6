/*
 * store_sqlite_test.h — the harness of the SQLite backend's own tests
 * (runner_store_sqlite*.c), header-only like t.h: fresh database paths in a
 * mkdtemp directory, independent readers of what the store wrote (a
 * separate read-only connection, the sqlite3 CLI), and the claim helpers
 * the tests share. Independent readers check the store against its file,
 * not only against itself.
 */
#ifndef STORE_SQLITE_TEST_H
#define STORE_SQLITE_TEST_H
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "../../runner/store.h"
#include "t.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char g_dir[64];
static int g_seq;

/* A fresh database path in the test directory. */
static inline void newpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s-%d.db", g_dir, name, ++g_seq);
}

/* store_open on the SQLite file PATH. */
static inline int sopen(const char *path, int mark_interrupted, int *n_interrupted, struct store **out)
{
	struct store_config sc = { .sqlite_path = path };

	return store_open(&sc, out, mark_interrupted, n_interrupted, NULL);
}

/* First column of the first row of SQL, through a separate read-only
 * connection; -1000 on any error. */
static inline long long q1(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1000;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Run the sqlite3 CLI on PATH with SQL; its stdout (newlines kept) in OUT. */
static inline int cli(const char *path, const char *sql, char *out, size_t cap)
{
	char cmd[1024];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"%s\" 2>/dev/null", path, sql);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	return pclose(f);
}

static inline int claim(struct store *s, const char *hook, const char *key, const char *sha, int64_t now,
    struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	return store_claim(s, hook, key, sha, body, sizeof body - 1, "{\"x-a\":\"1\"}", now, r);
}

static inline int finish(struct store *s, int64_t id, const char *state, int http, const char *resp,
    int64_t finished_ms)
{
	struct store_outcome o = {
		.state = jobstate_from_name(state), .started_ms = finished_ms - 10, .finished_ms = finished_ms,
		.exit_code = !strcmp(state, "succeeded") ? 0 : 1, .http_status = http,
		.response = resp,
	};
	return store_finish(s, id, &o);
}

/* Rows and their content, as an independent reader sees them. */
static inline long long fingerprint(const char *path)
{
	return q1(path, "SELECT (SELECT count(*) FROM jobs) * 1000000 + (SELECT count(*) FROM "
	    "deliveries) * 1000 + (SELECT total(length(body)) + total(received_ms) FROM deliveries)"
	    " + (SELECT total(attempt) FROM jobs)");
}

static inline int claim_q(struct store *s, const char *hook, const char *key, int64_t now,
    struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	return store_claim_state(s, hook, key, H1, body, sizeof body - 1, "{\"x-a\":\"1\"}", now,
	    jobstate_from_name("queued"), r);
}

/* KEYS of the listed jobs, "k1,k2,..." */
static inline void list_keys(struct store *s, const char *hook, int failed, int limit, char *buf,
    size_t cap, int *rc)
{
	struct store_job *v = NULL;
	size_t n = 0, i, off = 0;

	buf[0] = 0;
	*rc = store_list(s, hook, failed, limit, &v, &n);
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", v[i].key);
		if (off >= cap)
			off = cap - 1;
		store_job_clear(&v[i]);
	}
	free(v);
}

/* Make PATH unwritable for us: chmod as a user, chattr +i as root (root
 * ignores modes). 0 when done. */
static inline int make_readonly(const char *path, int on)
{
	char cmd[256];

	if (geteuid() != 0)
		return chmod(path, on ? 0400 : 0600);
	snprintf(cmd, sizeof cmd, "chattr %ci '%s' 2>/dev/null", on ? '+' : '-', path);
	return system(cmd) == 0 ? 0 : -1;
}

/* The test directory /tmp/PROG.XXXXXX; 0, or -1 after a FAIL line. */
static inline int sqlite_test_begin(const char *prog)
{
	snprintf(g_dir, sizeof g_dir, "/tmp/%s.XXXXXX", prog);
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove the test directory; the exit status for main. */
static inline int sqlite_test_end(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
#endif
