/*
 * store_claim.c — benchmark: does the idempotency claim (runner/store*.c) stay
 * flat as the store grows? Fills a store with N keys (default 1000 and
 * 1000000), then measures the mean cost of
 *   - a NEW claim (lookup + delivery + job insert + commit; with
 *     synchronous=FULL the WAL fsync is part of it), and
 *   - a REPLAY claim of a random existing key (the lookup alone, no write),
 * and prints both for each N and their ratio largest/smallest.
 *
 * Filling 1M keys through store_claim + store_finish costs two fsyncs per key
 * (far over the few minutes we allow), so the fill is a direct bulk insert
 * into the store's own schema (one transaction, rows as store_claim and
 * store_finish would leave them, keys in random order). The API's own fill
 * rate is measured on the first 1000 keys and printed, for the record.
 *
 * Built and run by bench/run.sh (`make bench`, section 5), or by hand:
 *   cc -O2 -D_GNU_SOURCE -Irunner bench/store_claim.c runner/store.c runner/store_sqlite*.c \
 *       runner/store_pg*.c runner/jobstate.c common/clock.c common/randid.c \
 *       $(pkg-config --cflags --libs sqlite3 libpq) -lpthread -o /tmp/b
 *   /tmp/b [N...]          (files go to a mkdtemp dir under $TMPDIR or /tmp)
 *   STORE_CLAIM_PRAGMAS="PRAGMA mmap_size = 1073741824" /tmp/b   (tuning experiments)
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define MEASURE 2000 /* claims timed per figure */
#define BODY_LEN 256

static unsigned char body[BODY_LEN];

/* STORE_CLAIM_PRAGMAS (e.g. "PRAGMA cache_size = -65536"): run on every
 * connection SQLite opens in this process, the store's included, to measure
 * what a tuning of runner/store_sqlite.c would change without editing it. */
static int apply_pragmas(sqlite3 *db, char **err, const void *api)
{
	const char *p = getenv("STORE_CLAIM_PRAGMAS");

	(void)api;
	if (p && *p && sqlite3_exec(db, p, NULL, NULL, err) != SQLITE_OK)
		return SQLITE_ERROR;
	return SQLITE_OK;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Key number I, unique for every I (splitmix64 is a bijection). */
static void key_of(uint64_t i, char *buf, size_t cap)
{
	snprintf(buf, cap, "evt_%016" PRIx64, splitmix64(i));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keys FROM..TO-1 through the API: claim then finish, like the runner. */
static int fill_api(struct store *s, uint64_t from, uint64_t to)
{
	char key[64];
	struct store_claim_res r;
	struct store_outcome o = { .state = JOBSTATE_SUCCEEDED, .exit_code = 0, .http_status = 200,
		.response = "{\"status\":\"succeeded\",\"exit_code\":0}" };
	int rc;

	for (uint64_t i = from; i < to; i++) {
		key_of(i, key, sizeof key);
		rc = store_claim(s, "bench", key, SHA, body, sizeof body, NULL, 1000, &r);
		if (rc || r.kind != STORE_NEW)
			return rc ? rc : -EEXIST;
		o.started_ms = 1000;
		o.finished_ms = 1001;
		rc = store_finish(s, r.job_id, &o);
		if (rc)
			return rc;
	}
	return 0;
}

/* Keys FROM..TO-1 straight into the schema, in one transaction. */
static int fill_bulk(const char *path, uint64_t from, uint64_t to)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *d = NULL, *j = NULL;
	char key[64];
	int rc = -EIO;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	/* The fill is a fixture, not the store's work: no journal and no fsync
	 * (a crash here only means running the benchmark again), a cache that
	 * holds the whole file, so random-order keys do not thrash it. The next
	 * store_open puts the file back in WAL mode. */
	if (sqlite3_exec(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
	    " PRAGMA cache_size = -1048576; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO deliveries (hook, key, body_sha256, body, headers, "
	    "received_ms) VALUES ('bench', ?1, '" SHA "', ?2, NULL, 1000)", -1, &d, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO jobs (hook, key, attempt, state, body_sha256, "
	    "created_ms, started_ms, finished_ms, exit_code, http_status, response) VALUES "
	    "('bench', ?1, 1, 'succeeded', '" SHA "', 1000, 1000, 1001, 0, 200, "
	    "'{\"status\":\"succeeded\",\"exit_code\":0}')", -1, &j, NULL) != SQLITE_OK)
		goto out;
	for (uint64_t i = from; i < to; i++) {
		key_of(i, key, sizeof key);
		sqlite3_bind_text(d, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(d, 2, body, sizeof body, SQLITE_STATIC);
		sqlite3_bind_text(j, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(d) != SQLITE_DONE || sqlite3_step(j) != SQLITE_DONE)
			goto out;
		sqlite3_reset(d);
		sqlite3_reset(j);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bulk fill: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(d);
	sqlite3_finalize(j);
	sqlite3_close(db);
	return rc;
}

struct figures {
	double new_us, replay_us, new_p50, replay_p50;
};

static double samples[MEASURE];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of the samples in microseconds (the mean is what we report; the
 * median shows how much of it is noise from a shared machine). */
static double median_us(void)
{
	qsort(samples, MEASURE, sizeof samples[0], cmp_double);
	return samples[MEASURE / 2] * 1e6;
}

static int measure(const char *dir, uint64_t n, struct figures *f)
{
	char path[512], key[64];
	struct store *s = NULL;
	struct store_claim_res r;
	struct stat st;
	uint64_t api = n < 1000 ? n : 1000, rnd = 12345;
	double t0, t, sum;
	int rc;

	snprintf(path, sizeof path, "%s/n%" PRIu64 ".db", dir, n);
	rc = store_open(&(struct store_config){ .sqlite_path = path }, &s, 0, NULL, NULL);
	if (rc)
		goto out;
	t0 = now_s();
	rc = fill_api(s, 0, api);
	if (rc)
		goto out;
	t = now_s() - t0;
	printf("N=%-8" PRIu64 " API fill (claim+finish): %.0f keys/s", n, (double)api / t);
	if (n > api)
		printf(", so %" PRIu64 " keys would take ~%.0f s", n, (double)n / ((double)api / t));
	printf("\n");
	store_close(s);
	s = NULL;
	if (n > api) {
		t0 = now_s();
		rc = fill_bulk(path, api, n);
		if (rc)
			goto out;
		printf("N=%-8" PRIu64 " bulk fill of the remaining %" PRIu64 " keys: %.1f s\n", n,
		    n - api, now_s() - t0);
	}
	/* fresh connection: no warm statement cache */
	rc = store_open(&(struct store_config){ .sqlite_path = path }, &s, 0, NULL, NULL);
	if (rc)
		goto out;

	sum = 0;
	for (uint64_t i = 0; i < MEASURE; i++) {
		key_of(n + i, key, sizeof key); /* never seen */
		t0 = now_s();
		rc = store_claim(s, "bench", key, SHA, body, sizeof body, NULL, 2000, &r);
		samples[i] = now_s() - t0;
		sum += samples[i];
		if (rc || r.kind != STORE_NEW) {
			rc = rc ? rc : -EEXIST;
			goto out;
		}
	}
	f->new_us = sum / MEASURE * 1e6;
	f->new_p50 = median_us();

	sum = 0;
	for (uint64_t i = 0; i < MEASURE; i++) {
		rnd = splitmix64(rnd);
		key_of(rnd % n, key, sizeof key); /* a random filled key */
		t0 = now_s();
		rc = store_claim(s, "bench", key, SHA, body, sizeof body, NULL, 2000, &r);
		samples[i] = now_s() - t0;
		sum += samples[i];
		if (rc || r.kind != STORE_REPLAY) {
			rc = rc ? rc : -EEXIST;
			goto out;
		}
		store_claim_res_clear(&r);
	}
	f->replay_us = sum / MEASURE * 1e6;
	f->replay_p50 = median_us();
	if (stat(path, &st) == 0)
		printf("N=%-8" PRIu64 " file %.1f MiB: NEW claim mean %.1f us (median %.1f),"
		    " REPLAY claim mean %.1f us (median %.1f)\n", n, (double)st.st_size / 1048576.0,
		    f->new_us, f->new_p50, f->replay_us, f->replay_p50);
out:
	if (rc)
		fprintf(stderr, "N=%" PRIu64 ": %s (%s)\n", n, strerror(-rc), s ? store_errmsg(s) : "");
	store_close(s);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t ns[8] = { 1000, 1000000 };
	struct figures f[8];
	char dir[256], cmd[300];
	const char *tmp = getenv("TMPDIR");
	int n = 2, i, rc = 0;

	if (argc > 1) {
		n = argc - 1 < 8 ? argc - 1 : 8;
		for (i = 0; i < n; i++)
			ns[i] = strtoull(argv[i + 1], NULL, 10);
	}
	if (getenv("STORE_CLAIM_PRAGMAS") && *getenv("STORE_CLAIM_PRAGMAS")) {
		sqlite3_auto_extension((void (*)(void))(void *)apply_pragmas);
		printf("on every connection: %s\n", getenv("STORE_CLAIM_PRAGMAS"));
	}
	for (i = 0; i < BODY_LEN; i++)
		body[i] = (unsigned char)('a' + i % 26);
	snprintf(dir, sizeof dir, "%s/store_claim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("sqlite %s, store synchronous=FULL, %d claims timed per figure\n", sqlite3_libversion(),
	    MEASURE);
	for (i = 0; i < n && !rc; i++)
		rc = measure(dir, ns[i] ? ns[i] : 1, &f[i]);
	if (!rc && n > 1)
		printf("ratio N=%" PRIu64 " / N=%" PRIu64 ": NEW mean %.2f (median %.2f),"
		    " REPLAY mean %.2f (median %.2f)\n", ns[n - 1], ns[0],
		    f[n - 1].new_us / f[0].new_us, f[n - 1].new_p50 / f[0].new_p50,
		    f[n - 1].replay_us / f[0].replay_us, f[n - 1].replay_p50 / f[0].replay_p50);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc ? 1 : 0;
}
