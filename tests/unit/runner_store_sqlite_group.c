/*
 * runner_store_sqlite_group.c — unit tests of the SQLite backend's group
 * commit (runner/store_sqlite_group.c), seen from below: the test registers
 * a SQLite VFS of its own as the default (a shim over the real one, in this
 * file only; the daemon has no such hook), which counts the fsyncs of the
 * WAL and can slow them down or make WAL writes and fsyncs fail as a full
 * disk or a failing device would. It checks that concurrent claims share
 * fsyncs (fewer fsyncs than claims, every claim answered and durable), and
 * that a commit that fails fails every claim of its group (-ENOSPC for a
 * full disk, -EIO for a failed fsync) with nothing of them stored, and the
 * store goes on working afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "../../runner/store_sqlite.h"
#include "store_sqlite_test.h"

/* ---- the shim VFS ---------------------------------------------------------- */

enum shim_fail { FAIL_NONE, FAIL_WAL_WRITE, FAIL_WAL_SYNC };

static sqlite3_vfs *g_real;
static sqlite3_vfs g_shim;
static atomic_int g_wal_syncs;  /* fsyncs of a WAL file that reached the disk */
static atomic_int g_failed;     /* WAL writes or fsyncs the shim failed */
static atomic_int g_sleep_ms;   /* added to each WAL fsync or failure */
static atomic_int g_fail;       /* enum shim_fail */

struct shim_file {
	sqlite3_file base;
	sqlite3_file *real; /* right after this struct */
	int wal;
};

static void pause_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&t, NULL);
}

#define REAL(f) (((struct shim_file *)(f))->real)
static int x_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int x_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int x_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	if (((struct shim_file *)f)->wal && atomic_load(&g_fail) == FAIL_WAL_WRITE) {
		atomic_fetch_add(&g_failed, 1);
		pause_ms(atomic_load(&g_sleep_ms));
		return SQLITE_FULL;
	}
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int x_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int x_sync(sqlite3_file *f, int flags)
{
	if (((struct shim_file *)f)->wal) {
		pause_ms(atomic_load(&g_sleep_ms));
		if (atomic_load(&g_fail) == FAIL_WAL_SYNC) {
			atomic_fetch_add(&g_failed, 1);
			return SQLITE_IOERR_FSYNC;
		}
		atomic_fetch_add(&g_wal_syncs, 1);
	}
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int x_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int x_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int x_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int x_reserved(sqlite3_file *f, int *r)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int x_fcntl(sqlite3_file *f, int op, void *a)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int x_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int x_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int x_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}
static int x_shmlock(sqlite3_file *f, int off, int n, int fl)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, fl);
}
static void x_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int x_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int x_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{
	return REAL(f)->pMethods->xFetch(REAL(f), o, n, p);
}
static int x_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static const sqlite3_io_methods g_io = {
	3, x_close, x_read, x_write, x_truncate, x_sync, x_size, x_lock, x_unlock, x_reserved,
	x_fcntl, x_sector, x_devchar, x_shmmap, x_shmlock, x_shmbarrier, x_shmunmap, x_fetch, x_unfetch,
};

static int x_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct shim_file *p = (struct shim_file *)f;
	int rc;

	(void)v;
	p->real = (sqlite3_file *)(p + 1);
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = g_real->xOpen(g_real, name, p->real, flags, out);
	p->base.pMethods = p->real->pMethods ? &g_io : NULL; /* SQLite closes what has methods */
	return rc;
}

/* The shim as the default VFS: every store opened from now on goes through it. */
static int shim_install(void)
{
	g_real = sqlite3_vfs_find(NULL);
	if (!g_real || g_real->iVersion < 2)
		return -1;
	g_shim = *g_real;
	g_shim.zName = "group-test-shim";
	g_shim.szOsFile = (int)sizeof(struct shim_file) + g_real->szOsFile;
	g_shim.xOpen = x_open;
	g_shim.pNext = NULL;
	return sqlite3_vfs_register(&g_shim, 1) == SQLITE_OK ? 0 : -1;
}

/* ---- claims at once --------------------------------------------------------- */

enum { N = 24 };

struct claimer {
	struct store *s;
	pthread_barrier_t *go;
	char key[32];
	int rc;
	struct store_claim_res r;
};

static void *claim_one(void *arg)
{
	struct claimer *x = arg;

	pthread_barrier_wait(x->go);
	x->rc = claim_q(x->s, "g", x->key, 1000, &x->r);
	return NULL;
}

static void claim_all(struct store *s, struct claimer *x, const char *prefix)
{
	pthread_t th[N];
	pthread_barrier_t go;
	int i;

	pthread_barrier_init(&go, NULL, N);
	for (i = 0; i < N; i++) {
		memset(&x[i], 0, sizeof x[i]);
		x[i].s = s;
		x[i].go = &go;
		snprintf(x[i].key, sizeof x[i].key, "%s-%d", prefix, i);
		pthread_create(&th[i], NULL, claim_one, &x[i]);
	}
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
}

/* 24 claims at once, each WAL fsync slowed to 20 ms so that they meet: all
 * NEW, fewer fsyncs than claims (at most half), and every one durable. */
static void test_claims_share_fsyncs(void)
{
	static struct claimer x[N];
	char path[128], sql[160];
	struct store *s = NULL;
	uint64_t commits = 0, ops = 0;
	int i, largest = 0, syncs;

	newpath(path, sizeof path, "share");
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	atomic_store(&g_sleep_ms, 20);
	atomic_store(&g_wal_syncs, 0);
	claim_all(s, x, "k");
	syncs = atomic_load(&g_wal_syncs);
	atomic_store(&g_sleep_ms, 0);
	store_sqlite_group_stats(s, &commits, &ops, &largest);
	printf("# info %d claims at once: %d WAL fsyncs, %llu groups, largest %d\n", N, syncs,
	    (unsigned long long)commits, largest);
	for (i = 0; i < N; i++) {
		T_EQ_INT(x[i].rc, 0);
		T_EQ_INT(x[i].r.kind, STORE_NEW);
	}
	T_CHECK(syncs >= 1 && syncs <= N / 2);
	T_CHECK(largest >= 2);
	T_EQ_INT(ops, N);
	store_close(s);
	for (i = 0; i < N; i++) { /* read back by another connection */
		snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE key = '%s' AND state = 'queued'",
		    x[i].key);
		T_EQ_INT(q1(path, sql), 1);
	}
}

/* 24 claims at once while every WAL write (or fsync) fails, each failure
 * taking 20 ms so the claims meet in groups: every claim gets ERR, fewer
 * commits failed than claims (they failed by groups), nothing of them is
 * stored, and once the disk is back the same keys claim as NEW. */
static void commit_fails(enum shim_fail how, int err, const char *name)
{
	static struct claimer x[N];
	char path[128];
	struct store *s = NULL;
	struct store_claim_res r;
	int i, failed;

	newpath(path, sizeof path, name);
	T_EQ_INT(sopen(path, 0, NULL, &s), 0);
	if (!s)
		return;
	T_EQ_INT(claim_q(s, "g", "before", 900, &r), 0); /* committed before the failures */
	T_EQ_INT(r.kind, STORE_NEW);
	atomic_store(&g_failed, 0);
	atomic_store(&g_sleep_ms, 20);
	atomic_store(&g_fail, how);
	claim_all(s, x, "f");
	atomic_store(&g_fail, FAIL_NONE);
	atomic_store(&g_sleep_ms, 0);
	failed = atomic_load(&g_failed);
	printf("# info %s: %d claims at once, %d failed commits\n", name, N, failed);
	for (i = 0; i < N; i++) {
		T_EQ_INT(x[i].rc, err);
		store_claim_res_clear(&x[i].r);
	}
	T_CHECK(failed >= 1 && failed <= N / 2);
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries WHERE key LIKE 'f-%'"), 0);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs WHERE key LIKE 'f-%'"), 0);
	T_EQ_INT(claim_q(s, "g", x[0].key, 1100, &r), 0); /* the store works again */
	T_EQ_INT(r.kind, STORE_NEW);
	store_close(s);
	T_EQ_INT(q1(path, "SELECT count(*) FROM jobs"), 2); /* "before" and the new one */
	T_EQ_INT(q1(path, "SELECT count(*) FROM deliveries WHERE key LIKE 'f-%'"), 1);
}

static void test_disk_full_fails_the_group(void)
{
	commit_fails(FAIL_WAL_WRITE, -ENOSPC, "full");
}

static void test_fsync_error_fails_the_group(void)
{
	commit_fails(FAIL_WAL_SYNC, -EIO, "fsync");
}

int main(void)
{
	if (sqlite_test_begin("runner_store_sqlite_group") != 0)
		return 1;
	if (shim_install() != 0) {
		printf("FAIL shim: cannot register the test VFS\n");
		return 1;
	}
	T_RUN(test_claims_share_fsyncs);
	T_RUN(test_disk_full_fails_the_group);
	T_RUN(test_fsync_error_fails_the_group);
	return sqlite_test_end();
}
