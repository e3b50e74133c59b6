/*
 * runner_liveout.c — unit tests of runner/liveout.c: chunks read back in
 * order with their streams and offsets, a resume at any offset, the keep
 * bound (a gap for what fell out), the output cap, the end, a follower's
 * wait woken by a put from another thread, the follower cap, the linger
 * of a finished buffer, a new attempt replacing the old buffer, and the
 * Last-Event-ID parse.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../runner/liveout.h"
#include "t.h"

/* Everything J holds from OFF, concatenated, into OUT (streams in S). */
static size_t drain(struct liveout_job *j, uint64_t off, char *out, size_t cap, char *s, int *gaps)
{
	struct liveout_chunk c;
	size_t n = 0;
	char buf[64];

	*gaps = 0;
	for (;;) {
		if (liveout_next(j, off, 0, buf, sizeof buf, &c) != 0)
			break;
		if (c.got == LIVEOUT_GAP) {
			(*gaps)++;
		} else if (c.got == LIVEOUT_DATA && n + c.len <= cap) {
			memcpy(out + n, buf, c.len);
			memset(s + n, c.stream == LIVEOUT_STDOUT ? 'o' : 'e', c.len);
			n += c.len;
		} else {
			break;
		}
		off = c.next;
	}
	out[n] = s[n] = '\0';
	return n;
}

static void test_order_streams_resume(void)
{
	struct liveout *lo = NULL;
	struct liveout_job *j = NULL;
	char out[256], s[256];
	int gaps, ended;
	uint64_t w, d;
	struct liveout_chunk c;
	char buf[8];

	T_EQ_INT(liveout_new(4, &lo), 0);
	T_EQ_INT(liveout_begin(lo, 7, 0, 0, &j), 0);
	if (!j)
		return;
	liveout_put(j, LIVEOUT_STDOUT, "one\n", 4);
	liveout_put(j, LIVEOUT_STDERR, "err\n", 4);
	liveout_put(j, LIVEOUT_STDOUT, "two\n", 4);
	T_EQ_INT(drain(j, 0, out, sizeof out - 1, s, &gaps), 12);
	T_EQ_STR(out, "one\nerr\ntwo\n");
	T_EQ_STR(s, "ooooeeeeoooo");
	T_EQ_INT(gaps, 0);
	/* a resume in the middle of a chunk gives exactly the rest */
	T_EQ_INT(drain(j, 6, out, sizeof out - 1, s, &gaps), 6);
	T_EQ_STR(out, "r\ntwo\n");
	/* a small buffer splits a chunk, offsets stay right */
	T_EQ_INT(liveout_next(j, 8, 0, buf, 2, &c), 0);
	T_EQ_INT(c.got, LIVEOUT_DATA);
	T_EQ_INT(c.len, 2);
	T_EQ_INT(c.next, 10);
	/* nothing yet, not ended: idle, not end */
	T_EQ_INT(liveout_next(j, 12, 0, buf, sizeof buf, &c), 0);
	T_EQ_INT(c.got, LIVEOUT_IDLE);
	/* past what was written */
	T_EQ_INT(liveout_next(j, 13, 0, buf, sizeof buf, &c), -ERANGE);
	liveout_end(lo, j);
	j = liveout_find(lo, 7);
	T_CHECK(j != NULL);
	if (j) {
		T_EQ_INT(liveout_next(j, 12, 0, buf, sizeof buf, &c), 0);
		T_EQ_INT(c.got, LIVEOUT_END);
		liveout_totals(j, &w, &d, &ended);
		T_EQ_INT(w, 12);
		T_EQ_INT(d, 0);
		T_EQ_INT(ended, 1);
		liveout_unref(lo, j);
	}
	T_CHECK(liveout_find(lo, 8) == NULL);
	liveout_free(lo);
}

static void test_keep_gap_and_cap(void)
{
	struct liveout *lo = NULL;
	struct liveout_job *j = NULL;
	char out[256], s[256], big[100];
	struct liveout_chunk c;
	uint64_t w, d;
	int gaps, ended;

	T_EQ_INT(liveout_new(1, &lo), 0);
	T_EQ_INT(liveout_begin(lo, 1, 8, 20, &j), 0);
	if (!j)
		return;
	liveout_put(j, LIVEOUT_STDOUT, "aaaa", 4);
	liveout_put(j, LIVEOUT_STDOUT, "bbbb", 4);
	liveout_put(j, LIVEOUT_STDERR, "cccc", 4); /* "aaaa" falls out */
	T_EQ_INT(liveout_next(j, 0, 0, out, sizeof out, &c), 0);
	T_EQ_INT(c.got, LIVEOUT_GAP);
	T_EQ_INT(c.off, 0);
	T_EQ_INT(c.next, 4);
	T_EQ_INT(drain(j, 0, out, sizeof out - 1, s, &gaps), 8);
	T_EQ_STR(out, "bbbbcccc");
	T_EQ_INT(gaps, 1);
	/* a chunk bigger than the buffer: only its newest bytes, the cap cuts at 20 */
	memset(big, 'x', sizeof big);
	big[99] = 'y';
	liveout_put(j, LIVEOUT_STDOUT, big, sizeof big);
	liveout_totals(j, &w, &d, &ended);
	T_EQ_INT(w, 20);
	T_EQ_INT(d, 92);
	T_EQ_INT(ended, 0);
	T_EQ_INT(drain(j, 12, out, sizeof out - 1, s, &gaps), 8);
	T_EQ_STR(out, "xxxxxxxx");
	liveout_put(j, LIVEOUT_STDOUT, "more", 4);
	liveout_totals(j, &w, &d, &ended);
	T_EQ_INT(w, 20);
	T_EQ_INT(d, 96);
	liveout_end(lo, j);
	liveout_free(lo);
}

struct feeder {
	struct liveout_job *j;
	int delay_ms;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	struct timespec ts = { 0, (long)f->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	liveout_put(f->j, LIVEOUT_STDOUT, "late", 4);
	return NULL;
}

static void test_wait_woken(void)
{
	struct liveout *lo = NULL;
	struct liveout_job *j = NULL;
	struct feeder f;
	struct liveout_chunk c;
	pthread_t t;
	char buf[16];
	int64_t t0, el;

	T_EQ_INT(liveout_new(1, &lo), 0);
	T_EQ_INT(liveout_begin(lo, 2, 0, 0, &j), 0);
	if (!j)
		return;
	/* a wait with nothing coming returns idle after about its time */
	t0 = clock_mono_ms();
	T_EQ_INT(liveout_next(j, 0, 100, buf, sizeof buf, &c), 0);
	el = clock_mono_ms() - t0;
	T_EQ_INT(c.got, LIVEOUT_IDLE);
	T_CHECK(el >= 90);
	f.j = j;
	f.delay_ms = 100;
	T_EQ_INT(pthread_create(&t, NULL, feed, &f), 0);
	t0 = clock_mono_ms();
	T_EQ_INT(liveout_next(j, 0, 10000, buf, sizeof buf, &c), 0);
	el = clock_mono_ms() - t0;
	pthread_join(t, NULL);
	T_EQ_INT(c.got, LIVEOUT_DATA);
	T_EQ_INT(c.len, 4);
	T_CHECK(el < 5000); /* woken by the put, not by the wait's end */
	printf("# info woken after %lld ms\n", (long long)el);
	liveout_end(lo, j);
	liveout_free(lo);
}

static void test_follower_cap(void)
{
	struct liveout *lo = NULL;

	T_EQ_INT(liveout_new(2, &lo), 0);
	if (!lo)
		return;
	T_EQ_INT(liveout_join(lo), 0);
	T_EQ_INT(liveout_join(lo), 0);
	T_EQ_INT(liveout_join(lo), -EBUSY);
	T_EQ_INT(liveout_followers(lo), 2);
	liveout_leave(lo);
	T_EQ_INT(liveout_join(lo), 0);
	liveout_leave(lo);
	liveout_leave(lo);
	T_EQ_INT(liveout_followers(lo), 0);
	liveout_free(lo);
	T_EQ_INT(liveout_new(0, &lo), 0);
	if (lo)
		T_EQ_INT(liveout_join(lo), -EBUSY);
	liveout_free(lo);
}

static void test_attempt_replaces_and_linger_bound(void)
{
	struct liveout *lo = NULL;
	struct liveout_job *j = NULL, *k = NULL, *f;
	char buf[16];
	struct liveout_chunk c;
	int i;

	T_EQ_INT(liveout_new(1, &lo), 0);
	T_EQ_INT(liveout_begin(lo, 5, 0, 0, &j), 0);
	if (!j)
		return;
	liveout_put(j, LIVEOUT_STDOUT, "first", 5);
	liveout_end(lo, j);
	T_EQ_INT(liveout_begin(lo, 5, 0, 0, &k), 0);
	f = liveout_find(lo, 5);
	T_CHECK(f == k);
	if (f) {
		T_EQ_INT(liveout_next(f, 0, 0, buf, sizeof buf, &c), 0);
		T_EQ_INT(c.got, LIVEOUT_IDLE); /* the new attempt has nothing yet */
		liveout_unref(lo, f);
	}
	liveout_end(lo, k);
	/* finished buffers beyond the bound are forgotten, oldest first */
	for (i = 0; i < LIVEOUT_LINGER_MAX + 5; i++) {
		T_EQ_INT(liveout_begin(lo, 100 + i, 0, 0, &j), 0);
		liveout_end(lo, j);
	}
	f = liveout_find(lo, 100);
	T_CHECK(f == NULL);
	liveout_unref(lo, f);
	f = liveout_find(lo, 100 + LIVEOUT_LINGER_MAX + 4);
	T_CHECK(f != NULL);
	liveout_unref(lo, f);
	/* no registry: nothing registered, puts are no-ops */
	T_EQ_INT(liveout_begin(NULL, 1, 0, 0, &j), 0);
	T_CHECK(j == NULL);
	liveout_put(NULL, LIVEOUT_STDOUT, "x", 1);
	liveout_end(lo, NULL);
	liveout_free(lo);
}

static void test_parse_offset(void)
{
	uint64_t v = 99;

	T_EQ_INT(liveout_parse_offset("0", &v), 0);
	T_EQ_INT(v, 0);
	T_EQ_INT(liveout_parse_offset("12345", &v), 0);
	T_EQ_INT(v, 12345);
	T_EQ_INT(liveout_parse_offset("9223372036854775807", &v), 0);
	T_CHECK(v == (uint64_t)INT64_MAX);
	T_EQ_INT(liveout_parse_offset("9223372036854775808", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset("", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset(NULL, &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset("-1", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset("+1", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset(" 1", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset("1 ", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset("12a", &v), -EINVAL);
	T_EQ_INT(liveout_parse_offset("000000000000000000001", &v), -EINVAL); /* 21 digits */
	T_EQ_INT(liveout_parse_offset("00000000000000000001", &v), 0);
	T_EQ_INT(v, 1);
}

int main(void)
{
	T_RUN(test_order_streams_resume);
	T_RUN(test_keep_gap_and_cap);
	T_RUN(test_wait_woken);
	T_RUN(test_follower_cap);
	T_RUN(test_attempt_replaces_and_linger_bound);
	T_RUN(test_parse_offset);
	return T_EXIT();
}
