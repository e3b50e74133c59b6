/*
 * exec.c — one job run through remote-executor (contract in exec.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../common/clock.h"
#include "../common/exstatus.h"
#include "exec.h"
#include "liveout.h"
#include "slots.h"

#define STATUS_MAX 4096
/* The executor ends the run at --timeout itself and exits within a few
 * milliseconds (it does not wait for the server); the runner's deadline is
 * only a backstop for an executor that did not. SIGTERM makes it close and
 * report at once, so SIGKILL follows soon. */
#define DEADLINE_SLACK_MS 250
#define KILL_GRACE_MS 500
#define FD_STATUS 3
#define FD_COMMAND 4
#define FD_PASSPHRASE 5
#define FD_SOURCE_MIN 10 /* sources of the dup2s sit above their targets */

int exec_tail_init(struct exec_tail *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->cap = cap;
	if (cap && !(r->b = malloc(cap)))
		return -ENOMEM;
	return 0;
}

void exec_tail_free(struct exec_tail *r)
{
	free(r->b);
	memset(r, 0, sizeof *r);
}

void exec_tail_put(struct exec_tail *r, const char *p, size_t n)
{
	r->total += n;
	if (!r->cap)
		return;
	if (n >= r->cap) {
		memcpy(r->b, p + n - r->cap, r->cap);
		r->pos = 0;
		return;
	}
	while (n) {
		size_t k = r->cap - r->pos < n ? r->cap - r->pos : n;
		memcpy(r->b + r->pos, p, k);
		r->pos = (r->pos + k) % r->cap;
		p += k;
		n -= k;
	}
}

char *exec_tail_take(struct exec_tail *r, size_t *len)
{
	size_t n = r->total < r->cap ? r->total : r->cap;
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (r->total < r->cap) {
		memcpy(s, r->b, n);
	} else if (r->cap) { /* cap 0 (no tail wanted): b is NULL, nothing to copy */
		memcpy(s, r->b + r->pos, r->cap - r->pos);
		memcpy(s + r->cap - r->pos, r->b, r->pos);
	}
	s[n] = '\0';
	*len = n;
	return s;
}

static void copy_str(const cJSON *o, const char *name, char *dst, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsString(v))
		snprintf(dst, len, "%s", v->valuestring);
}

/* A byte count from the status line, range-checked before the cast. */
static uint64_t count_of(const cJSON *v)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble >= 18446744073709551616.0)
		return 0;
	return (uint64_t)v->valuedouble;
}

void exec_parse_status(const char *line, struct exec_result *r)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *v;

	if (!cJSON_IsObject(o))
		goto out;
	r->has_status = 1;
	copy_str(o, "phase", r->phase, sizeof r->phase);
	copy_str(o, "error", r->error, sizeof r->error);
	copy_str(o, "message", r->message, sizeof r->message);
	copy_str(o, "signal", r->signal, sizeof r->signal);
	copy_str(o, "hostkey", r->hostkey, sizeof r->hostkey);
	v = cJSON_GetObjectItemCaseSensitive(o, "exit");
	if (cJSON_IsNumber(v)) {
		r->has_exit = 1;
		r->exit_code = v->valuedouble >= 0 && v->valuedouble <= 255 ? v->valueint : 255;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "bytes_out");
	r->bytes_out = count_of(v);
	v = cJSON_GetObjectItemCaseSensitive(o, "bytes_err");
	r->bytes_err = count_of(v);
	r->truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "truncated"));
out:
	cJSON_Delete(o);
}

/* Move *FD above FD_SOURCE_MIN (close-on-exec): the file actions then
 * never overwrite a source that another dup2 still has to read. */
static int lift_fd(int *fd)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, FD_SOURCE_MIN);

	if (n < 0)
		return -errno;
	close(*fd);
	*fd = n;
	return 0;
}

/* A memfd holding DATA (LEN bytes), rewound, above FD_SOURCE_MIN; or -errno. */
static int memfd_of(const char *name, const char *data, size_t len)
{
	size_t off = 0;
	int fd = memfd_create(name, MFD_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t k = write(fd, data + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = k < 0 ? -errno : -EIO;
			goto fail;
		}
		off += (size_t)k;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = lift_fd(&fd)) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return rc;
}

/* Zero and empty a passphrase memfd nobody read, and close it. */
static void memfd_wipe_close(int fd, size_t len)
{
	static const char zeros[1024];
	size_t off = 0;

	while (off < len) {
		size_t k = len - off < sizeof zeros ? len - off : sizeof zeros;
		if (pwrite(fd, zeros, k, (off_t)off) != (ssize_t)k)
			break;
		off += k;
	}
	if (ftruncate(fd, 0) != 0) {
		/* the zeros are what counts */
	}
	close(fd);
}

static void fmt_secs(char *buf, size_t len, int64_t ms)
{
	snprintf(buf, len, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

int exec_run(const struct exec_spec *s, struct exec_result *r)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, stp[2] = { -1, -1 }, cmdfd = -1, passfd = -1;
	char t_conn[24], t_hs[24], t_run[24], maxout[24], fdnum[3][8], ppid[24], *home = NULL;
	char status[STATUS_MAX + 1];
	size_t slen = 0;
	const char *argv[28], *envp[3];
	int argc = 0, envc = 0, rc, open_fds = 3, ws = 0;
	struct exec_tail ring = { 0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid = -1;
	int64_t deadline, kill_at = 0, give_up_at = 0;

	memset(r, 0, sizeof *r);
	r->started_ms = clock_wall_ms();
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 || pipe2(stp, O_CLOEXEC) != 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = lift_fd(&outp[1])) != 0 || (rc = lift_fd(&errp[1])) != 0 ||
	    (rc = lift_fd(&stp[1])) != 0)
		goto out;
	if ((cmdfd = memfd_of("webhook-runner-command", s->command, strlen(s->command))) < 0) {
		rc = cmdfd;
		goto out;
	}
	if (s->passphrase &&
	    (passfd = memfd_of("webhook-runner-passphrase", s->passphrase, strlen(s->passphrase))) < 0) {
		rc = passfd;
		goto out;
	}
	if ((rc = exec_tail_init(&ring, s->tail_bytes)) != 0)
		goto out;
	fmt_secs(t_conn, sizeof t_conn, s->connect_timeout_ms);
	fmt_secs(t_hs, sizeof t_hs, s->handshake_timeout_ms);
	fmt_secs(t_run, sizeof t_run, s->timeout_ms);
	snprintf(maxout, sizeof maxout, "%zu", s->max_output_bytes);
	snprintf(fdnum[0], sizeof fdnum[0], "%d", FD_STATUS);
	snprintf(fdnum[1], sizeof fdnum[1], "%d", FD_COMMAND);
	snprintf(fdnum[2], sizeof fdnum[2], "%d", FD_PASSPHRASE);
	snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
	argv[argc++] = s->executor;
	argv[argc++] = "--status-fd";
	argv[argc++] = fdnum[0];
	/* If the daemon dies (kill -9, crash), the job stops with it rather than
	 * running on unrecorded: its next delivery then runs it exactly once. The
	 * death signal follows the spawning thread: ours live until shutdown. */
	argv[argc++] = "--exit-with-parent";
	/* Our pid, for the executor's check that we are still its parent once
	 * armed: in a container the daemon is often pid 1, which the executor
	 * would otherwise take for the init that adopted an orphan. */
	argv[argc++] = "--parent-pid";
	argv[argc++] = ppid;
	/* Templates quote for POSIX sh: have /bin/sh parse the command, never
	 * the account's login shell (fish and tcsh read quotes otherwise). */
	argv[argc++] = "--posix-sh";
	argv[argc++] = "--command-fd";
	argv[argc++] = fdnum[1];
	if (passfd >= 0) {
		argv[argc++] = "--passphrase-fd";
		argv[argc++] = fdnum[2];
	}
	argv[argc++] = "-i";
	argv[argc++] = s->identity;
	argv[argc++] = "-k";
	argv[argc++] = s->known_hosts;
	argv[argc++] = "--connect-timeout";
	argv[argc++] = t_conn;
	argv[argc++] = "--handshake-timeout";
	argv[argc++] = t_hs;
	argv[argc++] = "--timeout";
	argv[argc++] = t_run;
	if (s->max_output_bytes) {
		argv[argc++] = "--max-output";
		argv[argc++] = maxout;
	}
	argv[argc++] = s->destination;
	argv[argc] = NULL;
	envp[envc++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	if (getenv("HOME") && asprintf(&home, "HOME=%s", getenv("HOME")) >= 0)
		envp[envc++] = home;
	envp[envc] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_adddup2(&fa, stp[1], FD_STATUS);
	posix_spawn_file_actions_adddup2(&fa, cmdfd, FD_COMMAND);
	if (passfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, passfd, FD_PASSPHRASE);
	posix_spawn_file_actions_addclosefrom_np(&fa, passfd >= 0 ? FD_PASSPHRASE + 1 : FD_COMMAND + 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, s->executor, &fa, &at, (char *const *)argv, (char *const *)envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		rc = -rc;
		pid = -1;
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	close(stp[1]);
	outp[1] = errp[1] = stp[1] = -1;
	/* The child has its own descriptors on both memfds now. The passphrase
	 * one is the executor's to read and wipe: it may not have read it yet,
	 * so ours is only closed. */
	close(cmdfd);
	cmdfd = -1;
	if (passfd >= 0)
		close(passfd);
	passfd = -1;

	/* --timeout bounds the executor's whole run, connect included. */
	deadline = clock_mono_ms() + s->timeout_ms + DEADLINE_SLACK_MS;
	while (open_fds > 0) {
		struct pollfd p[3] = { { .fd = outp[0], .events = POLLIN }, { .fd = errp[0], .events = POLLIN },
			{ .fd = stp[0], .events = POLLIN } };
		int64_t now = clock_mono_ms(), next;
		char buf[16384];
		ssize_t n;
		int i, ms = 200; /* the shutdown flag is looked at this often */

		if (!kill_at && s->owner && slots_interrupted(s->owner)) {
			kill(-pid, SIGTERM);
			r->interrupted = 1;
			kill_at = now + KILL_GRACE_MS;
		} else if (!kill_at && now >= deadline) {
			kill(-pid, SIGTERM);
			r->killed = 1;
			kill_at = now + KILL_GRACE_MS;
		} else if (kill_at && kill_at != INT64_MAX && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = INT64_MAX;
			give_up_at = now + KILL_GRACE_MS;
		} else if (give_up_at && now >= give_up_at) {
			/* Something outside the group holds our pipes: stop waiting for it. */
			break;
		}
		/* Wake for the next step of the deadline, not a slice later. */
		next = (!kill_at ? deadline : kill_at != INT64_MAX ? kill_at : give_up_at) - clock_mono_ms();
		if (next < ms)
			ms = next > 0 ? (int)next : 0;
		if (poll(p, 3, ms) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 3; i++) {
			int *fd = i == 2 ? &stp[0] : i ? &errp[0] : &outp[0];
			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, buf, sizeof buf);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				open_fds--;
				continue;
			}
			if (i < 2) {
				exec_tail_put(&ring, buf, (size_t)n);
				liveout_put(s->live, i ? LIVEOUT_STDERR : LIVEOUT_STDOUT, buf, (size_t)n);
			} else if (slen < STATUS_MAX) {
				size_t k = (size_t)n < STATUS_MAX - slen ? (size_t)n : STATUS_MAX - slen;
				memcpy(status + slen, buf, k);
				slen += k;
			}
		}
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL); /* nothing of the job's group outlives it */
	r->wait_status = ws;
	status[slen] = '\0';
	exec_parse_status(status, r);
	if (!(r->tail = exec_tail_take(&ring, &r->tail_len))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	r->finished_ms = clock_wall_ms();
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (stp[0] >= 0)
		close(stp[0]);
	if (stp[1] >= 0)
		close(stp[1]);
	if (cmdfd >= 0)
		close(cmdfd);
	if (passfd >= 0) /* not handed over: nobody read it */
		memfd_wipe_close(passfd, strlen(s->passphrase));
	free(home);
	exec_tail_free(&ring);
	return rc;
}

void exec_result_clear(struct exec_result *r)
{
	free(r->tail);
	memset(r, 0, sizeof *r);
}

void exec_outcome(const struct exec_result *r, int *http, const char **state, int *retry_after)
{
	enum exstatus_error e;

	*retry_after = 0;
	*state = "failed";
	*http = 500;
	if (r->interrupted) {
		*http = 503;
		*state = "interrupted";
		*retry_after = 10;
		return;
	}
	if (r->unavailable) { /* nothing ran: the next delivery may */
		*http = 503;
		*retry_after = 30;
		return;
	}
	if (r->killed || !strcmp(r->error, exstatus_error_name(EXSTATUS_ETIMEOUT))) {
		*http = 504;
		*state = "timeout";
		return;
	}
	if (!r->has_status)
		return; /* the executor died without a word: 500 */
	if (!r->error[0]) {
		if (r->has_exit && r->exit_code == 0) {
			*http = 200;
			*state = "succeeded";
		}
		return; /* non-zero exit or remote signal: 500 */
	}
	if (exstatus_error_parse(r->error, &e) != 0)
		return; /* a name the executor does not write: 500 */
	if (exstatus_error_class(e) == EXSTATUS_CLASS_TRANSIENT) {
		*http = 503;
		*retry_after = 30;
	} else if (exstatus_error_class(e) == EXSTATUS_CLASS_SETUP) {
		*http = 502;
	}
}
