/*
 * runner_notify.c — unit tests for runner/notify.c against real unix
 * datagram sockets bound by the test: the exact messages, path and abstract
 * addresses, that $NOTIFY_SOCKET is gone from the environment a child
 * inherits, bad addresses, no-op without the variable, and that a send
 * never blocks — neither with the receiver gone nor with its queue full.
 */
#include <errno.h>
#include <stddef.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../runner/notify.h"
#include "t.h"

extern char **environ;

static char dir[64];

/* Bind a datagram socket at PATH ("@x" for abstract); -1 on failure. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One datagram into BUF (NUL-terminated), waiting at most 1 s; length or -1. */
static int recv1(int fd, char *buf, size_t len)
{
	struct timeval tv = { 1, 0 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	n = recv(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return (int)n;
}

static void test_unset_is_noop(void)
{
	unsetenv("NOTIFY_SOCKET");
	T_EQ_INT(notify_init(), 0);
	T_EQ_INT(notify_enabled(), 0);
	T_EQ_INT(notify_ready("x"), 0);
	T_EQ_INT(notify_reloading(NULL), 0);
	T_EQ_INT(notify_stopping("x", 5), 0);
	notify_close();
}

static void test_messages_path(void)
{
	char path[128], buf[300], want[128], rx[2048];
	int fd;
	unsigned long long usec = 0;
	struct timespec ts;

	snprintf(path, sizeof path, "%s/notify", dir);
	if ((fd = listen_at(path)) < 0) {
		T_CHECK(!"cannot bind the test socket");
		return;
	}
	setenv("NOTIFY_SOCKET", path, 1);
	T_EQ_INT(notify_init(), 0);
	T_CHECK(getenv("NOTIFY_SOCKET") == NULL);
	T_EQ_INT(notify_enabled(), 1);

	T_EQ_INT(notify_ready("serving 2 hooks\non 127.0.0.1:8080"), 0);
	T_CHECK(recv1(fd, buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "READY=1\nSTATUS=serving 2 hooks on 127.0.0.1:8080\nMAINPID=%ld\n",
	    (long)getpid());
	T_EQ_STR(buf, want);

	T_EQ_INT(notify_reloading("reloading"), 0);
	T_CHECK(recv1(fd, buf, sizeof buf) > 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	T_CHECK(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu\n", &usec) == 1);
	T_CHECK(usec <= (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000 &&
	    usec + 5000000ULL > (unsigned long long)ts.tv_sec * 1000000ULL);
	T_CHECK(strstr(buf, "\nSTATUS=reloading\n") != NULL);

	T_EQ_INT(notify_ready(NULL), 0);
	T_CHECK(recv1(fd, buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "READY=1\nMAINPID=%ld\n", (long)getpid());
	T_EQ_STR(buf, want);

	T_EQ_INT(notify_stopping("draining 1 job", 60), 0);
	T_CHECK(recv1(fd, buf, sizeof buf) > 0);
	T_EQ_STR(buf, "STOPPING=1\nSTATUS=draining 1 job\nEXTEND_TIMEOUT_USEC=60000000\n");
	T_EQ_INT(notify_stopping(NULL, 0), 0);
	T_CHECK(recv1(fd, buf, sizeof buf) > 0);
	T_EQ_STR(buf, "STOPPING=1\n");

	/* A status longer than a datagram is cut, and the tail still comes. */
	{
		char big[4096];
		memset(big, 'y', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		T_EQ_INT(notify_ready(big), 0);
		T_CHECK(recv1(fd, rx, sizeof rx) > 0);
		T_CHECK(strncmp(rx, "READY=1\nSTATUS=yyy", 18) == 0);
		T_CHECK(strstr(rx, "y\nMAINPID=") != NULL);
		T_CHECK(strlen(rx) < 1024);
	}
	notify_close();
	T_EQ_INT(notify_enabled(), 0);
	close(fd);
	unlink(path);
}

static void test_abstract(void)
{
	char name[64], buf[256];
	int fd;

	snprintf(name, sizeof name, "@wr-notify-test-%ld", (long)getpid());
	if ((fd = listen_at(name)) < 0) {
		T_CHECK(!"cannot bind the abstract socket");
		return;
	}
	setenv("NOTIFY_SOCKET", name, 1);
	T_EQ_INT(notify_init(), 0);
	T_EQ_INT(notify_stopping(NULL, 0), 0);
	T_CHECK(recv1(fd, buf, sizeof buf) > 0);
	T_EQ_STR(buf, "STOPPING=1\n");
	notify_close();
	close(fd);
}

/* What a child started after notify_init() finds in its environment. */
static void test_child_env(void)
{
	char path[128], out[128], buf[4096] = "";
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	char cmd[256];
	pid_t pid;
	int st = 0, fd;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/notify-env", dir);
	snprintf(out, sizeof out, "%s/env.out", dir);
	if ((fd = listen_at(path)) < 0) {
		T_CHECK(!"cannot bind the test socket");
		return;
	}
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WR_NOTIFY_TEST_MARK", "1", 1);
	T_EQ_INT(notify_init(), 0);
	snprintf(cmd, sizeof cmd, "env > %s", out);
	argv[2] = cmd;
	T_EQ_INT(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if ((f = fopen(out, "r"))) {
		n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	T_CHECK(strstr(buf, "WR_NOTIFY_TEST_MARK=1") != NULL); /* the env did arrive */
	T_CHECK(strstr(buf, "NOTIFY_SOCKET") == NULL);
	unsetenv("WR_NOTIFY_TEST_MARK");
	notify_close();
	close(fd);
	unlink(path);
	unlink(out);
}

static void test_bad_addresses(void)
{
	static const char *const bad[] = { "", "@", "relative/path", "x",
		"/0123456789012345678901234567890123456789012345678901234567890123456789"
		"01234567890123456789012345678901234567890123456789" };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("NOTIFY_SOCKET", bad[i], 1);
		T_EQ_INT(notify_init(), -EINVAL);
		T_CHECK(getenv("NOTIFY_SOCKET") == NULL);
		T_EQ_INT(notify_enabled(), 0);
		T_EQ_INT(notify_ready("x"), 0);
	}
}

static long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void test_never_blocks(void)
{
	char path[128];
	struct timespec t0;
	int fd, i, rc, again = 0;

	/* Nobody there: an error, at once. */
	snprintf(path, sizeof path, "%s/gone", dir);
	setenv("NOTIFY_SOCKET", path, 1);
	T_EQ_INT(notify_init(), 0);
	rc = notify_ready("x");
	T_CHECK(rc == -ENOENT || rc == -ECONNREFUSED);
	notify_close();

	/* A receiver that never reads: the queue fills, sends fail with -EAGAIN. */
	snprintf(path, sizeof path, "%s/full", dir);
	if ((fd = listen_at(path)) < 0) {
		T_CHECK(!"cannot bind the test socket");
		return;
	}
	setenv("NOTIFY_SOCKET", path, 1);
	T_EQ_INT(notify_init(), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 5000 && elapsed_ms(&t0) < 5000; i++) {
		rc = notify_ready("filling the queue");
		if (rc == -EAGAIN)
			again++;
		else
			T_EQ_INT(rc, 0);
	}
	T_CHECK(again > 0);
	T_CHECK(elapsed_ms(&t0) < 5000);
	notify_close();
	close(fd);
	unlink(path);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/wr-notify.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	T_RUN(test_unset_is_noop);
	T_RUN(test_messages_path);
	T_RUN(test_abstract);
	T_RUN(test_child_env);
	T_RUN(test_bad_addresses);
	T_RUN(test_never_blocks);
	rmdir(dir);
	return T_EXIT();
}
