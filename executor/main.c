/*
 * main.c — remote-executor's entry point: descriptor hygiene, hardening
 * (not dumpable, no core file), signals, arguments, the command and
 * passphrase inputs (read before any network work), one run, the status
 * line, the exit status; or, as `remote-executor serve`, the service
 * (serve.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "args.h"
#include "input.h"
#include "serve.h"
#include "session.h"
#include "status.h"
#include "../common/clock.h"

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

#define COMMAND_MAX (1024 * 1024)
#define PASSPHRASE_MAX 1024

/* No core file, and not dumpable: /proc/PID/{environ,mem,fd...} become
 * root's and same-user ptrace is refused, so neither the passphrase nor
 * the key material can be read out of this process or a crash of it. */
static int harden(void)
{
	const struct rlimit zero = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &zero) != 0)
		return -errno;
	return 0;
}

/* The passphrase from its source and the command from --command-fd, in
 * that order (a bad command then still finds the passphrase's source
 * wiped), into *PASS and A->command. 0; 2 (bad input: exit 2, message
 * printed); 255 (timeout, signal, unset variable: ST says which). */
static int read_inputs(struct args *a, struct status *st, volatile sig_atomic_t *stop, char **pass)
{
	int64_t dl = a->timeout_ms ? st->t_start + a->timeout_ms : 0;
	enum input_error why = INPUT_OK;
	size_t len;
	int rc = 0, fd = -1;
	const char *what = "";

	*pass = NULL;
	if (a->passphrase_fd >= 0) {
		fd = a->passphrase_fd;
		what = "passphrase";
		rc = input_read_fd(fd, PASSPHRASE_MAX, INPUT_SECRET | INPUT_STRIP_NL, dl, stop, pass,
		    &len, &why);
		if (rc != 0)
			goto bad;
	} else if (a->passphrase_env) {
		rc = input_take_env(a->passphrase_env, pass);
		if (rc == -ENOENT) {
			status_fail(st, EXSTATUS_EIDENTITY, "passphrase variable %s is not set",
			    a->passphrase_env);
			return 255;
		}
		if (rc != 0) {
			status_fail(st, EXSTATUS_EINTERNAL, "out of memory");
			return 255;
		}
	}
	if (a->command_fd >= 0) {
		fd = a->command_fd;
		what = "command";
		rc = input_read_fd(fd, COMMAND_MAX, 0, dl, stop, &a->command, &len, &why);
		if (rc != 0)
			goto bad;
	}
	return 0;
bad:
	input_wipe(*pass, 0);
	*pass = NULL;
	if (why == INPUT_TIMEOUT) {
		status_fail(st, EXSTATUS_ETIMEOUT,
		    "run timed out while reading the %s from descriptor %d", what, fd);
		return 255;
	}
	if (why == INPUT_STOPPED) {
		status_fail(st, EXSTATUS_ETERMINATED, "terminated by signal while reading the %s", what);
		return 255;
	}
	if (rc == -ENOMEM) {
		status_fail(st, EXSTATUS_EINTERNAL, "out of memory");
		return 255;
	}
	if (why == INPUT_READ)
		fprintf(stderr, "remote-executor: the %s on descriptor %d cannot be read: %s\n", what, fd,
		    strerror(-rc));
	else if (why == INPUT_TOO_LONG)
		fprintf(stderr, "remote-executor: the %s on descriptor %d is too long (at most %d bytes)\n",
		    what, fd, fd == a->command_fd ? COMMAND_MAX : PASSPHRASE_MAX);
	else
		fprintf(stderr, "remote-executor: the %s on descriptor %d %s\n", what, fd,
		    input_error_text(why));
	return 2;
}

int main(int argc, char **argv)
{
	struct args a;
	struct status st;
	struct sigaction sa;
	char err[512] = "", *pass = NULL;
	int rc;

	if (open_std_fds() != 0)
		return 255;
	/* The service (serve.c). A host named "serve" is still reachable as
	 * user@serve or serve:22; the runner puts options first anyway. */
	if (argc >= 2 && !strcmp(argv[1], "serve")) {
		if ((rc = harden()) != 0) {
			fprintf(stderr, "remote-executor: cannot disable core dumps: %s\n", strerror(-rc));
			return 1;
		}
		close_inherited(-1);
		return serve_main(argc - 1, argv + 1);
	}
	rc = args_parse(argc, argv, &a, err, sizeof err);
	if (rc == 0 && a.info_only) {
		args_clear(&a);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "remote-executor: %s\n", rc == -ENOMEM ? "out of memory" : err);
		args_clear(&a);
		return 2;
	}
	if ((rc = harden()) != 0) {
		fprintf(stderr, "remote-executor: cannot disable core dumps: %s\n", strerror(-rc));
		args_clear(&a);
		return 255;
	}
	if (a.exit_with_parent) {
		/* Checked after arming: the parent may have died in between, and
		 * then this process has a new parent (pid 1, or a subreaper). The
		 * caller's pid, when given, tells; without it, pid 1 counts as
		 * gone — wrongly for a caller that is pid 1 (a container's
		 * entrypoint), which is why webhook-runner passes --parent-pid. */
		pid_t parent = getppid();
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent ||
		    (a.parent_pid ? parent != (pid_t)a.parent_pid : parent == 1)) {
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

	/* The run's clock (and --timeout) starts here, before the inputs. */
	status_init(&st, a.user, a.host, a.port);
	rc = read_inputs(&a, &st, &stop_flag, &pass);
	close_inherited(a.status_fd);
	if (rc == 2) {
		args_clear(&a);
		return 2;
	}
	if (rc != 0) {
		st.t_end = clock_mono_ms();
		fprintf(stderr, "remote-executor: %s\n", st.message);
		if (a.status_fd >= 0 && status_write(&st, a.status_fd) != 0)
			fprintf(stderr, "remote-executor: cannot write status to fd %d\n", a.status_fd);
		args_clear(&a);
		return rc;
	}

	if (libssh2_init(0) != 0) {
		fprintf(stderr, "remote-executor: libssh2_init failed\n");
		input_wipe(pass, 0);
		args_clear(&a);
		return 255;
	}
	rc = session_run(&a, pass, &st, &stop_flag); /* takes PASS */
	if (st.error != EXSTATUS_OK && st.error != EXSTATUS_EHOSTUNKNOWN &&
	    st.error != EXSTATUS_EHOSTCHANGED && st.error != EXSTATUS_EHOSTREVOKED)
		fprintf(stderr, "remote-executor: %s\n", st.message);
	if (a.status_fd >= 0 && status_write(&st, a.status_fd) != 0)
		fprintf(stderr, "remote-executor: cannot write status to fd %d\n", a.status_fd);
	libssh2_exit();
	args_clear(&a);
	return rc;
}
