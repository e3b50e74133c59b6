/*
 * runner_exec.c — unit tests of runner/exec.c: exec_run's spawn contract,
 * and a job stopped by its slots' interrupt. (The outcome table:
 * runner_exec_outcome.c; the caps: runner_slots.c.)
 *
 * exec_run is driven with stand-in executors: small shell scripts written
 * into a mkdtemp directory that record what they were given (argv, the
 * initial environment from /proc/$$/environ, what descriptors 4 and 5
 * hold, open descriptors, process group) or behave in one way (long
 * output, a status line, no status line, ignoring SIGTERM, hanging, ending
 * at their --timeout as the executor does). They are test doubles of the
 * spawn contract only; the real remote-executor is covered end to end
 * elsewhere (tests/e2e/runner_jobs.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../runner/exec.h"
#include "../../runner/slots.h"
#include "t.h"

static char g_dir[64];

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

/* DIR/NAME into BUF. */
static const char *dpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", g_dir, name);
	return buf;
}

/* An executable script DIR/NAME: "#!/bin/sh\n" + BODY, where every @D in
 * BODY is replaced by the test directory. */
static void script(const char *name, const char *body)
{
	char p[PATH_MAX];
	FILE *f = fopen(dpath(p, sizeof p, name), "w");
	const char *s;

	if (!f)
		abort();
	fputs("#!/bin/sh\n", f);
	for (s = body; *s; s++) {
		if (s[0] == '@' && s[1] == 'D') {
			fputs(g_dir, f);
			s++;
		} else {
			fputc(*s, f);
		}
	}
	fclose(f);
	chmod(p, 0700);
}

/* Whole file DIR/NAME, malloc'ed and NUL-terminated (length in *LEN). */
static char *slurp(const char *name, size_t *len)
{
	char p[PATH_MAX], *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(dpath(p, sizeof p, name), "rb");

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap && !(buf = realloc(buf, cap = cap * 2 + 8192)))
			abort();
		size_t k = fread(buf + n, 1, 4096, f);
		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* A spec for the stand-in executor DIR/NAME. */
static struct exec_spec spec_for(const char *name, char *exe, size_t cap)
{
	struct exec_spec s = {
		.executor = dpath(exe, cap, name),
		.destination = "deploy@build.example:2222",
		.identity = "/keys/id_ed25519",
		.known_hosts = "/keys/known_hosts",
		.passphrase = NULL,
		.command = "echo hi",
		.timeout_ms = 30000,
		.connect_timeout_ms = 10000,
		.handshake_timeout_ms = 10000,
		.max_output_bytes = 1 << 20,
		.tail_bytes = 4096,
	};
	return s;
}

/* ---- exec_run with stand-in executors ---- */

/* Split a NUL-separated file into at most MAX strings (pointing into BUF). */
static int split0(char *buf, size_t len, char **v, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		v[n++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	return n;
}

static const char INJECT[] = "echo \"$HOME\" `id` $(touch @D/pwned); rm -rf '/' && x=\\ y *";

static void test_run_argv(void)
{
	char exe[PATH_MAX], p[PATH_MAX], cmd[256], *buf, *av[40];
	struct exec_spec s = spec_for("argv.sh", exe, sizeof exe);
	struct exec_result r;
	size_t len = 0, k;
	int n, i;
	char ppid[24];
	const char *want[] = { "--status-fd", "3", "--exit-with-parent", "--parent-pid", ppid,
		"--posix-sh", "--command-fd", "4", "-i", "/keys/id_ed25519", "-k", "/keys/known_hosts", "--connect-timeout", "0.100",
		"--handshake-timeout", "12.000", "--timeout", "1.500", "--max-output", "777",
		"deploy@build.example:2222" };
	const int nwant = (int)(sizeof want / sizeof want[0]);

	/* The daemon's own pid, for the executor's parent check. */
	snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
	script("argv.sh", "printf '%s\\0' \"$0\" \"$@\" > @D/argv.out\n"
			  "cat <&4 > @D/cmd.out\n");
	/* The command, with @D expanded like the script's, must arrive byte
	 * for byte on descriptor 4, and not in argv. */
	snprintf(cmd, sizeof cmd, "%s", INJECT);
	{
		char *at = strstr(cmd, "@D");
		char rest[256];
		snprintf(rest, sizeof rest, "%s", at + 2);
		snprintf(at, sizeof cmd - (size_t)(at - cmd), "%s%s", g_dir, rest);
	}
	s.command = cmd;
	s.connect_timeout_ms = 100;
	s.handshake_timeout_ms = 12000;
	s.timeout_ms = 1500;
	s.max_output_bytes = 777;
	T_EQ_INT(exec_run(&s, &r), 0);
	buf = slurp("argv.out", &len);
	T_CHECK(buf != NULL);
	if (buf) {
		n = split0(buf, len, av, 40);
		T_EQ_INT(n, nwant + 1);
		T_STR(av[0], exe);
		for (i = 0; i < nwant && i + 1 < n; i++)
			T_STR(av[i + 1], want[i]);
		for (k = 0; k < len; k++)
			buf[k] = buf[k] ? buf[k] : ' ';
		T_CHECK(strstr(buf, "pwned") == NULL);
	}
	free(buf);
	buf = slurp("cmd.out", &len);
	T_STR(buf, cmd);
	T_EQ_INT(len, strlen(cmd));
	free(buf);
	T_CHECK(access(dpath(p, sizeof p, "pwned"), F_OK) != 0);
	T_EQ_INT(r.has_status, 0);
	T_CHECK(WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0);
	T_CHECK(r.finished_ms >= r.started_ms && r.started_ms > 1600000000000LL);
	exec_result_clear(&r);

	/* No output cap: no --max-output; whole seconds still carry the fraction. */
	s.max_output_bytes = 0;
	s.timeout_ms = 300000;
	s.connect_timeout_ms = 10000;
	s.handshake_timeout_ms = 10;
	s.command = "uptime";
	T_EQ_INT(exec_run(&s, &r), 0);
	exec_result_clear(&r);
	buf = slurp("argv.out", &len);
	T_CHECK(buf != NULL);
	if (buf) {
		const char *want2[] = { "--status-fd", "3", "--exit-with-parent", "--parent-pid",
			ppid, "--posix-sh", "--command-fd", "4", "-i", "/keys/id_ed25519", "-k", "/keys/known_hosts",
			"--connect-timeout", "10.000", "--handshake-timeout", "0.010", "--timeout",
			"300.000", "deploy@build.example:2222" };
		n = split0(buf, len, av, 40);
		T_EQ_INT(n, (int)(sizeof want2 / sizeof want2[0]) + 1);
		for (i = 0; i < (int)(sizeof want2 / sizeof want2[0]) && i + 1 < n; i++)
			T_STR(av[i + 1], want2[i]);
	}
	free(buf);
	buf = slurp("cmd.out", &len);
	T_STR(buf, "uptime");
	free(buf);
}

static void test_run_environment(void)
{
	char exe[PATH_MAX], *buf, *ev[40], *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	struct exec_spec s = spec_for("env.sh", exe, sizeof exe);
	struct exec_result r;
	size_t len = 0;
	int n, i, seen_path = 0, seen_home = 0;

	script("env.sh", "cat /proc/$$/environ > @D/env.out\n"
			 "printf '%s\\0' \"$@\" > @D/env-argv.out\n"
			 ": > @D/pass.out; (cat <&5 >> @D/pass.out) 2>/dev/null\n");
	setenv("HOME", "/home/runner-test", 1);
	setenv("WR_TEST_LEAK", "must-not-reach-the-executor", 1);
	setenv("SSH_AUTH_SOCK", "/tmp/agent.sock", 1);
	s.passphrase = "correct horse battery";
	T_EQ_INT(exec_run(&s, &r), 0);
	exec_result_clear(&r);
	buf = slurp("env.out", &len);
	T_CHECK(buf != NULL);
	if (buf) {
		size_t k;
		n = split0(buf, len, ev, 40);
		for (i = 0; i < n; i++) {
			if (!strcmp(ev[i], "PATH=/usr/local/bin:/usr/bin:/bin"))
				seen_path++;
			else if (!strcmp(ev[i], "HOME=/home/runner-test"))
				seen_home++;
			else
				T_STR(ev[i], "(only PATH and HOME)");
		}
		T_EQ_INT(seen_path, 1);
		T_EQ_INT(seen_home, 1);
		for (k = 0; k < len; k++)
			buf[k] = buf[k] ? buf[k] : ' ';
		T_CHECK(strstr(buf, "correct horse") == NULL);
	}
	free(buf);
	/* The passphrase travels on descriptor 5, never in argv or envp. */
	buf = slurp("pass.out", &len);
	T_STR(buf, "correct horse battery");
	free(buf);
	buf = slurp("env-argv.out", &len);
	T_CHECK(buf != NULL);
	if (buf) {
		size_t k;
		int flag = 0;
		n = split0(buf, len, ev, 40);
		for (i = 0; i < n; i++)
			if (!strcmp(ev[i], "--passphrase-fd") && i + 1 < n && !strcmp(ev[i + 1], "5"))
				flag = 1;
		T_CHECK(flag);
		for (k = 0; k < len; k++)
			buf[k] = buf[k] ? buf[k] : ' ';
		T_CHECK(strstr(buf, "correct horse") == NULL);
		T_CHECK(strstr(buf, "--passphrase-env") == NULL);
		T_CHECK(strstr(buf, "--command-fd 4 --passphrase-fd 5 -i /keys/id_ed25519") != NULL);
	}
	free(buf);

	/* Without a passphrase: neither the descriptor nor the option. */
	s.passphrase = NULL;
	T_EQ_INT(exec_run(&s, &r), 0);
	exec_result_clear(&r);
	buf = slurp("env.out", &len);
	if (buf) {
		n = split0(buf, len, ev, 40);
		T_EQ_INT(n, 2);
		for (i = 0; i < n; i++)
			T_CHECK(strncmp(ev[i], "WR_PASSPHRASE=", 14) != 0);
	}
	free(buf);
	buf = slurp("env-argv.out", &len);
	if (buf) {
		n = split0(buf, len, ev, 40);
		for (i = 0; i < n; i++) {
			T_CHECK(strcmp(ev[i], "--passphrase-env") != 0);
			T_CHECK(strcmp(ev[i], "--passphrase-fd") != 0);
		}
	}
	free(buf);
	buf = slurp("pass.out", &len); /* cat <&5 failed: 5 is not open */
	T_CHECK(buf && len == 0);
	free(buf);

	/* HOME unset in the runner: not invented for the child. */
	unsetenv("HOME");
	T_EQ_INT(exec_run(&s, &r), 0);
	exec_result_clear(&r);
	buf = slurp("env.out", &len);
	if (buf) {
		n = split0(buf, len, ev, 40);
		T_EQ_INT(n, 1);
		T_STR(ev[0], "PATH=/usr/local/bin:/usr/bin:/bin");
	}
	free(buf);

	unsetenv("WR_TEST_LEAK");
	unsetenv("SSH_AUTH_SOCK");
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
}

/* ls -l /proc/$$/fd: "lr-x------ 1 u g 64 Jan 1 00:00 10 -> /path" lines.
 * With PASS, descriptors 0-5 must be there (5 the passphrase memfd), else
 * 0-4; nothing beyond. */
static void descriptors_once(const char *pass)
{
	char exe[PATH_MAX], *buf, *line, *save = NULL;
	struct exec_spec s = spec_for("fds.sh", exe, sizeof exe);
	struct exec_result r;
	char target[6][256] = { { 0 } };
	int seen[6] = { 0 }, extra = 0, pid = -1, pgid = -2, fd, top = pass ? 5 : 4, k;

	/* The listing goes to stdout (the tail): a redirection would make the
	 * shell itself keep copies of its descriptors while ls looks. */
	script("fds.sh", "ls -l /proc/$$/fd\n"
			 "cut -d' ' -f1,5 /proc/$$/stat > @D/pgid.out\n"
			 "cat > @D/stdin.out\n");
	s.passphrase = pass;
	/* Descriptors the runner has open must not leak into the child,
	 * whether or not they are close-on-exec. */
	fd = open("/dev/zero", O_RDONLY);
	T_EQ_INT(exec_run(&s, &r), 0);
	if (fd >= 0)
		close(fd);
	buf = r.tail;
	r.tail = NULL;
	exec_result_clear(&r);
	T_CHECK(buf != NULL);
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, " -> "), *num;
		if (!arrow)
			continue; /* "total 0" */
		*arrow = '\0';
		num = strrchr(line, ' ');
		k = num ? atoi(num + 1) : -1;
		if (k >= 0 && k <= top) {
			seen[k]++;
			snprintf(target[k], sizeof target[k], "%s", arrow + 4);
		} else if (strcmp(arrow + 4, exe) != 0) {
			/* Only the shell's own handle on its script may be extra. */
			extra++;
			T_STR(arrow + 4, pass ? "(no descriptor beyond 0-5)" : "(no descriptor beyond 0-4)");
		}
	}
	free(buf);
	T_EQ_INT(extra, 0);
	for (k = 0; k <= top; k++)
		T_EQ_INT(seen[k], 1);
	T_STR(target[0], "/dev/null");
	T_CHECK(!strncmp(target[1], "pipe:", 5));
	T_CHECK(!strncmp(target[2], "pipe:", 5));
	T_CHECK(strcmp(target[2], target[1]) != 0); /* stdout and stderr: a pipe each */
	T_CHECK(!strncmp(target[3], "pipe:", 5));
	T_CHECK(strcmp(target[3], target[1]) != 0);
	T_CHECK(strcmp(target[3], target[2]) != 0);
	T_CHECK(!strncmp(target[4], "/memfd:webhook-runner-command", 29));
	if (pass)
		T_CHECK(!strncmp(target[5], "/memfd:webhook-runner-passphrase", 32));

	buf = slurp("stdin.out", NULL);
	T_CHECK(buf && buf[0] == '\0');
	free(buf);

	buf = slurp("pgid.out", NULL);
	T_CHECK(buf && sscanf(buf, "%d %d", &pid, &pgid) == 2);
	free(buf);
	T_CHECK(pid > 0);
	T_EQ_INT(pgid, pid);
	T_CHECK(pgid != getpgrp());
}

static void test_run_descriptors_stdin_pgid(void)
{
	descriptors_once(NULL);
	descriptors_once("a passphrase");
}

/* The runner's own descriptors on 3-5 (a daemon has its sockets and its
 * database there): the child still finds the status pipe on 3, the
 * command on 4 and the passphrase on 5, and the runner's own descriptors
 * are left as they were. */
static void test_run_descriptors_low_numbers_taken(void)
{
	char exe[PATH_MAX], *buf;
	struct exec_spec s = spec_for("fdnums.sh", exe, sizeof exe);
	struct exec_result r;
	int held[3], i;
	size_t len = 0;

	for (i = 0; i < 3; i++)
		held[i] = open("/dev/null", O_RDONLY);
	script("fdnums.sh", "cat <&4 > @D/fdnums.cmd\n"
			    "cat <&5 > @D/fdnums.pass\n"
			    "echo '{\"v\":1,\"phase\":\"done\",\"error\":null,\"exit\":0}' >&3\n");
	s.command = "the command";
	s.passphrase = "the passphrase";
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 1);
	T_EQ_INT(r.has_exit, 1);
	exec_result_clear(&r);
	buf = slurp("fdnums.cmd", &len);
	T_STR(buf, "the command");
	free(buf);
	buf = slurp("fdnums.pass", &len);
	T_STR(buf, "the passphrase");
	free(buf);
	for (i = 0; i < 3; i++) {
		T_CHECK(held[i] >= 3);
		T_CHECK(fcntl(held[i], F_GETFD) >= 0);
		close(held[i]);
	}
}

/* The expected output of `seq 1 N`, malloc'ed. */
static char *seq_text(int n, size_t *len)
{
	char *s = malloc((size_t)n * 8 + 1), *p = s;
	int i;

	if (!s)
		abort();
	for (i = 1; i <= n; i++)
		p += sprintf(p, "%d\n", i);
	*len = (size_t)(p - s);
	return s;
}

static void test_run_output_tail(void)
{
	char exe[PATH_MAX], *all;
	struct exec_spec s = spec_for("out.sh", exe, sizeof exe);
	struct exec_result r;
	size_t len;
	static const size_t caps[] = { 1, 100, 16384, 100000, 4096 };
	size_t i;

	/* ~290 KB, stdout and stderr interleaved in many writes. */
	script("out.sh", "seq 1 30000\nseq 30001 50000 >&2\n");
	all = seq_text(50000, &len);
	for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		s.tail_bytes = caps[i];
		T_EQ_INT(exec_run(&s, &r), 0);
		T_EQ_INT(r.tail_len, caps[i]);
		T_CHECK(r.tail && strlen(r.tail) == r.tail_len);
		T_CHECK(r.tail && !memcmp(r.tail, all + len - caps[i], caps[i]));
		exec_result_clear(&r);
	}

	/* Less output than the cap: all of it. */
	script("short.sh", "printf 'one\\n'; printf 'two\\n' >&2\n");
	s = spec_for("short.sh", exe, sizeof exe);
	T_EQ_INT(exec_run(&s, &r), 0);
	T_STR(r.tail, "one\ntwo\n");
	T_EQ_INT(r.tail_len, 8);
	exec_result_clear(&r);

	/* No tail wanted (output_tail_bytes 0 is valid config). */
	s = spec_for("out.sh", exe, sizeof exe);
	s.tail_bytes = 0;
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.tail_len, 0);
	T_CHECK(r.tail && r.tail[0] == '\0');
	exec_result_clear(&r);
	free(all);
}

static void test_run_status_line(void)
{
	char exe[PATH_MAX];
	struct exec_spec s = spec_for("status.sh", exe, sizeof exe);
	struct exec_result r;
	int http, ra;
	const char *state;

	script("status.sh",
	    "echo working\n"
	    "printf '%s\\n' '{\"v\":1,\"phase\":\"done\",\"error\":null,\"message\":null,\"exit\":7,"
	    "\"signal\":null,\"bytes_out\":12,\"bytes_err\":3,\"truncated\":true,\"user\":\"deploy\","
	    "\"host\":\"build.example\",\"port\":2222,\"hostkey_type\":\"ssh-ed25519\","
	    "\"hostkey\":\"SHA256:abcdef\",\"ms\":{\"connect\":1,\"total\":35}}' >&3\n"
	    "exit 7\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 1);
	T_STR(r.phase, "done");
	T_STR(r.error, "");
	T_EQ_INT(r.has_exit, 1);
	T_EQ_INT(r.exit_code, 7);
	T_STR(r.signal, "");
	T_EQ_INT(r.bytes_out, 12);
	T_EQ_INT(r.bytes_err, 3);
	T_EQ_INT(r.truncated, 1);
	T_STR(r.hostkey, "SHA256:abcdef");
	T_EQ_INT(r.killed, 0);
	T_CHECK(WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 7);
	T_STR(r.tail, "working\n");
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 500);
	exec_result_clear(&r);

	/* A local failure: error named, no exit; written in two pieces. */
	script("status.sh",
	    "printf '{\"v\":1,\"phase\":\"auth\",\"error\":\"auth\",' >&3\n"
	    "sleep 0.1\n"
	    "printf '\"message\":\"server refused every key\",\"exit\":null,\"signal\":null,"
	    "\"bytes_out\":0,\"bytes_err\":0,\"truncated\":false}\\n' >&3\n"
	    "exit 255\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 1);
	T_STR(r.phase, "auth");
	T_STR(r.error, "auth");
	T_STR(r.message, "server refused every key");
	T_EQ_INT(r.has_exit, 0);
	T_EQ_INT(r.truncated, 0);
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 502);
	exec_result_clear(&r);

	/* Remote signal. */
	script("status.sh",
	    "echo '{\"v\":1,\"phase\":\"done\",\"error\":null,\"exit\":null,\"signal\":\"KILL\","
	    "\"bytes_out\":0,\"bytes_err\":0,\"truncated\":false}' >&3\nexit 255\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 1);
	T_STR(r.signal, "KILL");
	T_EQ_INT(r.has_exit, 0);
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 500);
	exec_result_clear(&r);

	/* Success. */
	script("status.sh", "echo '{\"v\":1,\"phase\":\"done\",\"error\":null,\"exit\":0}' >&3\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 200);
	T_STR(state, "succeeded");
	exec_result_clear(&r);

	/* Over-long fields are cut, not overflowed. */
	script("status.sh",
	    "printf '{\"phase\":\"' >&3; head -c 5000 /dev/zero | tr '\\0' a >&3; "
	    "printf '\",\"error\":\"io\"}' >&3\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 0); /* beyond the status cap: not a status line */
	exec_result_clear(&r);
	script("status.sh",
	    "printf '{\"phase\":\"' >&3; head -c 1000 /dev/zero | tr '\\0' a >&3; "
	    "printf '\",\"error\":\"io\"}' >&3\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 1);
	T_EQ_INT(strlen(r.phase), sizeof r.phase - 1);
	T_STR(r.error, "io");
	exec_result_clear(&r);
}

static void test_run_no_status(void)
{
	char exe[PATH_MAX];
	struct exec_spec s = spec_for("nostatus.sh", exe, sizeof exe);
	struct exec_result r;
	int http, ra;
	const char *state;

	script("nostatus.sh", "echo 'segfault, say'\nexit 3\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 0);
	T_EQ_INT(r.has_exit, 0);
	T_EQ_INT(r.killed, 0);
	T_CHECK(WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 3);
	T_STR(r.tail, "segfault, say\n");
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 500);
	T_STR(state, "failed");
	exec_result_clear(&r);

	/* Garbage on the status descriptor is no status either. */
	script("nostatus.sh", "echo 'not json' >&3\nexit 0\n");
	T_EQ_INT(exec_run(&s, &r), 0);
	T_EQ_INT(r.has_status, 0);
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 500);
	exec_result_clear(&r);

	/* An executor that cannot be started at all. */
	s.executor = "/nonexistent/remote-executor";
	T_CHECK(exec_run(&s, &r) < 0);
	exec_result_clear(&r);
}

static int gone(int pid)
{
	char p[64], *st;
	FILE *f;
	int z = 0;

	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	if (!(f = fopen(p, "r")))
		return 1;
	st = fgets(p, sizeof p, f);
	fclose(f);
	/* A zombie waiting for its reaper is dead too. */
	if (st && (st = strrchr(p, ')')))
		z = st[1] == ' ' && (st[2] == 'Z' || st[2] == 'X');
	return z;
}

static void test_run_hard_deadline(void)
{
	char exe[PATH_MAX], *buf;
	struct exec_spec s = spec_for("stuck.sh", exe, sizeof exe);
	struct exec_result r;
	int64_t t0, dt;
	int child = -1, i, http, ra;
	const char *state;

	/* Ignores SIGTERM (and so does its child), never writes a status line. */
	script("stuck.sh", "trap '' TERM\n"
			   "sleep 60 &\n"
			   "echo $! > @D/child.pid\n"
			   "echo started\n"
			   "wait\n"
			   "wait\n");
	s.timeout_ms = 200;
	s.connect_timeout_ms = 100;
	t0 = clock_mono_ms();
	T_EQ_INT(exec_run(&s, &r), 0);
	dt = clock_mono_ms() - t0;
	/* SIGTERM at 200 + 250 slack (the connect timeout no longer adds:
	 * --timeout covers the whole run), ignored, SIGKILL 500 later. */
	T_CHECK(dt >= 950);
	T_CHECK(dt < 2500);
	T_EQ_INT(r.killed, 1);
	T_EQ_INT(r.has_status, 0);
	T_CHECK(WIFSIGNALED(r.wait_status) && WTERMSIG(r.wait_status) == SIGKILL);
	T_STR(r.tail, "started\n");
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 504);
	T_STR(state, "timeout");
	exec_result_clear(&r);

	buf = slurp("child.pid", NULL);
	T_CHECK(buf && (child = atoi(buf)) > 0);
	free(buf);
	for (i = 0; child > 0 && i < 50 && !gone(child); i++)
		usleep(20000);
	T_CHECK(child > 0 && gone(child));
}

/* A stand-in that hangs but honours SIGTERM, and one that ends at its
 * --timeout with the executor's "timeout" status line: with a 1 s job
 * timeout the first is killed at the backstop (1.25 s), the second is
 * answered at 1 s, both a 504. A 10 s connect timeout changes neither. */
static void test_run_deadline_one_second(void)
{
	char exe[PATH_MAX];
	struct exec_spec s = spec_for("hang.sh", exe, sizeof exe);
	struct exec_result r;
	int64_t t0, dt;
	int http, ra;
	const char *state;

	script("hang.sh", "exec sleep 60\n");
	s.timeout_ms = 1000;
	s.connect_timeout_ms = 10000;
	t0 = clock_mono_ms();
	T_EQ_INT(exec_run(&s, &r), 0);
	dt = clock_mono_ms() - t0;
	T_CHECK(dt >= 1250);
	T_CHECK(dt < 1700);
	T_EQ_INT(r.killed, 1);
	T_CHECK(WIFSIGNALED(r.wait_status) && WTERMSIG(r.wait_status) == SIGTERM);
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 504);
	T_STR(state, "timeout");
	exec_result_clear(&r);

	s = spec_for("owntimeout.sh", exe, sizeof exe);
	script("owntimeout.sh", "sleep 1\n"
				"echo '{\"v\":1,\"phase\":\"exec\",\"error\":\"timeout\",\"exit\":null}' >&3\n"
				"exit 255\n");
	s.timeout_ms = 1000;
	s.connect_timeout_ms = 10000;
	t0 = clock_mono_ms();
	T_EQ_INT(exec_run(&s, &r), 0);
	dt = clock_mono_ms() - t0;
	T_CHECK(dt >= 1000);
	T_CHECK(dt < 1250);
	T_EQ_INT(r.killed, 0);
	T_STR(r.error, "timeout");
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 504);
	T_STR(state, "timeout");
	exec_result_clear(&r);
}

/* A job run under slots that are interrupted (the drain timed out) is
 * stopped with SIGTERM at once and says so: 503 "interrupted", retried by
 * the next delivery. Without an owner nothing interrupts it. */
static void test_run_interrupted_by_slots(void)
{
	char exe[PATH_MAX];
	struct exec_spec s = spec_for("interrupt.sh", exe, sizeof exe);
	struct exec_result r;
	struct slots *sl = NULL;
	int64_t t0, dt;
	int http, ra;
	const char *state;

	script("interrupt.sh", "exec sleep 60\n");
	T_EQ_INT(slots_new(2, 1, &sl), 0);
	if (!sl)
		return;
	T_EQ_INT(slots_interrupted(sl), 0);
	slots_interrupt_all(sl);
	T_EQ_INT(slots_interrupted(sl), 1);
	s.owner = sl;
	t0 = clock_mono_ms();
	T_EQ_INT(exec_run(&s, &r), 0);
	dt = clock_mono_ms() - t0;
	T_CHECK(dt < 1000);
	T_EQ_INT(r.interrupted, 1);
	T_EQ_INT(r.killed, 0);
	T_CHECK(WIFSIGNALED(r.wait_status) && WTERMSIG(r.wait_status) == SIGTERM);
	exec_outcome(&r, &http, &state, &ra);
	T_EQ_INT(http, 503);
	T_STR(state, "interrupted");
	T_EQ_INT(ra, 10);
	exec_result_clear(&r);
	slots_free(sl);
}

int main(void)
{
	char cmd[128];

	signal(SIGPIPE, SIG_IGN);
	snprintf(g_dir, sizeof g_dir, "/tmp/runner_exec.XXXXXX");
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	T_RUN(test_run_argv);
	T_RUN(test_run_environment);
	T_RUN(test_run_descriptors_stdin_pgid);
	T_RUN(test_run_descriptors_low_numbers_taken);
	T_RUN(test_run_output_tail);
	T_RUN(test_run_status_line);
	T_RUN(test_run_no_status);
	T_RUN(test_run_hard_deadline);
	T_RUN(test_run_deadline_one_second);
	T_RUN(test_run_interrupted_by_slots);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
