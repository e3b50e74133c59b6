/*
 * runner_store_pg.c — what only the PostgreSQL store backend can show, on
 * the real server tests/run.sh starts ($STORE_TEST_PG_DSN): migration from
 * an empty database and a refusal of a newer schema (read back with libpq,
 * not through the store), several instances starting together on one new
 * schema (the advisory lock), the forward migration of a layout 1 store
 * (before approvals) keeping its jobs, approvals from several handles at
 * once (the cap of pending approvals, one winner of a change's showing,
 * expiry split between instances, each once), the lease (a dead instance's running job is
 * marked interrupted by a live one once its lease has expired, a live
 * instance's is not, a CLI handle never sweeps), another handle's queued
 * job waking this one's takers (LISTEN/NOTIFY), TLS modes passed through
 * to libpq (verify-full against the right and a wrong CA), a COMMIT whose
 * connection is lost (nothing left busy), and the server restarting
 * under an open store (failures while it is down write nothing; the
 * handle reconnects after). Each case uses a schema of its own.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../runner/store.h"
#include "../../runner/store_pg.h" /* store_pg_lease_undo_later, for the lost-reply case */
#include "t.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"

static const char *g_dsn;
static int g_n;

static int g_swept;
static void on_swept(int n, void *arg)
{
	__atomic_add_fetch((int *)arg, n, __ATOMIC_SEQ_CST);
}

static void schema_name(const char *what, char *out, size_t cap)
{
	snprintf(out, cap, "pg%ld_%s_%d", (long)getpid(), what, g_n++);
}

static struct store_config cfg(const char *schema)
{
	struct store_config sc = { .pg_url = g_dsn, .pg_schema = schema, .pg_pool = 2 };
	return sc;
}

/* One value of SQL (run with libpq directly), "" when none, "ERR" on failure. */
static void sql1(const char *sql, char *out, size_t cap)
{
	PGconn *c = PQconnectdb(g_dsn);
	PGresult *r = NULL;

	snprintf(out, cap, "ERR");
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			snprintf(out, cap, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
		else if (PQresultStatus(r) == PGRES_COMMAND_OK)
			snprintf(out, cap, "%s", PQcmdTuples(r));
	}
	PQclear(r);
	PQfinish(c);
}

static int claim(struct store *s, const char *key, struct store_claim_res *r)
{
	return store_claim(s, "h", key, H1, (const unsigned char *)"{}", 2, NULL, 1000, r);
}

static enum jobstate state_of(struct store *s, int64_t id)
{
	struct store_job j;
	enum jobstate st = JOBSTATE_NONE;

	if (store_job_get(s, id, &j) == 0)
		st = j.state;
	store_job_clear(&j);
	return st;
}

static void test_migrate_from_empty(void)
{
	char schema[64], sql[256], v[128];
	struct store_config sc;
	struct store *s = NULL;
	enum store_why why = STORE_WHY_NONE;

	schema_name("mig", schema, sizeof schema);
	sc = cfg(schema);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "0");
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), 0);
	store_close(s);
	s = NULL;
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "1");
	snprintf(sql, sizeof sql, "SELECT version FROM \"%s\".schema_version", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "2");
	snprintf(sql, sizeof sql, "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM"
	    " information_schema.tables WHERE table_schema = '%s'", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "approval_seq,approval_votes,approvals,deliveries,instances,jobs,jwt_ids,schema_version");
	/* opened again: nothing to do, still version 2 */
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), 0);
	store_close(s);
	s = NULL;
	/* a newer build's schema is refused and left as it is */
	snprintf(sql, sizeof sql, "UPDATE \"%s\".schema_version SET version = 99", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "1");
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), -EPROTO);
	T_EQ_INT(why, STORE_WHY_NEWER);
	T_CHECK(s == NULL);
	snprintf(sql, sizeof sql, "SELECT version FROM \"%s\".schema_version", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "99");
}

struct starter {
	struct store_config sc;
	pthread_barrier_t *go;
	int rc;
};

static void *start_one(void *arg)
{
	struct starter *x = arg;
	struct store *s = NULL;

	pthread_barrier_wait(x->go);
	x->rc = store_open(&x->sc, &s, 1, NULL, NULL);
	store_close(s);
	return NULL;
}

/* Eight instances start at once on a new schema: every one opens it, and
 * it was created and migrated once. */
static void test_concurrent_start(void)
{
	enum { N = 8 };
	struct starter x[N];
	pthread_t th[N];
	pthread_barrier_t go;
	char schema[64], sql[256], v[64];
	int i;

	schema_name("start", schema, sizeof schema);
	pthread_barrier_init(&go, NULL, N);
	for (i = 0; i < N; i++) {
		x[i] = (struct starter){ .sc = cfg(schema), .go = &go };
		pthread_create(&th[i], NULL, start_one, &x[i]);
	}
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < N; i++)
		T_EQ_INT(x[i].rc, 0);
	snprintf(sql, sizeof sql, "SELECT count(*) || ':' || max(version) FROM \"%s\".schema_version", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "1:2");
}

/* A store of layout 1 (before approvals: made here by taking version 2's
 * additions back with libpq) is brought to 2 at open: its jobs are kept,
 * ids go on after them, and an approval claim works. */
static void test_migrate_1_to_2(void)
{
	static const char *const down[] = {
		"DROP TABLE approval_votes", "DROP TABLE approvals", "DROP TABLE approval_seq",
		"ALTER TABLE jobs DROP CONSTRAINT jobs_state_check",
		"ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running',"
		" 'succeeded', 'failed', 'timeout', 'interrupted'))",
		"UPDATE schema_version SET version = 1",
	};
	struct store_approval_req ar = { .id = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", .required = 1,
		.expires_ms = 999999 };
	struct store_claim_req rq = { .hook = "h", .key = "k2", .body_sha256 = H1,
		.body = (const unsigned char *)"{}", .len = 2, .now_ms = 1000,
		.initial_state = JOBSTATE_PENDING_APPROVAL, .approval = &ar };
	char schema[64], sql[512], v[64];
	struct store_config sc;
	struct store *s = NULL;
	struct store_claim_res r1, r2;
	struct store_approval a;
	enum store_why why = STORE_WHY_NONE;
	size_t i;

	memset(&a, 0, sizeof a);
	schema_name("mig12", schema, sizeof schema);
	sc = cfg(schema);
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), 0);
	T_EQ_INT(claim(s, "k1", &r1), 0);
	T_EQ_INT(r1.kind, STORE_NEW);
	store_close(s);
	s = NULL;
	for (i = 0; i < sizeof down / sizeof down[0]; i++) {
		snprintf(sql, sizeof sql, "SET search_path TO \"%s\"; %s", schema, down[i]);
		sql1(sql, v, sizeof v);
		T_CHECK(strcmp(v, "ERR") != 0);
	}
	/* a layout 1 store refuses the new states: the downgrade took */
	snprintf(sql, sizeof sql, "UPDATE \"%s\".jobs SET state = 'denied'", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "ERR");
	T_EQ_INT(store_open(&sc, &s, 0, NULL, &why), 0);
	snprintf(sql, sizeof sql, "SELECT version FROM \"%s\".schema_version", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "2");
	T_EQ_INT(state_of(s, r1.job_id), JOBSTATE_RUNNING);
	T_EQ_INT(store_claim_req(s, &rq, &r2), 0);
	T_EQ_INT(r2.kind, STORE_NEW);
	T_CHECK(r2.job_id > r1.job_id);
	T_EQ_INT(state_of(s, r2.job_id), JOBSTATE_PENDING_APPROVAL);
	T_EQ_INT(store_approval_by_job(s, r2.job_id, &a), 0);
	T_EQ_STR(a.id, ar.id);
	T_EQ_INT(a.state, STORE_APPROVAL_PENDING);
	T_EQ_INT(a.seq, 1);
	store_approval_clear(&a);
	store_close(s);
}

/* ---- approvals across instances: several handles, one store ---------- */

enum { AN = 6 };
struct appr_worker {
	struct store *s;
	pthread_barrier_t *go;
	int what, i, rc, kind, won;
	const char *id;
	int64_t seq;
	size_t expired;
};

/* A pending_approval claim of key "ak<I>" (approval id of I) on hook "h". */
static int claim_appr(struct store *s, int i, int64_t expires, int max, struct store_claim_res *r)
{
	char id[STORE_APPROVAL_ID_LEN + 1], key[16];
	struct store_approval_req ar = { .id = id, .required = 1, .expires_ms = expires };
	struct store_claim_req rq = { .hook = "h", .key = key, .body_sha256 = H1,
		.body = (const unsigned char *)"{}", .len = 2, .now_ms = 1000,
		.initial_state = JOBSTATE_PENDING_APPROVAL, .approval = &ar, .max_queued = max };

	snprintf(id, sizeof id, "%032x", i);
	snprintf(key, sizeof key, "ak%d", i);
	return store_claim_req(s, &rq, r);
}

static void *appr_one(void *arg)
{
	struct appr_worker *w = arg;
	struct store_claim_res r;
	struct store_approval *v = NULL;
	size_t n = 0;

	pthread_barrier_wait(w->go);
	if (w->what == 0) {        /* a claim under the cap of 3 */
		w->rc = claim_appr(w->s, w->i, 999999, 3, &r);
		w->kind = r.kind;
	} else if (w->what == 1) { /* claim one change's showing */
		w->rc = store_approval_claim_sync(w->s, w->id, w->seq, &w->won);
	} else {                   /* expire in batches of 4 until none is left */
		do {
			w->rc = store_approvals_expire(w->s, 5000, 4, &v, &n);
			w->expired += w->rc ? 0 : n;
			store_approvals_free(v, n);
			v = NULL;
		} while (!w->rc && n == 4);
	}
	return NULL;
}

/* Run AN workers doing WHAT at once, worker i on handle h[i]. */
static void appr_race(struct store **h, struct appr_worker *w, int what, const char *id, int64_t seq)
{
	pthread_t th[AN];
	pthread_barrier_t go;
	int i;

	pthread_barrier_init(&go, NULL, AN);
	for (i = 0; i < AN; i++) {
		w[i] = (struct appr_worker){ .s = h[i], .go = &go, .what = what, .i = i + 1, .id = id,
			.seq = seq };
		pthread_create(&th[i], NULL, appr_one, &w[i]);
	}
	for (i = 0; i < AN; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
}

/* Six handles (instances) at once: six claims under a cap of 3 pending
 * approvals store 3; six claims of one change's showing make one winner;
 * expiry from six handles expires every due approval once, each with a
 * change seq of its own. */
static void test_approvals_across_handles(void)
{
	struct store *h[AN] = { 0 };
	struct appr_worker w[AN];
	struct store_claim_res r;
	struct store_approval a, *v = NULL;
	char schema[64], sql[256], val[64];
	struct store_config sc;
	int i, nnew = 0, nfull = 0, nwon = 0, n = -1;
	size_t total = 0, nv = 0, k;

	memset(&a, 0, sizeof a);
	schema_name("appr", schema, sizeof schema);
	sc = cfg(schema);
	for (i = 0; i < AN; i++)
		T_EQ_INT(store_open(&sc, &h[i], 0, NULL, NULL), 0);
	if (!h[AN - 1])
		goto out;
	appr_race(h, w, 0, NULL, 0);
	for (i = 0; i < AN; i++) {
		T_EQ_INT(w[i].rc, 0);
		nnew += w[i].kind == STORE_NEW;
		nfull += w[i].kind == STORE_FULL;
	}
	T_EQ_INT(nnew, 3);
	T_EQ_INT(nfull, 3);
	T_EQ_INT(store_approvals_count_pending(h[0], &n), 0);
	T_EQ_INT(n, 3);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\".jobs", schema);
	sql1(sql, val, sizeof val);
	T_EQ_STR(val, "3"); /* a refused claim leaves nothing */

	/* one change's showing: of six claimers exactly one wins */
	T_EQ_INT(store_approvals_pending(h[0], NULL, 10, &v, &nv), 0);
	T_EQ_INT((int)nv, 3);
	if (nv == 3) {
		appr_race(h, w, 1, v[0].id, v[0].seq);
		for (i = 0; i < AN; i++) {
			T_EQ_INT(w[i].rc, 0);
			nwon += w[i].won;
		}
		T_EQ_INT(nwon, 1);
		T_EQ_INT(store_approval_get(h[1], v[0].id, &a), 0);
		T_EQ_INT(a.synced_seq, v[0].seq);
		store_approval_clear(&a);
	}
	store_approvals_free(v, nv);
	v = NULL;

	/* 20 more, due at 2000 (no cap), then expiry from every handle at once */
	for (i = 100; i < 120; i++) {
		T_EQ_INT(claim_appr(h[i % AN], i, 2000, 0, &r), 0);
		T_EQ_INT(r.kind, STORE_NEW);
	}
	appr_race(h, w, 2, NULL, 0);
	for (i = 0; i < AN; i++) {
		T_EQ_INT(w[i].rc, 0);
		total += w[i].expired;
	}
	T_EQ_INT((int)total, 20);
	T_EQ_INT(store_approvals_count_pending(h[0], &n), 0);
	T_EQ_INT(n, 3); /* the first three expire later */
	snprintf(sql, sizeof sql, "SELECT count(*) || '/' || count(DISTINCT seq) FROM \"%s\".approvals"
	    " WHERE state = 'expired'", schema);
	sql1(sql, val, sizeof val);
	T_EQ_STR(val, "20/20");
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\".jobs WHERE state = 'expired'"
	    " AND http_status = 403", schema);
	sql1(sql, val, sizeof val);
	T_EQ_STR(val, "20");
	/* every change has a seq of its own and the counter is the highest */
	T_EQ_INT(store_approvals_changed(h[2], 0, 1000, &v, &nv), 0);
	for (k = 1; k < nv; k++)
		T_CHECK(v[k].seq > v[k - 1].seq);
	{
		int64_t mx = 0;
		T_EQ_INT(store_approvals_max_seq(h[3], &mx), 0);
		T_CHECK(nv > 0 && mx == v[nv - 1].seq);
	}
	store_approvals_free(v, nv);
out:
	for (i = 0; i < AN; i++)
		store_close(h[i]);
}

/* An instance dies (a child process that claims and _exits without
 * closing): its running job stays running while its lease lasts, then the
 * live instance's heartbeat marks it interrupted, and the next delivery
 * retries it once. The live instance's own running job is never marked. */
static void test_lease_expiry(void)
{
	char schema[64];
	struct store_config sc, dead;
	struct store *live = NULL, *cli = NULL;
	struct store_claim_res mine, r;
	int fds[2], status = 0, waited = 0;
	int64_t theirs = 0;
	pid_t pid;

	schema_name("lease", schema, sizeof schema);
	sc = cfg(schema);
	sc.pg_lease_ms = 1000;
	sc.pg_heartbeat_ms = 200;
	T_EQ_INT(store_open(&sc, &live, 1, NULL, NULL), 0);
	if (!live)
		return;
	store_on_interrupted(live, on_swept, &g_swept);
	T_EQ_INT(store_open(&sc, &cli, 0, NULL, NULL), 0); /* a CLI: never sweeps */
	T_EQ_INT(claim(live, "mine", &mine), 0);
	T_EQ_INT(mine.kind, STORE_NEW);
	dead = sc;
	dead.pg_lease_ms = 3000;
	dead.pg_heartbeat_ms = 500;
	T_EQ_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct store *s = NULL;
		struct store_claim_res c;
		int64_t id = -1;

		if (store_open(&dead, &s, 1, NULL, NULL) == 0 && claim(s, "theirs", &c) == 0 && c.kind == STORE_NEW)
			id = c.job_id;
		if (write(fds[1], &id, sizeof id) != (ssize_t)sizeof id)
			_exit(2);
		_exit(0); /* dies: no close, its lease is left to expire */
	}
	close(fds[1]);
	T_EQ_INT((int)read(fds[0], &theirs, sizeof theirs), (int)sizeof theirs);
	close(fds[0]);
	waitpid(pid, &status, 0);
	T_CHECK(theirs > 0);
	if (theirs <= 0)
		goto out;
	/* the lease (3 s) still holds: running, and busy to a redelivery */
	T_EQ_INT(state_of(live, theirs), JOBSTATE_RUNNING);
	T_EQ_INT(claim(live, "theirs", &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY);
	while (state_of(cli, theirs) == JOBSTATE_RUNNING && waited < 200) { /* 20 s at most */
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		waited++;
	}
	printf("# info dead instance's job interrupted %d ms after it died (lease 3000 ms)\n", waited * 100);
	T_EQ_INT(state_of(cli, theirs), JOBSTATE_INTERRUPTED);
	for (int i = 0; i < 20 && !__atomic_load_n(&g_swept, __ATOMIC_SEQ_CST); i++)
		usleep(50 * 1000); /* told just after the marking commits */
	T_EQ_INT(__atomic_load_n(&g_swept, __ATOMIC_SEQ_CST), 1); /* the daemon is told, once */
	T_CHECK(waited >= 15); /* not before the lease ran out (3 s, give or take a beat) */
	T_EQ_INT(state_of(cli, mine.job_id), JOBSTATE_RUNNING); /* a live lease: left alone */
	T_EQ_INT(claim(live, "theirs", &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	T_EQ_INT(claim(live, "theirs", &r), 0); /* exactly once more */
	T_EQ_INT(r.kind, STORE_BUSY);
out:
	store_close(cli);
	store_close(live);
}

static int g_woken;
static pthread_mutex_t g_wmu = PTHREAD_MUTEX_INITIALIZER;

static void woken(void *arg)
{
	pthread_mutex_lock(&g_wmu);
	g_woken += arg == &g_woken;
	pthread_mutex_unlock(&g_wmu);
}

static int woken_count(void)
{
	int n;

	pthread_mutex_lock(&g_wmu);
	n = g_woken;
	pthread_mutex_unlock(&g_wmu);
	return n;
}

/* A job queued through another instance's handle wakes this one's takers
 * (LISTEN/NOTIFY), and so does one put back in the queue; a running claim
 * does not. */
static void test_notify_wakes(void)
{
	char schema[64];
	struct store_config sc;
	struct store *a = NULL, *b = NULL;
	struct store_claim_res r;
	struct store_job j;
	char *body = NULL, *meta = NULL;
	size_t len;
	int waited, base;

	schema_name("notify", schema, sizeof schema);
	sc = cfg(schema);
	sc.pg_heartbeat_ms = 200;
	T_EQ_INT(store_open(&sc, &a, 1, NULL, NULL), 0);
	T_EQ_INT(store_open(&sc, &b, 0, NULL, NULL), 0);
	if (!a || !b)
		goto out;
	store_on_queued(a, woken, &g_woken);
	for (waited = 0; waited < 20 && !woken_count(); waited++) /* the first look once it listens */
		usleep(100 * 1000);
	usleep(300 * 1000);
	base = woken_count();
	T_EQ_INT(claim(b, "running", &r), 0); /* not queued: no wake-up */
	usleep(500 * 1000);
	T_EQ_INT(woken_count(), base);
	T_EQ_INT(store_claim_state(b, "h", "queued", H1, (const unsigned char *)"{}", 2, NULL, 1000,
	    JOBSTATE_QUEUED, &r), 0);
	for (waited = 0; waited < 50 && woken_count() == base; waited++)
		usleep(20 * 1000);
	printf("# info woken %d ms after another handle queued a job\n", waited * 20);
	T_CHECK(woken_count() > base);
	base = woken_count();
	T_EQ_INT(store_take_queued(b, 2000, &j, &body, &len, &meta), 0);
	T_EQ_INT(store_requeue(b, j.id), 0);
	store_job_clear(&j);
	free(body);
	free(meta);
	for (waited = 0; waited < 50 && woken_count() == base; waited++)
		usleep(20 * 1000);
	T_CHECK(woken_count() > base);
	store_on_queued(a, NULL, NULL);
out:
	store_close(b);
	store_close(a);
}

/* libpq's TLS parameters in the URL pass through: verify-full with the CA
 * that signed the server's certificate opens the store; with another CA it
 * is refused (the certificate is checked, not just TLS used), and so is
 * nothing when TLS is required of a connection that cannot have it. */
static void test_tls_modes(void)
{
	const char *ca = getenv("STORE_TEST_PG_CA"), *other = getenv("STORE_TEST_PG_CA_OTHER");
	char schema[64], url[1024], err[256];
	struct store_config sc;
	struct store *s = NULL;

	schema_name("tls", schema, sizeof schema);
	snprintf(url, sizeof url, "%s%ssslmode=verify-full&sslrootcert=%s", g_dsn, strchr(g_dsn, '?') ? "&" : "?", ca);
	sc = cfg(schema);
	sc.pg_url = url;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, NULL), 0);
	store_close(s);
	s = NULL;
	snprintf(url, sizeof url, "%s%ssslmode=verify-full&sslrootcert=%s", g_dsn, strchr(g_dsn, '?') ? "&" : "?", other);
	sc.open_err = err;
	sc.open_errlen = sizeof err;
	err[0] = 0;
	T_EQ_INT(store_open(&sc, &s, 0, NULL, NULL), -ENOTCONN);
	T_CHECK(s == NULL);
	printf("# info verify-full with another CA: %s\n", err);
	T_CHECK(strstr(err, "certificate") != NULL);
	T_CHECK(strstr(err, getenv("STORE_TEST_PG_PASSWORD") ? getenv("STORE_TEST_PG_PASSWORD") : "\x01") == NULL);
}

struct slow_claim {
	struct store *s;
	int rc;
	struct store_claim_res r;
};

static void *claim_slowly(void *arg)
{
	struct slow_claim *x = arg;

	x->rc = claim(x->s, "lost", &x->r);
	return NULL;
}

/* A claim whose COMMIT loses its connection: a deferred trigger holds the
 * COMMIT while the test terminates the backend. The claim fails (503 for
 * the sender), nothing is left behind, and the redelivery is new, not busy.
 * Then the other half, a commit that happened but whose answer was lost:
 * the claim, committed, is handed to the heartbeat as such a claim would
 * be, and is taken back, so the redelivery is new again. And a job whose
 * outcome could not be written is marked interrupted. */
static void test_lost_commit(void)
{
	char schema[64], sql[512], v[64];
	struct store_config sc;
	struct store *s = NULL;
	struct slow_claim x = { 0 };
	struct store_claim_res r;
	pthread_t th;
	int i;

	schema_name("lost", schema, sizeof schema);
	sc = cfg(schema);
	sc.pg_heartbeat_ms = 200;
	T_EQ_INT(store_open(&sc, &s, 1, NULL, NULL), 0);
	if (!s)
		return;
	snprintf(sql, sizeof sql, "CREATE FUNCTION \"%s\".slow() RETURNS trigger LANGUAGE plpgsql AS"
	    " $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$", schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "");
	snprintf(sql, sizeof sql, "CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON \"%s\".jobs DEFERRABLE"
	    " INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION \"%s\".slow()", schema, schema);
	sql1(sql, v, sizeof v);
	T_EQ_STR(v, "");
	x.s = s;
	pthread_create(&th, NULL, claim_slowly, &x);
	for (i = 0; i < 50; i++) { /* until the claim sits in its COMMIT */
		sql1("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'webhook-runner'"
		     " AND query = 'COMMIT' AND state = 'active'", v, sizeof v);
		if (!strcmp(v, "1"))
			break;
		usleep(50 * 1000);
	}
	T_EQ_STR(v, "1");
	sql1("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name ="
	     " 'webhook-runner' AND query = 'COMMIT' AND state = 'active'", v, sizeof v);
	T_EQ_STR(v, "1");
	pthread_join(th, NULL);
	T_EQ_INT(x.rc, -ENOTCONN);
	snprintf(sql, sizeof sql, "DROP TRIGGER slow ON \"%s\".jobs", schema);
	sql1(sql, v, sizeof v);
	T_EQ_INT(claim(s, "lost", &r), 0);
	T_EQ_INT(r.kind, STORE_NEW); /* nothing was left behind */
	/* the lost answer of a commit that happened */
	store_pg_lease_undo_later((struct store_pg *)s, r.job_id, STORE_PG_UNDO_CLAIM);
	for (i = 0; i < 50 && state_of(s, r.job_id) != JOBSTATE_NONE; i++)
		usleep(100 * 1000);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_NONE); /* taken back by the heartbeat */
	T_EQ_INT(claim(s, "lost", &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	/* a job whose outcome could not be written (the server stayed away past
	 * store_finish's retries): interrupted once it is back, run again by
	 * the next delivery */
	store_pg_lease_undo_later((struct store_pg *)s, r.job_id, STORE_PG_UNDO_FINISH);
	for (i = 0; i < 50 && state_of(s, r.job_id) == JOBSTATE_RUNNING; i++)
		usleep(100 * 1000);
	T_EQ_INT(state_of(s, r.job_id), JOBSTATE_INTERRUPTED);
	T_EQ_INT(claim(s, "lost", &r), 0);
	T_EQ_INT(r.kind, STORE_RETRY);
	T_EQ_INT(r.attempt, 2);
	store_close(s);
}

static int run_cmd(const char *env)
{
	const char *cmd = getenv(env);
	return cmd && *cmd ? system(cmd) : -1;
}

/* The server stops under an open store: operations fail (-ENOTCONN,
 * health says so) and write nothing; once it is back the same handle
 * reconnects, and a redelivery of what failed is new. */
static void test_reconnect_after_restart(void)
{
	char schema[64];
	struct store_config sc;
	struct store *s = NULL;
	struct store_claim_res r;
	enum store_why why = STORE_WHY_NONE;
	int rc, n = 0;

	schema_name("restart", schema, sizeof schema);
	sc = cfg(schema);
	sc.pg_connect_timeout_s = 2;
	T_EQ_INT(store_open(&sc, &s, 1, NULL, NULL), 0);
	if (!s)
		return;
	T_EQ_INT(claim(s, "before", &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	T_EQ_INT(run_cmd("STORE_TEST_PG_STOP"), 0);
	rc = claim(s, "during", &r);
	T_EQ_INT(rc, -ENOTCONN);
	T_EQ_INT(store_health(s, &why), -ENOTCONN);
	T_EQ_INT(why, STORE_WHY_GONE);
	T_CHECK(strstr(store_errmsg(s), "postgresql") != NULL);
	T_EQ_INT(run_cmd("STORE_TEST_PG_START"), 0);
	T_EQ_INT(store_health(s, &why), 0);
	T_EQ_INT(claim(s, "during", &r), 0);
	T_EQ_INT(r.kind, STORE_NEW); /* the failed claim wrote nothing */
	T_EQ_INT(claim(s, "before", &r), 0);
	T_EQ_INT(r.kind, STORE_BUSY); /* and the one before survived */
	T_EQ_INT(store_count_queued(s, &n), 0);
	T_EQ_INT(n, 0);
	store_close(s);
}

int main(void)
{
	g_dsn = getenv("STORE_TEST_PG_DSN");
	if (!g_dsn || !*g_dsn) {
		printf("skip runner_store_pg: STORE_TEST_PG_DSN is not set (tests/run.sh sets it when it "
		       "starts a PostgreSQL server with tests/pg.sh)\n");
		return 0;
	}
	T_RUN(test_migrate_from_empty);
	T_RUN(test_concurrent_start);
	T_RUN(test_migrate_1_to_2);
	T_RUN(test_approvals_across_handles);
	T_RUN(test_lease_expiry);
	T_RUN(test_notify_wakes);
	T_RUN(test_lost_commit);
	if (getenv("STORE_TEST_PG_CA") && getenv("STORE_TEST_PG_CA_OTHER"))
		T_RUN(test_tls_modes);
	else
		printf("skip test_tls_modes: STORE_TEST_PG_CA/CA_OTHER are not set (tests/run.sh sets them with "
		       "the server it starts)\n");
	if (getenv("STORE_TEST_PG_STOP") && getenv("STORE_TEST_PG_START"))
		T_RUN(test_reconnect_after_restart);
	else
		printf("skip test_reconnect_after_restart: STORE_TEST_PG_STOP/START are not set (tests/run.sh "
		       "sets them with the server it starts)\n");
	return T_EXIT();
}
