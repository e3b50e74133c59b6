/*
 * executor_pool.c — unit tests of executor/pool.c without a network: the
 * per-key cap and its slots, overflow past it, reuse off, a retry's fresh
 * take, giving back (kept only when pooled and fine), idle expiry and
 * dropping an idle connection that fails its check, and the counters.
 * The connections are bare (never opened): conn_idle_ok calls them dead.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/clock.h"
#include "../../executor/pool.h"
#include "t.h"

static struct conn *bare(void)
{
	struct conn *c = calloc(1, sizeof *c);
	static struct status st;

	c->fd = c->watch_fd = c->frame_fd = -1;
	c->st = &st;
	return c;
}

static void test_pool_cap_and_reuse(void)
{
	struct pool *p = NULL;
	struct pool_stats s;
	struct conn *c = (struct conn *)1, *a, *b;
	int pooled = -1;

	T_EQ_INT(pool_new(2, 60, &p), 0);
	/* Empty pool: a slot for a new connection, twice, then overflow. */
	pool_take(p, "k", 1, 0, &c, &pooled);
	T_CHECK(c == NULL && pooled == 1);
	pool_take(p, "k", 1, 0, &c, &pooled);
	T_CHECK(c == NULL && pooled == 1);
	pool_take(p, "k", 1, 0, &c, &pooled);
	T_CHECK(c == NULL && pooled == 0);
	/* Another key has its own cap; reuse off gets nothing. */
	pool_take(p, "other", 1, 0, &c, &pooled);
	T_CHECK(c == NULL && pooled == 1);
	pool_give(p, "other", NULL, 1, 0);
	pool_take(p, "k", 0, 0, &c, &pooled);
	T_CHECK(c == NULL && pooled == 0);
	pool_get_stats(p, &s);
	T_EQ_INT(s.open, 2);
	T_EQ_INT(s.overflow, 1);
	/* Both come back well: both idle; then taken again, most recent first. */
	a = bare();
	b = bare();
	pool_give(p, "k", a, 1, 1);
	pool_give(p, "k", b, 1, 1);
	pool_get_stats(p, &s);
	T_EQ_INT(s.idle, 2);
	T_EQ_INT(s.open, 2);
	pool_take(p, "k", 1, 0, &c, &pooled);
	T_CHECK(c == b && pooled == 1);
	T_CHECK(c->st != NULL && c->a == NULL && c->watch_fd == -1);
	/* A retry wants a fresh one: the idle one stays, and at the cap there is no slot. */
	pool_take(p, "k", 1, 1, &c, &pooled);
	T_CHECK(c == NULL && pooled == 0);
	pool_get_stats(p, &s);
	T_EQ_INT(s.reuses, 1);
	T_EQ_INT(s.idle, 1);
	/* b failed: torn down, its slot released; a new take gets a slot. */
	pool_give(p, "k", b, 1, 0);
	pool_get_stats(p, &s);
	T_EQ_INT(s.open, 1);
	pool_take(p, "k", 1, 1, &c, &pooled);
	T_CHECK(c == NULL && pooled == 1);
	pool_give(p, "k", NULL, 1, 0); /* its connect failed */
	pool_get_stats(p, &s);
	T_EQ_INT(s.open, 1);
	/* An overflow connection is never kept, even when fine. */
	pool_give(p, "k", bare(), 0, 1);
	pool_get_stats(p, &s);
	T_EQ_INT(s.idle, 1);
	T_EQ_INT(s.open, 1);
	pool_free(p);
}

static void test_pool_tick(void)
{
	struct pool *p = NULL;
	struct pool_stats s;
	struct conn *c;
	int pooled;

	T_EQ_INT(pool_new(4, 5, &p), 0);
	pool_take(p, "k", 1, 0, &c, &pooled);
	pool_give(p, "k", bare(), pooled, 1);
	pool_take(p, "k", 1, 0, &c, &pooled);
	T_CHECK(c != NULL);
	pool_give(p, "k", c, pooled, 1);
	/* Expired at now + idle timeout: closed as idle. */
	pool_tick(p, clock_mono_ms() + 5000);
	pool_get_stats(p, &s);
	T_EQ_INT(s.idle_closed, 1);
	T_EQ_INT(s.dead_closed, 0);
	T_EQ_INT(s.idle, 0);
	T_EQ_INT(s.open, 0);
	/* Not expired but failing its check (a bare connection): closed as dead. */
	pool_take(p, "k", 1, 0, &c, &pooled);
	pool_give(p, "k", bare(), pooled, 1);
	pool_tick(p, clock_mono_ms());
	pool_get_stats(p, &s);
	T_EQ_INT(s.dead_closed, 1);
	T_EQ_INT(s.open, 0);
	pool_free(p);
	/* A cap of 0 pools nothing. */
	T_EQ_INT(pool_new(0, 5, &p), 0);
	pool_take(p, "k", 1, 0, &c, &pooled);
	T_CHECK(c == NULL && pooled == 0);
	pool_give(p, "k", bare(), pooled, 1);
	pool_get_stats(p, &s);
	T_EQ_INT(s.idle, 0);
	pool_free(p);
}

int main(void)
{
	T_RUN(test_pool_cap_and_reuse);
	T_RUN(test_pool_tick);
	return T_EXIT();
}
