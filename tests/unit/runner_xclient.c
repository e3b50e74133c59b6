/*
 * runner_xclient.c — unit tests of runner/xclient.c where no service is
 * needed: no socket at the path, a socket file nobody listens on, a
 * command the protocol cannot carry, and what exec_outcome makes of each.
 * The runs through a real service are in tests/e2e/runner_xservice.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/xproto.h"
#include "../../runner/xclient.h"
#include "t.h"

static char g_dir[64];

static struct xclient_spec spec_at(const char *path, const char *command)
{
	struct xclient_spec s = {
		.socket_path = path, .destination = "deploy@127.0.0.1:22", .identity_name = "deploy",
		.command = command, .timeout_ms = 5000, .connect_timeout_ms = 1000,
		.handshake_timeout_ms = 1000, .max_output_bytes = 1024, .tail_bytes = 64, .reuse = 1,
		.job_id = "1",
	};
	return s;
}

static void expect_outcome(const struct exec_result *r, int want_http, const char *want_state,
    int want_retry)
{
	const char *state = NULL;
	int http = 0, ra = -1;

	exec_outcome(r, &http, &state, &ra);
	T_EQ_INT(http, want_http);
	T_EQ_STR(state, want_state);
	T_CHECK(want_retry ? ra > 0 : ra == 0);
}

static void test_no_socket(void)
{
	char path[128];
	struct xclient_spec s;
	struct exec_result r;

	snprintf(path, sizeof path, "%s/none.sock", g_dir);
	s = spec_at(path, "echo hi");
	T_EQ_INT(xclient_run(&s, &r), 0);
	T_EQ_INT(r.unavailable, 1);
	T_EQ_INT(r.has_status, 0);
	T_CHECK(strstr(r.message, "cannot reach the remote-executor service: ") != NULL);
	T_CHECK(strstr(r.message, "No such file or directory") != NULL);
	T_CHECK(r.tail != NULL && r.tail_len == 0);
	expect_outcome(&r, 503, "failed", 1);
	exec_result_clear(&r);
}

static void test_nobody_listening(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct xclient_spec s;
	struct exec_result r;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof a.sun_path, "%s/dead.sock", g_dir);
	T_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	close(fd); /* the file stays; nobody listens on it */
	s = spec_at(a.sun_path, "echo hi");
	T_EQ_INT(xclient_run(&s, &r), 0);
	T_EQ_INT(r.unavailable, 1);
	T_CHECK(strstr(r.message, "Connection refused") != NULL);
	expect_outcome(&r, 503, "failed", 1);
	exec_result_clear(&r);
}

static void test_command_over_cap(void)
{
	char path[128], *big = malloc(XPROTO_COMMAND_MAX + 2);
	struct xclient_spec s;
	struct exec_result r;

	if (!big) {
		T_CHECK(big != NULL);
		return;
	}
	memset(big, 'x', XPROTO_COMMAND_MAX + 1);
	big[XPROTO_COMMAND_MAX + 1] = '\0';
	snprintf(path, sizeof path, "%s/none.sock", g_dir);
	s = spec_at(path, big);
	T_EQ_INT(xclient_run(&s, &r), 0);
	T_EQ_INT(r.unavailable, 0); /* not a matter of trying later */
	T_EQ_INT(r.has_status, 0);
	T_CHECK(strstr(r.message, "the job cannot be sent to the remote-executor service") != NULL);
	expect_outcome(&r, 500, "failed", 0);
	exec_result_clear(&r);
	free(big);
}

static void test_path_too_long(void)
{
	char path[200];
	struct xclient_spec s;
	struct exec_result r;

	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	s = spec_at(path, "echo hi");
	T_EQ_INT(xclient_run(&s, &r), 0);
	T_EQ_INT(r.unavailable, 1);
	T_CHECK(strstr(r.message, "File name too long") != NULL);
	exec_result_clear(&r);
}

int main(void)
{
	char cmd[128];

	snprintf(g_dir, sizeof g_dir, "/tmp/wr-xclient.XXXXXX");
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	T_RUN(test_no_socket);
	T_RUN(test_nobody_listening);
	T_RUN(test_command_over_cap);
	T_RUN(test_path_too_long);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
