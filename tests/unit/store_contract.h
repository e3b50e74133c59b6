/*
 * store_contract.h — the harness of the store's contract tests
 * (runner_store_contract*.c), header-only like t.h: the backends under test,
 * each a factory of configs naming a new, empty store, the helpers the
 * cases share (through store.h only), and the runner that runs every case
 * on every backend, printing "ok BACKEND/CASE" or "FAIL BACKEND/CASE: why".
 */
#ifndef STORE_CONTRACT_H
#define STORE_CONTRACT_H
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runner/store.h"
#include "t.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A backend under test. */
struct backend {
	const char *name;
	/* *SC names a new store called after NAME that does not exist yet (its
	 * strings stay valid until the program ends). 0 or -errno. */
	int (*fresh)(const char *name, struct store_config *sc);
	/* NULL when the backend can be tested here, else why not (each case
	 * then prints "skip BACKEND/CASE: why"). NULL: always. */
	const char *(*unavailable)(void);
};

/* ---- the SQLite backend: files in a mkdtemp directory ------------------ */

static char g_dir[64];

static inline int sqlite_fresh(const char *name, struct store_config *sc)
{
	static char paths[64][128];
	static int n;

	if (n >= 64)
		return -ENOSPC;
	snprintf(paths[n], sizeof paths[n], "%s/%s-%d.db", g_dir, name, n);
	memset(sc, 0, sizeof *sc);
	sc->sqlite_path = paths[n++];
	return 0;
}

/* ---- the PostgreSQL backend: a new schema of $STORE_TEST_PG_DSN --------- */

/* The server tests/run.sh starts (tests/pg.sh) and names in
 * STORE_TEST_PG_DSN; each store is a schema of its own, named after the
 * case, this process and a counter, so runs and cases never meet. */
static inline const char *pg_unavailable(void)
{
	const char *d = getenv("STORE_TEST_PG_DSN");
	return d && *d ? NULL : "STORE_TEST_PG_DSN is not set (tests/run.sh sets it when it "
	    "starts a PostgreSQL server with tests/pg.sh)";
}

static inline int pg_fresh(const char *name, struct store_config *sc)
{
	static char schemas[64][64];
	static int n;
	size_t i;

	if (n >= 64)
		return -ENOSPC;
	snprintf(schemas[n], sizeof schemas[n], "t%ld_%.30s_%d", (long)getpid(), name, n);
	for (i = 0; schemas[n][i]; i++)
		if (!((schemas[n][i] >= 'a' && schemas[n][i] <= 'z') ||
		    (schemas[n][i] >= '0' && schemas[n][i] <= '9')))
			schemas[n][i] = '_';
	memset(sc, 0, sizeof *sc);
	sc->pg_url = getenv("STORE_TEST_PG_DSN");
	sc->pg_schema = schemas[n++];
	sc->pg_pool = 4;
	return sc->pg_url ? 0 : -ENOENT;
}

static const struct backend BACKENDS[] = {
	{ "sqlite", sqlite_fresh, NULL },
	{ "postgresql", pg_fresh, pg_unavailable },
};

/* ---- helpers ------------------------------------------------------------ */

static const struct backend *g_be; /* the backend the current case runs on */
static struct store_config g_sc;   /* the current case's store */

/* Open the current case's store again (a restart, another process). */
static inline struct store *reopen(int mark, int *n)
{
	struct store *s = NULL;
	static char err[256];
	int rc;

	g_sc.open_err = err;
	g_sc.open_errlen = sizeof err;
	err[0] = 0;
	rc = store_open(&g_sc, &s, mark, n, NULL);
	if (rc)
		fprintf(stderr, "store_open: %s\n", err);
	T_EQ_INT(rc, 0);
	return s;
}

/* A new, empty store for the current case, open. */
static inline struct store *fresh(const char *name)
{
	T_EQ_INT(g_be->fresh(name, &g_sc), 0);
	return reopen(0, NULL);
}

static inline int claim(struct store *s, const char *hook, const char *key, const char *sha, int64_t now,
    struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	return store_claim(s, hook, key, sha, body, sizeof body - 1, "{\"x-a\":\"1\"}", now, r);
}

static inline int claim_q(struct store *s, const char *hook, const char *key, int64_t now,
    struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	return store_claim_state(s, hook, key, H1, body, sizeof body - 1, "{\"x-a\":\"1\"}", now,
	    JOBSTATE_QUEUED, r);
}

/* A claim on hook "h" with the repeat defences: BY_BODY, a token id. */
static inline int claim_rq(struct store *s, const char *key, const char *sha, int by_body, const char *jti,
    int64_t jti_until, struct store_claim_res *r)
{
	static const unsigned char body[] = "{\"event\":1}";
	struct store_claim_req rq = {
		.hook = "h", .key = key, .body_sha256 = sha, .body = body, .len = sizeof body - 1,
		.headers_json = "{\"headers\":{}}", .now_ms = 1000, .initial_state = JOBSTATE_RUNNING,
		.by_body = by_body, .jti = jti, .jti_until_ms = jti_until,
	};

	return store_claim_req(s, &rq, r);
}

static inline int finish(struct store *s, int64_t id, enum jobstate state, int http, const char *resp,
    int64_t finished_ms)
{
	struct store_outcome o = {
		.state = state, .started_ms = finished_ms - 10, .finished_ms = finished_ms,
		.exit_code = state == JOBSTATE_SUCCEEDED ? 0 : 1, .http_status = http, .response = resp,
	};
	return store_finish(s, id, &o);
}

/* The state of job ID, JOBSTATE_NONE when it cannot be read. */
static inline enum jobstate state_of(struct store *s, int64_t id)
{
	struct store_job j;
	enum jobstate st = JOBSTATE_NONE;

	if (store_job_get(s, id, &j) == 0)
		st = j.state;
	store_job_clear(&j);
	return st;
}

/* How many jobs the history holds (HOOK's, or all). */
static inline long count_jobs(struct store *s, const char *hook)
{
	struct store_job *v = NULL;
	size_t n = 0, i;

	if (store_list(s, hook, 0, 10000, &v, &n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		store_job_clear(&v[i]);
	free(v);
	return (long)n;
}

/* 1 when (HOOK, KEY) has a stored delivery, 0 when none, -1 on failure. */
static inline int has_delivery(struct store *s, const char *hook, const char *key)
{
	char *body = NULL, *meta = NULL;
	size_t len;
	int rc = store_delivery_get(s, hook, key, &body, &len, &meta);

	free(body);
	free(meta);
	return rc == 0 ? 1 : rc == -ENOENT ? 0 : -1;
}

/* ---- running every case on every backend -------------------------------- */

struct contract_case {
	const char *name;
	void (*fn)(void);
};
#define CONTRACT_CASE(fn) { #fn, fn }

/* Every case of CASES (N of them) on every backend, in a mkdtemp directory
 * /tmp/PROG.XXXXXX removed at the end. The exit status for main. */
static inline int contract_main(const char *prog, const struct contract_case *cases, size_t n)
{
	char cmd[128];
	size_t b, i;

	snprintf(g_dir, sizeof g_dir, "/tmp/%s.XXXXXX", prog);
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	for (b = 0; b < sizeof BACKENDS / sizeof BACKENDS[0]; b++) {
		const char *why = BACKENDS[b].unavailable ? BACKENDS[b].unavailable() : NULL;

		g_be = &BACKENDS[b];
		for (i = 0; i < n && why; i++)
			printf("skip %s/%s: %s\n", g_be->name, cases[i].name, why);
		for (i = 0; i < n && !why; i++) {
			t_failed_ = 0;
			t_why_[0] = 0;
			cases[i].fn();
			if (t_failed_) {
				printf("FAIL %s/%s: %s\n", g_be->name, cases[i].name, t_why_);
				t_any_failed_ = 1;
			} else {
				printf("ok %s/%s\n", g_be->name, cases[i].name);
			}
			fflush(stdout);
		}
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
#endif
