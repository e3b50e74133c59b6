/*
 * runner_exec_outcome.c — unit tests of runner/exec.c's outcome table: what
 * every executor error kind of executor/status.h, the runner's own deadline
 * and the remote command's result mean for HTTP and for the stored state.
 */
#include <stdio.h>
#include <string.h>

#include "../../common/exstatus.h"
#include "../../runner/exec.h"
#include "t.h"

/* T_EQ_STR for long strings (paths, output): shortened in the report. */
static void t_str(int line, const char *expr, const char *got, const char *want)
{
	if ((got && want && strcmp(got, want) == 0) || t_failed_)
		return;
	snprintf(t_why_, sizeof t_why_, "%s:%d: %.40s == \"%.200s\", want \"%.200s\"",
	    __FILE__, line, expr, got ? got : "(null)", want ? want : "(null)");
	t_failed_ = 1;
}
#define T_STR(got, want) t_str(__LINE__, #got, (got), (want))

/* ---- outcome table ---- */

static void outcome(const struct exec_result *r, int want_http, const char *want_state, int retry)
{
	int http = -1, ra = -1;
	const char *state = NULL;

	exec_outcome(r, &http, &state, &ra);
	T_EQ_INT(http, want_http);
	T_STR(state, want_state);
	if (retry)
		T_CHECK(ra > 0);
	else
		T_EQ_INT(ra, 0);
}

static struct exec_result with_error(const char *e)
{
	struct exec_result r;

	memset(&r, 0, sizeof r);
	r.has_status = 1;
	snprintf(r.error, sizeof r.error, "%s", e);
	snprintf(r.phase, sizeof r.phase, "connect");
	return r;
}

static void test_outcome_table(void)
{
	/* Every error name of common/exstatus.h, spelled out: the names are the
	 * executor's wire format, so the test pins them. */
	static const char *const transient[] = { "resolve", "connect_refused", "connect_timeout",
		"connect", "handshake", "handshake_timeout", "keepalive", "io", "busy" };
	static const char *const config[] = { "hostkey_unknown", "hostkey_changed",
		"hostkey_revoked", "known_hosts", "identity", "auth", "exec", "refused" };
	static const char *const others[] = { "timeout", "internal", "terminated", "bad_request" };
	enum exstatus_error e;
	struct exec_result r;
	size_t i;

	/* The lists above are the whole vocabulary: a new error kind gets a row. */
	T_EQ_INT(EXSTATUS_NERRORS - 1, sizeof transient / sizeof transient[0] +
	    sizeof config / sizeof config[0] + sizeof others / sizeof others[0]);
	for (i = 0; i < sizeof transient / sizeof transient[0]; i++)
		T_EQ_INT(exstatus_error_parse(transient[i], &e), 0);
	for (i = 0; i < sizeof config / sizeof config[0]; i++)
		T_EQ_INT(exstatus_error_parse(config[i], &e), 0);
	for (i = 0; i < sizeof others / sizeof others[0]; i++)
		T_EQ_INT(exstatus_error_parse(others[i], &e), 0);

	for (i = 0; i < sizeof transient / sizeof transient[0]; i++) {
		r = with_error(transient[i]);
		outcome(&r, 503, "failed", 1);
	}
	for (i = 0; i < sizeof config / sizeof config[0]; i++) {
		r = with_error(config[i]);
		outcome(&r, 502, "failed", 0);
	}
	r = with_error("timeout");
	outcome(&r, 504, "timeout", 0);
	/* The executor failing for its own reasons: a plain failure. */
	r = with_error("internal");
	outcome(&r, 500, "failed", 0);
	r = with_error("terminated");
	outcome(&r, 500, "failed", 0);
	r = with_error("bad_request");
	outcome(&r, 500, "failed", 0);

	/* Killed by the runner's deadline, with or without a status line. */
	memset(&r, 0, sizeof r);
	r.killed = 1;
	outcome(&r, 504, "timeout", 0);
	r = with_error("io");
	r.killed = 1;
	outcome(&r, 504, "timeout", 0);

	/* The remote command's own result. */
	memset(&r, 0, sizeof r);
	r.has_status = 1;
	r.has_exit = 1;
	r.exit_code = 0;
	outcome(&r, 200, "succeeded", 0);
	r.exit_code = 1;
	outcome(&r, 500, "failed", 0);
	r.exit_code = 255;
	outcome(&r, 500, "failed", 0);
	r.has_exit = 0;
	snprintf(r.signal, sizeof r.signal, "KILL");
	outcome(&r, 500, "failed", 0);
	/* Status line without an exit and without an error: not a success. */
	memset(&r, 0, sizeof r);
	r.has_status = 1;
	outcome(&r, 500, "failed", 0);
	/* No status line at all: whatever the exit status, 500. */
	memset(&r, 0, sizeof r);
	r.wait_status = 0;
	outcome(&r, 500, "failed", 0);
	r.has_exit = 1; /* stale fields without has_status do not count */
	outcome(&r, 500, "failed", 0);
}

int main(void)
{
	T_RUN(test_outcome_table);
	return T_EXIT();
}
