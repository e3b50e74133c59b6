/*
 * slots.c — concurrency caps and the shutdown drain (contract in slots.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "slots.h"

/* The executors get SIGTERM, then SIGKILL after their grace: the wait for
 * interrupted jobs to end is bounded by this. */
#define INTERRUPT_WAIT_MS 15000

struct dest_count {
	char *dest;
	int n;
};

struct slots {
	pthread_mutex_t mu;
	int stopping;              /* atomic: slots_interrupt_all */
	int draining;              /* atomic: slots_drain */
	int max, per_dest, running;
	struct dest_count *d;
	size_t nd;
};

int slots_new(int max_jobs, int max_per_destination, struct slots **out)
{
	struct slots *s = calloc(1, sizeof *s);

	if (!s)
		return -ENOMEM;
	if (!(s->d = calloc((size_t)max_jobs, sizeof *s->d))) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->max = max_jobs;
	s->per_dest = max_per_destination;
	*out = s;
	return 0;
}

void slots_free(struct slots *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nd; i++)
		free(s->d[i].dest);
	free(s->d);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int slots_acquire(struct slots *s, const char *dest)
{
	size_t i;
	int rc = -EBUSY;

	pthread_mutex_lock(&s->mu);
	if (s->running >= s->max)
		goto out;
	for (i = 0; i < s->nd; i++)
		if (!strcmp(s->d[i].dest, dest))
			break;
	if (i < s->nd && s->d[i].n >= s->per_dest)
		goto out;
	if (i == s->nd) {
		/* nd <= running < max: there is room in the array. */
		if (!(s->d[i].dest = strdup(dest))) {
			rc = -ENOMEM;
			goto out;
		}
		s->d[i].n = 0;
		s->nd++;
	}
	s->d[i].n++;
	s->running++;
	rc = 0;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void slots_release(struct slots *s, const char *dest)
{
	size_t i;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nd; i++)
		if (!strcmp(s->d[i].dest, dest))
			break;
	if (i < s->nd) {
		s->running--;
		if (--s->d[i].n == 0) {
			free(s->d[i].dest);
			s->d[i] = s->d[--s->nd];
		}
	}
	pthread_mutex_unlock(&s->mu);
}

int slots_running(struct slots *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->running;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void slots_interrupt_all(struct slots *s)
{
	__atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
}

int slots_interrupted(struct slots *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST);
}

int slots_drain(struct slots *s, int timeout_s)
{
	int64_t until = clock_mono_ms() + (int64_t)timeout_s * 1000;
	int n;

	__atomic_store_n(&s->draining, 1, __ATOMIC_SEQ_CST);
	while ((n = slots_running(s)) > 0 && clock_mono_ms() < until)
		usleep(100 * 1000);
	if (n == 0)
		return 0;
	slots_interrupt_all(s);
	until = clock_mono_ms() + INTERRUPT_WAIT_MS;
	while (slots_running(s) > 0 && clock_mono_ms() < until)
		usleep(100 * 1000);
	return n;
}

int slots_draining(struct slots *s)
{
	return __atomic_load_n(&s->draining, __ATOMIC_SEQ_CST);
}
