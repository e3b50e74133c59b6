/*
 * main.c — remote-executor's entry point: descriptor hygiene, signals,
 * arguments, one run, the status line, the exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "args.h"
#include "session.h"
#include "status.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Descriptors 0-2 must be open before we open anything: a closed 1 or 2
 * would be taken by the known_hosts file or the SSH socket, and the remote
 * output or our messages would be written into it. Fill gaps with
 * /dev/null. */
static int open_std_fds(void)
{
	int fd, n;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -errno;
		if (n != fd) { /* cannot happen: open takes the lowest free one */
			close(n);
			return -EBADF;
		}
	}
	return 0;
}

/* Keep 0-2 and the status descriptor; close everything else we inherited. */
static void close_inherited(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range(keep >= 3 ? (unsigned)keep + 1 : 3, ~0U, 0);
}

int main(int argc, char **argv)
{
	struct args a;
	struct status st;
	struct sigaction sa;
	char err[512] = "";
	int rc;

	if (open_std_fds() != 0)
		return 255;
	rc = args_parse(argc, argv, &a, err, sizeof err);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "remote-executor: %s\n", rc == -ENOMEM ? "out of memory" : err);
		args_clear(&a);
		return 2;
	}
	close_inherited(a.status_fd);
	if (a.exit_with_parent) {
		/* Checked after arming: the parent may have died in between. */
		pid_t parent = getppid();
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent || parent == 1) {
			fprintf(stderr, "remote-executor: the calling process is gone\n");
			args_clear(&a);
			return 255;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: waits return and see the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (libssh2_init(0) != 0) {
		fprintf(stderr, "remote-executor: libssh2_init failed\n");
		args_clear(&a);
		return 255;
	}
	status_init(&st, a.user, a.host, a.port);
	rc = sess_run(&a, &st, &stop_flag);
	if (st.error != STATUS_OK && st.error != STATUS_EHOSTUNKNOWN &&
	    st.error != STATUS_EHOSTCHANGED && st.error != STATUS_EHOSTREVOKED)
		fprintf(stderr, "remote-executor: %s\n", st.message);
	if (a.status_fd >= 0 && status_write(&st, a.status_fd) != 0)
		fprintf(stderr, "remote-executor: cannot write status to fd %d\n", a.status_fd);
	libssh2_exit();
	args_clear(&a);
	return rc;
}
