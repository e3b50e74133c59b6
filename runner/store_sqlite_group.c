/*
 * store_sqlite_group.c — group commit for the SQLite backend (store_sqlite.h):
 * the writes that answer a request (claims, outcomes, takes, unclaims) that
 * arrive while a commit is in flight are committed together, in one
 * transaction and one fsync, by one of their threads (the leader).
 *
 * How:
 *  - Each write is an op: a function that does its statements inside an
 *    open transaction, and its argument. A thread queues its op under the
 *    group's own mutex (never s->base.mu, which the leader holds while it
 *    commits) and waits on its op's condition variable.
 *  - The first thread to find no leader becomes one. The leader takes the
 *    whole queue (its own op and everything queued behind it), and under
 *    s->base.mu runs BEGIN IMMEDIATE, then each op inside a SAVEPOINT of
 *    its own, then one COMMIT (synchronous=FULL: one WAL fsync). An op that
 *    fails, or that asks for its writes to be undone (a refused claim), is
 *    rolled back to its savepoint: it gets its own answer and the others
 *    are untouched. Nobody returns before the COMMIT returned, so no
 *    answer goes out before its write is durable; and an op that only read
 *    (a busy claim, which may have read a peer's write of the same group)
 *    waits for that commit too.
 *  - A failed COMMIT, or a failure that made SQLite roll the whole
 *    transaction back (disk full, I/O error), fails every op of the group
 *    with that error: nothing of it was committed, so nothing is answered
 *    as done.
 *  - When the leader is done it wakes its group and hands the leadership
 *    to the oldest op queued meanwhile (which then commits the next group),
 *    so a thread leads one group at most and no request waits for more
 *    than the commit in flight and its own.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store_sqlite.h"

struct store_sqlite_gop {
	store_sqlite_group_fn fn;
	void *arg;
	int rc;
	int done, lead;
	pthread_cond_t cv;
	struct store_sqlite_gop *next;
};

int store_sqlite_group_init(struct store_sqlite *s)
{
	memset(&s->group, 0, sizeof s->group);
	if (pthread_mutex_init(&s->group.mu, NULL))
		return -ENOMEM;
	s->group.tail = &s->group.head;
	s->group.ok = 1;
	return 0;
}

void store_sqlite_group_fini(struct store_sqlite *s)
{
	if (s->group.ok)
		pthread_mutex_destroy(&s->group.mu);
	s->group.ok = 0;
}

/* Run statement I (SAVEPOINT, RELEASE, ROLLBACK TO). */
static int run_q(struct store_sqlite *s, int i)
{
	return store_sqlite_run(s, store_sqlite_stmt(s, i));
}

/* Fail every op of BATCH that succeeded with RC: the transaction holding
 * their writes is gone. */
static void fail_all(struct store_sqlite_gop *batch, int rc)
{
	struct store_sqlite_gop *o;

	for (o = batch; o; o = o->next)
		if (o->rc == 0)
			o->rc = rc;
}

/* One op inside the open transaction, in a savepoint of its own. 0 when the
 * transaction is still open (whatever the op's own answer), else the error
 * that ended it. */
static int run_one(struct store_sqlite *s, struct store_sqlite_gop *o)
{
	int keep = 1, rc;

	rc = run_q(s, Q_SAVEPOINT);
	if (rc) {
		o->rc = rc;
		return sqlite3_get_autocommit(s->db) ? rc : 0;
	}
	o->rc = o->fn(s, o->arg, &keep);
	if (sqlite3_get_autocommit(s->db)) /* SQLite rolled the whole transaction back */
		return o->rc ? o->rc : -EIO;
	if (o->rc || !keep) {
		rc = run_q(s, Q_ROLLBACK_TO);
		if (rc) {
			if (!o->rc)
				o->rc = rc;
			return rc;
		}
	}
	rc = run_q(s, Q_RELEASE);
	if (rc && !o->rc)
		o->rc = rc;
	return rc;
}

/* Commit BATCH (a list of ops) in one transaction, each op's answer in its
 * rc. Takes s->base.mu for it. */
static void commit_batch(struct store_sqlite *s, struct store_sqlite_gop *batch)
{
	struct store_sqlite_gop *o;
	int rc, n = 0;

	for (o = batch; o; o = o->next)
		o->rc = 0;
	pthread_mutex_lock(&s->base.mu);
	rc = store_sqlite_begin(s);
	if (rc)
		goto fail;
	for (o = batch; o; o = o->next) {
		n++;
		rc = run_one(s, o);
		if (rc)
			goto fail;
	}
	rc = store_sqlite_commit(s);
	if (rc)
		goto fail;
	s->group.commits++;
	s->group.ops += (uint64_t)n;
	if (n > s->group.largest)
		s->group.largest = n;
	pthread_mutex_unlock(&s->base.mu);
	return;
fail:
	store_sqlite_rollback(s);
	fail_all(batch, rc);
	pthread_mutex_unlock(&s->base.mu);
}

int store_sqlite_group_run(struct store_sqlite *s, store_sqlite_group_fn fn, void *arg)
{
	struct store_sqlite_gop me = { .fn = fn, .arg = arg }, *batch, *o, *next;
	int rc;

	if (pthread_cond_init(&me.cv, NULL))
		return -ENOMEM;
	pthread_mutex_lock(&s->group.mu);
	*s->group.tail = &me;
	s->group.tail = &me.next;
	if (!s->group.leader) {
		s->group.leader = 1;
		me.lead = 1;
	}
	while (!me.done && !me.lead)
		pthread_cond_wait(&me.cv, &s->group.mu);
	if (me.done)
		goto out;
	/* the leader: everything queued so far is this group (me among it) */
	batch = s->group.head;
	s->group.head = NULL;
	s->group.tail = &s->group.head;
	pthread_mutex_unlock(&s->group.mu);
	commit_batch(s, batch);
	pthread_mutex_lock(&s->group.mu);
	for (o = batch; o; o = next) {
		next = o->next; /* a woken op may return and its stack go */
		o->done = 1;
		if (o != &me)
			pthread_cond_signal(&o->cv);
	}
	if (s->group.head) { /* the next group's leader */
		s->group.head->lead = 1;
		pthread_cond_signal(&s->group.head->cv);
	} else {
		s->group.leader = 0;
	}
out:
	rc = me.rc;
	pthread_mutex_unlock(&s->group.mu);
	pthread_cond_destroy(&me.cv);
	return rc;
}

void store_sqlite_group_stats(struct store *b, uint64_t *commits, uint64_t *ops, int *largest)
{
	struct store_sqlite *s = (struct store_sqlite *)b;

	pthread_mutex_lock(&s->base.mu);
	*commits = s->group.commits;
	*ops = s->group.ops;
	*largest = s->group.largest;
	pthread_mutex_unlock(&s->base.mu);
}
