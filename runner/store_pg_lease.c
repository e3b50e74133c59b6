/*
 * store_pg_lease.c — the PostgreSQL backend's instances (store_pg.h):
 * registering this handle as an instance with a lease, the heartbeat
 * thread that renews it, the sweep that marks the jobs of dead instances
 * "interrupted", taking back claims whose commit was lost (and marking
 * interrupted a job whose outcome could not be written), and hearing of
 * queued jobs (LISTEN) to wake the takers.
 *
 * Leases are kept in the database's clock (clock_timestamp()), so the
 * instances' clocks need not agree. An instance that closes its store
 * deletes its row: its jobs that are still "running" (none after a drain)
 * are then as a dead instance's. A "running" job is interrupted when its
 * owner has no row or a lease past its end; that is what the SQLite
 * backend's start-up marking means for one process, spread over several:
 * the next delivery of an interrupted job retries it, exactly once more.
 *
 * The thread has a connection of its own, so a busy pool never delays the
 * lease; it waits for a notification on that connection's socket between
 * beats. Only a handle opened with mark_interrupted (the daemon) sweeps.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "store_pg.h"

int store_pg_lease_register(struct store_pg *s, PGconn *c)
{
	struct store_pg_params p = { .n = 0 };
	char host[256] = "";

	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	store_pg_p_str(&p, s->id);
	store_pg_p_str(&p, host);
	store_pg_p_i64(&p, (int64_t)getpid());
	store_pg_p_i64(&p, s->lease_ms);
	return store_pg_exec(s, c, "INSERT INTO instances (id, host, pid, lease_until) VALUES ($1, $2, $3,"
	    " clock_timestamp() + $4 * interval '1 millisecond') ON CONFLICT (id) DO UPDATE SET"
	    " lease_until = excluded.lease_until", &p, NULL);
}

/* Renew the lease; the row is put back when it is gone (the database was
 * restored, or another instance swept it after a long pause of ours). */
static int renew(struct store_pg *s, PGconn *c)
{
	return store_pg_lease_register(s, c);
}

int store_pg_lease_sweep(struct store_pg *s, PGconn *c, int *n)
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	if (n)
		*n = 0;
	store_pg_p_i64(&p, clock_wall_ms());
	rc = store_pg_exec(s, c, "UPDATE jobs SET state = 'interrupted', finished_ms = $1"
	    " WHERE state = 'running' AND NOT EXISTS (SELECT 1 FROM instances i"
	    " WHERE i.id = jobs.owner AND i.lease_until > clock_timestamp())", &p, &r);
	if (!rc && n)
		*n = atoi(PQcmdTuples(r));
	PQclear(r);
	/* instances long dead leave no row behind */
	if (!rc)
		rc = store_pg_exec(s, c, "DELETE FROM instances WHERE lease_until < clock_timestamp()"
		    " - interval '1 day'", NULL, NULL);
	return rc;
}

void store_pg_lease_undo_later(struct store_pg *s, int64_t job_id, int how)
{
	pthread_mutex_lock(&s->hmu);
	if (s->nundo < (int)(sizeof s->undo / sizeof s->undo[0])) {
		s->undo[s->nundo].id = job_id;
		s->undo[s->nundo].how = how;
		s->nundo++;
	}
	pthread_mutex_unlock(&s->hmu);
}

/* A job whose outcome was lost: "interrupted" if it is ours and still running. */
static int interrupt_on(struct store_pg *s, PGconn *c, int64_t id)
{
	struct store_pg_params p = { .n = 0 };

	store_pg_p_i64(&p, id);
	store_pg_p_str(&p, s->id);
	store_pg_p_i64(&p, clock_wall_ms());
	return store_pg_exec(s, c, "UPDATE jobs SET state = 'interrupted', finished_ms = $3"
	    " WHERE id = $1 AND state = 'running' AND owner = $2", &p, NULL);
}

/* A take whose commit was lost: back to the queue if it is ours and running. */
static int requeue_on(struct store_pg *s, PGconn *c, int64_t id)
{
	struct store_pg_params p = { .n = 0 };

	store_pg_p_i64(&p, id);
	store_pg_p_str(&p, s->id);
	return store_pg_exec(s, c, "UPDATE jobs SET state = 'queued', started_ms = NULL, owner = NULL"
	    " WHERE id = $1 AND state = 'running' AND owner = $2", &p, NULL);
}

/* Take back the claims whose commit was lost, as far as the server lets. */
static void undo_pending(struct store_pg *s, PGconn *c)
{
	int64_t id;
	int rc, how = 0;

	for (;;) {
		pthread_mutex_lock(&s->hmu);
		id = s->nundo ? s->undo[s->nundo - 1].id : 0;
		if (id)
			how = s->undo[s->nundo - 1].how;
		pthread_mutex_unlock(&s->hmu);
		if (!id)
			return;
		rc = how == STORE_PG_UNDO_TAKE ? requeue_on(s, c, id) : how == STORE_PG_UNDO_FINISH ?
		    interrupt_on(s, c, id) : store_pg_claim_undo_on(s, c, id);
		if (rc && rc != -ENOENT) /* -ENOENT: it never committed, or already ran */
			return;
		pthread_mutex_lock(&s->hmu);
		s->nundo--;
		pthread_mutex_unlock(&s->hmu);
	}
}

/* Wait up to MS for a notification on C (drained); 1 when one came. */
static int wait_notify(PGconn *c, int ms)
{
	struct pollfd pf = { .fd = PQsocket(c), .events = POLLIN };
	PGnotify *nt;
	int got = 0;

	if (pf.fd < 0 || poll(&pf, 1, ms) <= 0)
		return 0;
	if (!PQconsumeInput(c))
		return 0;
	while ((nt = PQnotifies(c)) != NULL) {
		got = 1;
		PQfreemem(nt);
	}
	return got;
}

/* Called under hmu, so that store_on_queued(NULL) returns only once no
 * call is under way: the queue it names may then be freed. */
static void wake(struct store_pg *s)
{
	pthread_mutex_lock(&s->hmu);
	if (s->wake)
		s->wake(s->wake_arg);
	pthread_mutex_unlock(&s->hmu);
}

/* The heartbeat: renew, sweep, undo; between beats, listen. */
static void *beat(void *arg)
{
	struct store_pg *s = arg;
	int64_t next = 0, now;
	int rc, stop, swept = 0;

	for (;;) {
		pthread_mutex_lock(&s->hmu);
		stop = s->hb_stop;
		pthread_mutex_unlock(&s->hmu);
		if (stop)
			break;
		now = clock_mono_ms();
		if (now >= next) {
			next = now + s->heartbeat_ms;
			if (!s->hconn || PQstatus(s->hconn) != CONNECTION_OK) {
				if (s->hconn)
					PQfinish(s->hconn);
				s->hconn = store_pg_connect(s, &rc);
				if (s->hconn && store_pg_exec(s, s->hconn, "LISTEN " STORE_PG_CHANNEL, NULL, NULL) != 0) {
					PQfinish(s->hconn);
					s->hconn = NULL;
				}
				if (s->hconn)
					wake(s); /* jobs may have been queued while we could not hear */
			}
			if (s->hconn && renew(s, s->hconn) == 0) {
				undo_pending(s, s->hconn);
				if (s->marks && store_pg_lease_sweep(s, s->hconn, &swept) == 0 && swept > 0) {
					pthread_mutex_lock(&s->hmu); /* as wake(): the callee outlives the call */
					if (s->swept)
						s->swept(swept, s->swept_arg);
					pthread_mutex_unlock(&s->hmu);
				}
			}
		}
		/* short waits, so that a close is not held up for a whole beat */
		if (s->hconn && PQstatus(s->hconn) == CONNECTION_OK) {
			if (wait_notify(s->hconn, 100))
				wake(s);
		} else {
			usleep(100 * 1000);
		}
	}
	return NULL;
}

int store_pg_lease_start(struct store_pg *s)
{
	int rc = pthread_create(&s->hb, NULL, beat, s);

	if (rc)
		return -rc;
	s->hb_started = 1;
	return 0;
}

void store_pg_lease_stop(struct store_pg *s)
{
	if (s->hb_started) {
		pthread_mutex_lock(&s->hmu);
		s->hb_stop = 1;
		pthread_mutex_unlock(&s->hmu);
		pthread_join(s->hb, NULL);
		s->hb_started = 0;
	}
	if (s->hconn) {
		undo_pending(s, s->hconn);
		PQfinish(s->hconn);
		s->hconn = NULL;
	}
}
