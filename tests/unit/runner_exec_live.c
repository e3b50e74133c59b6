/*
 * runner_exec_live.c — exec_run feeds a job's live output buffer
 * (runner/liveout.h): a stand-in executor writes to stdout and stderr, and
 * a follower reading the buffer while it runs gets each stream's bytes
 * tagged with that stream, in order within each stream, the first ones
 * before the executor has ended; the buffer's byte count is the output's.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../runner/exec.h"
#include "../../runner/liveout.h"
#include "t.h"

static char g_dir[64];

struct run {
	struct exec_spec s;
	struct exec_result r;
	int rc;
	_Atomic int64_t done_ms; /* set by the run's thread */
};

static void *runner(void *arg)
{
	struct run *u = arg;

	u->rc = exec_run(&u->s, &u->r);
	u->done_ms = clock_mono_ms();
	return NULL;
}

static void test_exec_feeds_live(void)
{
	char exe[PATH_MAX], out[256] = "", err[256] = "", buf[64];
	struct liveout *lo = NULL;
	struct liveout_job *j = NULL, *f;
	struct liveout_chunk c;
	struct run u;
	pthread_t t;
	size_t no = 0, ne = 0;
	uint64_t off = 0, w, d;
	int64_t first_ms = 0;
	int ended;
	FILE *fp;

	snprintf(exe, sizeof exe, "%s/exe.sh", g_dir);
	fp = fopen(exe, "w");
	if (!fp) {
		T_CHECK(fp != NULL);
		return;
	}
	fputs("#!/bin/sh\nfor i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done\n"
	      "echo '{\"phase\":\"done\",\"exit\":0}' >&3\n", fp);
	fclose(fp);
	chmod(exe, 0755);
	T_EQ_INT(liveout_new(1, &lo), 0);
	T_EQ_INT(liveout_begin(lo, 1, 0, 0, &j), 0);
	if (!j)
		return;
	memset(&u, 0, sizeof u);
	u.s.executor = exe;
	u.s.destination = "u@h:22";
	u.s.identity = u.s.known_hosts = "/nonexistent";
	u.s.command = "true";
	u.s.timeout_ms = 20000;
	u.s.connect_timeout_ms = u.s.handshake_timeout_ms = 5000;
	u.s.tail_bytes = 4096;
	u.s.live = j;
	f = liveout_find(lo, 1);
	T_EQ_INT(pthread_create(&t, NULL, runner, &u), 0);
	while (f) {
		if (liveout_next(f, off, 200, buf, sizeof buf, &c) != 0)
			break;
		if (c.got == LIVEOUT_DATA) {
			if (!first_ms)
				first_ms = clock_mono_ms();
			if (c.stream == LIVEOUT_STDOUT && no + c.len < sizeof out) {
				memcpy(out + no, buf, c.len);
				no += c.len;
			} else if (c.stream == LIVEOUT_STDERR && ne + c.len < sizeof err) {
				memcpy(err + ne, buf, c.len);
				ne += c.len;
			}
		}
		off = c.next;
		if (c.got == LIVEOUT_IDLE && u.done_ms)
			break; /* exec_run is done; the buffer's end is the caller's */
	}
	pthread_join(t, NULL);
	out[no] = err[ne] = '\0';
	T_EQ_INT(u.rc, 0);
	T_EQ_STR(out, "out1\nout2\nout3\n");
	T_EQ_STR(err, "err1\nerr2\nerr3\n");
	T_CHECK(first_ms && first_ms < u.done_ms - 200); /* live: long before the end */
	printf("# info first chunk %lld ms before the executor ended\n",
	    (long long)(u.done_ms - first_ms));
	if (f) {
		liveout_totals(f, &w, &d, &ended);
		T_EQ_INT(w, 30);
		T_EQ_INT(ended, 0);
		liveout_unref(lo, f);
	}
	T_EQ_INT(u.r.tail_len, 30);
	exec_result_clear(&u.r);
	liveout_end(lo, j);
	liveout_free(lo);
}

int main(void)
{
	char cmd[128];

	snprintf(g_dir, sizeof g_dir, "/tmp/runner_exec_live.XXXXXX");
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	T_RUN(test_exec_feeds_live);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
