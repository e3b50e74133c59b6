/*
 * runner_slots.c — unit tests of runner/slots.c: the concurrency caps
 * (single thread and a thread-safety smoke test that also checks no cap is
 * ever exceeded) and the drain: it says draining from its start, returns at
 * once with nothing running, waits for running jobs up to its timeout, and
 * then interrupts the rest and counts them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../runner/slots.h"
#include "t.h"

/* ---- caps ---- */

static void test_caps_global_and_per_destination(void)
{
	struct slots *j = NULL;

	T_EQ_INT(slots_new(3, 2, &j), 0);
	if (!j)
		return;
	T_EQ_INT(slots_running(j), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), -EBUSY); /* per destination */
	T_EQ_INT(slots_running(j), 2);
	T_EQ_INT(slots_acquire(j, "a:2222"), 0);    /* another port is another destination */
	T_EQ_INT(slots_running(j), 3);
	T_EQ_INT(slots_acquire(j, "b:22"), -EBUSY); /* global */
	T_EQ_INT(slots_running(j), 3);
	/* Releasing frees exactly that slot. */
	slots_release(j, "a:22");
	T_EQ_INT(slots_running(j), 2);
	T_EQ_INT(slots_acquire(j, "b:22"), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), -EBUSY); /* global again */
	slots_release(j, "b:22");
	T_EQ_INT(slots_acquire(j, "a:22"), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), -EBUSY); /* per destination again */
	/* Releasing a destination that holds nothing changes nothing. */
	slots_release(j, "zzz:22");
	T_EQ_INT(slots_running(j), 3);
	slots_release(j, "a:22");
	slots_release(j, "a:22");
	slots_release(j, "a:2222");
	T_EQ_INT(slots_running(j), 0);
	slots_release(j, "a:22"); /* one too many: ignored */
	T_EQ_INT(slots_running(j), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), 0);
	T_EQ_INT(slots_acquire(j, "a:22"), 0);
	T_EQ_INT(slots_running(j), 2);
	slots_free(j); /* with slots still held: freed all the same */
	slots_free(NULL);
}

static void test_caps_many_destinations(void)
{
	struct slots *j = NULL;
	char d[32];
	int i, round;

	T_EQ_INT(slots_new(64, 1, &j), 0);
	if (!j)
		return;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 64; i++) {
			snprintf(d, sizeof d, "host-%d.example:22", round % 2 ? 63 - i : i);
			T_EQ_INT(slots_acquire(j, d), 0);
			T_EQ_INT(slots_acquire(j, d), -EBUSY);
		}
		T_EQ_INT(slots_running(j), 64);
		T_EQ_INT(slots_acquire(j, "one-more:22"), -EBUSY);
		/* Release in an order unlike the acquisitions (every 7th). */
		for (i = 0; i < 64; i++) {
			snprintf(d, sizeof d, "host-%d.example:22", (i * 7) % 64);
			slots_release(j, d);
			T_EQ_INT(slots_running(j), 63 - i);
		}
		T_EQ_INT(slots_acquire(j, "one-more:22"), 0);
		slots_release(j, "one-more:22");
		T_EQ_INT(slots_running(j), 0);
	}
	slots_free(j);
}

#define NT 8
#define NDEST 3
#define MAXJ 5
#define PERD 2

struct smoke {
	struct slots *j;
	atomic_int global, per[NDEST];
	atomic_int over, ok, busy;
};

struct smoke_arg {
	struct smoke *s;
	unsigned seed;
};

static void *smoke_thread(void *arg)
{
	struct smoke *s = ((struct smoke_arg *)arg)->s;
	unsigned r = ((struct smoke_arg *)arg)->seed;
	static const char *const dests[NDEST] = { "a:22", "b:22", "c:22" };
	int i;

	for (i = 0; i < 20000; i++) {
		int k;
		r = r * 1103515245u + 12345u;
		k = (int)((r >> 16) % NDEST);
		if (slots_acquire(s->j, dests[k]) != 0) {
			atomic_fetch_add(&s->busy, 1);
			continue;
		}
		atomic_fetch_add(&s->ok, 1);
		if (atomic_fetch_add(&s->global, 1) + 1 > MAXJ)
			atomic_fetch_add(&s->over, 1);
		if (atomic_fetch_add(&s->per[k], 1) + 1 > PERD)
			atomic_fetch_add(&s->over, 1);
		if (i % 16 == 0)
			sched_yield();
		atomic_fetch_sub(&s->per[k], 1);
		atomic_fetch_sub(&s->global, 1);
		slots_release(s->j, dests[k]);
	}
	return NULL;
}

static void test_caps_threads(void)
{
	static struct smoke s;
	struct smoke_arg args[NT];
	pthread_t th[NT];
	int i, n = 0;

	memset(&s, 0, sizeof s);
	T_EQ_INT(slots_new(MAXJ, PERD, &s.j), 0);
	if (!s.j)
		return;
	for (i = 0; i < NT; i++) {
		args[i].s = &s;
		args[i].seed = (unsigned)i * 7919u + 1u;
		if (pthread_create(&th[i], NULL, smoke_thread, &args[i]) == 0)
			n++;
		else
			break;
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	T_EQ_INT(n, NT);
	T_EQ_INT(atomic_load(&s.over), 0);
	T_CHECK(atomic_load(&s.ok) > 0);
	T_EQ_INT(atomic_load(&s.ok) + atomic_load(&s.busy), NT * 20000);
	T_EQ_INT(slots_running(s.j), 0);
	/* Everything released: each destination takes PERD again. */
	T_EQ_INT(slots_acquire(s.j, "a:22"), 0);
	T_EQ_INT(slots_acquire(s.j, "a:22"), 0);
	T_EQ_INT(slots_acquire(s.j, "a:22"), -EBUSY);
	slots_release(s.j, "a:22");
	slots_release(s.j, "a:22");
	slots_free(s.j);
}

/* ---- drain ---- */

static void test_drain_nothing_running(void)
{
	struct slots *s = NULL;
	int64_t t0;

	T_EQ_INT(slots_new(2, 1, &s), 0);
	if (!s)
		return;
	T_EQ_INT(slots_draining(s), 0);
	t0 = clock_mono_ms();
	T_EQ_INT(slots_drain(s, 30), 0);
	T_CHECK(clock_mono_ms() - t0 < 1000);
	T_EQ_INT(slots_draining(s), 1);
	T_EQ_INT(slots_interrupted(s), 0); /* nothing had to be stopped */
	slots_free(s);
}

struct releaser {
	struct slots *s;
	int after_ms;
	int wait_interrupt; /* release only once the drain interrupted */
	atomic_int saw_draining;
};

static void *release_later(void *arg)
{
	struct releaser *r = arg;
	int64_t until = clock_mono_ms() + 10000;

	usleep((useconds_t)r->after_ms * 1000);
	atomic_store(&r->saw_draining, slots_draining(r->s));
	while (r->wait_interrupt && !slots_interrupted(r->s) && clock_mono_ms() < until)
		usleep(10 * 1000);
	slots_release(r->s, "a:22");
	return NULL;
}

/* A job that ends within the timeout: nothing is interrupted. */
static void test_drain_job_ends_in_time(void)
{
	struct slots *s = NULL;
	struct releaser r = { 0 };
	pthread_t th;
	int64_t t0, dt;

	T_EQ_INT(slots_new(2, 1, &s), 0);
	if (!s)
		return;
	T_EQ_INT(slots_acquire(s, "a:22"), 0);
	r.s = s;
	r.after_ms = 300;
	T_EQ_INT(pthread_create(&th, NULL, release_later, &r), 0);
	t0 = clock_mono_ms();
	T_EQ_INT(slots_drain(s, 10), 0);
	dt = clock_mono_ms() - t0;
	pthread_join(th, NULL);
	T_CHECK(dt >= 250 && dt < 2000);
	T_EQ_INT(atomic_load(&r.saw_draining), 1);
	T_EQ_INT(slots_interrupted(s), 0);
	T_EQ_INT(slots_running(s), 0);
	slots_free(s);
}

/* A job still running at the timeout is interrupted and counted; the drain
 * then waits for it to end. */
static void test_drain_timeout_interrupts(void)
{
	struct slots *s = NULL;
	struct releaser r = { 0 };
	pthread_t th;
	int64_t t0, dt;

	T_EQ_INT(slots_new(2, 1, &s), 0);
	if (!s)
		return;
	T_EQ_INT(slots_acquire(s, "a:22"), 0);
	r.s = s;
	r.wait_interrupt = 1;
	T_EQ_INT(pthread_create(&th, NULL, release_later, &r), 0);
	t0 = clock_mono_ms();
	T_EQ_INT(slots_drain(s, 1), 1);
	dt = clock_mono_ms() - t0;
	pthread_join(th, NULL);
	T_CHECK(dt >= 1000 && dt < 3000);
	T_EQ_INT(slots_interrupted(s), 1);
	T_EQ_INT(slots_running(s), 0);
	slots_free(s);
}

int main(void)
{
	T_RUN(test_caps_global_and_per_destination);
	T_RUN(test_caps_many_destinations);
	T_RUN(test_caps_threads);
	T_RUN(test_drain_nothing_running);
	T_RUN(test_drain_job_ends_in_time);
	T_RUN(test_drain_timeout_interrupts);
	return T_EXIT();
}
