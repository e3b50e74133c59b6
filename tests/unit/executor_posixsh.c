/*
 * executor_posixsh.c — unit tests of executor/posixsh.c against real
 * shells: the script's exact text; that /bin/sh reading it runs the
 * command exactly as `sh -c COMMAND` run directly (execve, no shell in
 * between) does, for hostile commands; that every cut-short script runs
 * nothing in dash, bash and /bin/sh (and that the same cut of an unbraced
 * script does run a shorter command, so the check can fail); NUL refused.
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
#include <unistd.h>

#include "../../executor/posixsh.h"
#include "t.h"

static char g_dir[64];

struct buf {
	char *p;
	size_t n;
};

/* Run ARGV with IN (N bytes) on stdin; its stdout in *OUT (malloc'ed,
 * NUL-terminated), its wait status returned (-1: could not run). */
static int run(char *const argv[], const char *in, size_t n, struct buf *out)
{
	int ip[2], op[2], ws = -1;
	pid_t pid;
	size_t off = 0, cap = 4096;

	out->p = malloc(cap + 1);
	out->n = 0;
	if (!out->p || pipe(ip) != 0 || pipe(op) != 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(ip[0], 0);
		dup2(op[1], 1);
		dup2(null, 2); /* the syntax errors of cut scripts are expected */
		close(ip[0]); close(ip[1]); close(op[0]); close(op[1]); close(null);
		if (chdir(g_dir) != 0) /* whatever a broken case creates lands there */
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	/* Small inputs: a pipe takes them whole; larger ones are written by a
	 * child so that reading our end cannot deadlock against it. */
	if (n > 32768) {
		pid_t w = fork();
		if (w == 0) {
			close(op[0]);
			while (off < n) {
				ssize_t k = write(ip[1], in + off, n - off);
				if (k <= 0)
					_exit(1);
				off += (size_t)k;
			}
			_exit(0);
		}
		close(ip[1]);
		for (;;) {
			ssize_t k;
			if (out->n == cap && !(out->p = realloc(out->p, (cap *= 2) + 1)))
				abort();
			k = read(op[0], out->p + out->n, cap - out->n);
			if (k <= 0)
				break;
			out->n += (size_t)k;
		}
		waitpid(w, NULL, 0);
	} else {
		while (off < n) {
			ssize_t k = write(ip[1], in + off, n - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		close(ip[1]);
		for (;;) {
			ssize_t k;
			if (out->n == cap && !(out->p = realloc(out->p, (cap *= 2) + 1)))
				abort();
			k = read(op[0], out->p + out->n, cap - out->n);
			if (k <= 0)
				break;
			out->n += (size_t)k;
		}
	}
	close(op[0]);
	out->p[out->n] = '\0';
	waitpid(pid, &ws, 0);
	return ws;
}

static void test_script_text(void)
{
	char *s = NULL;
	size_t n = 0;

	T_EQ_INT(posixsh_script("echo hi", 7, &s, &n), 0);
	T_EQ_STR(s, "{ exec /bin/sh -c 'echo hi' </dev/null; }\n");
	T_EQ_INT(n, strlen("{ exec /bin/sh -c 'echo hi' </dev/null; }\n"));
	free(s);
	s = NULL;
	T_EQ_INT(posixsh_script("a'b", 3, &s, &n), 0);
	T_EQ_STR(s, "{ exec /bin/sh -c 'a'\\''b' </dev/null; }\n");
	free(s);
	s = NULL;
	T_EQ_INT(posixsh_script("a\0b", 3, &s, &n), -EINVAL);
	T_CHECK(s == NULL);
	T_EQ_STR(POSIXSH_EXEC_REQUEST, "exec /bin/sh");
}

/* The commands: each prints what it got, and would touch @D/inj if any
 * level of quoting were lost. */
static const char *const hostile[] = {
	"printf '%s\\n' '$(touch @D/inj)' '`touch @D/inj`'",
	"printf '%s\\n' '\\'\\'';touch @D/inj;#' \"';touch @D/inj;#\"",
	"printf '%s|' \\\\ \\' '\"' ! '$HOME' '*' 'a b' %s; echo",
	"printf '%s\\n' \"$(printf 'sub %s' '$(touch @D/inj)')\" `echo bq`",
	"x='multi\nline'; printf '<%s>\\n' \"$x\"; exit 3",
	"printf '%s\\n' 'h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac'",
	"cat; echo stdin-was-empty",
	"printf '%s\\n' \"$0\"",
	"}; touch @D/inj; {",
	"' </dev/null; }; touch @D/inj; { :",
};

/* @D in S replaced by the test directory. */
static char *with_dir(const char *s)
{
	size_t n = strlen(s) + 1, dl = strlen(g_dir);
	const char *p;
	char *o, *q;

	for (p = s; (p = strstr(p, "@D")); p += 2)
		n += dl;
	if (!(o = q = malloc(n)))
		abort();
	for (p = s; *p;) {
		if (p[0] == '@' && p[1] == 'D') {
			memcpy(q, g_dir, dl);
			q += dl;
			p += 2;
		} else {
			*q++ = *p++;
		}
	}
	*q = '\0';
	return o;
}

static int exists(const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	return access(p, F_OK) == 0;
}

static void unlink_in(const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	unlink(p);
}

/* Through the script and /bin/sh's stdin, as directly as `sh -c`. */
static void same_as_direct(const char *cmd_tmpl)
{
	char *cmd = with_dir(cmd_tmpl), *script = NULL;
	char *direct[] = { "/bin/sh", "-c", cmd, NULL }, *viastdin[] = { "/bin/sh", NULL };
	struct buf a, b;
	size_t n = 0;
	int wa, wb;

	T_EQ_INT(posixsh_script(cmd, strlen(cmd), &script, &n), 0);
	wa = run(direct, "", 0, &a);
	if (exists("inj"))
		fprintf(stderr, "injected directly: %s\n", cmd);
	T_CHECK(!exists("inj"));
	if (script) {
		wb = run(viastdin, script, n, &b);
		T_CHECK(!exists("inj"));
		T_EQ_INT(wb, wa);
		T_EQ_INT(b.n, a.n);
		T_CHECK(b.n == a.n && !memcmp(a.p, b.p, a.n));
		free(b.p);
	}
	free(a.p);
	free(script);
	free(cmd);
	unlink_in("inj");
}

static void test_runs_as_sh_c(void)
{
	char *cmd = with_dir(hostile[1]), *script = NULL, *want, *viastdin[] = { "/bin/sh", NULL };
	struct buf o;
	size_t i, n = 0;

	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
		same_as_direct(hostile[i]);
	/* And what that is, for one of them: the values, verbatim. */
	want = with_dir("\\';touch @D/inj;#\n';touch @D/inj;#\n");
	T_EQ_INT(posixsh_script(cmd, strlen(cmd), &script, &n), 0);
	if (script) {
		T_EQ_INT(run(viastdin, script, n, &o), 0);
		T_EQ_STR(o.p, want);
		free(o.p);
	}
	T_CHECK(!exists("inj"));
	free(script);
	free(want);
	free(cmd);
}

/* A 100 KiB command full of quotes (under Linux's 128 KiB per argument). */
static void test_long_command(void)
{
	char *piece = with_dir("'\\\"$(touch @D/inj)`x`"), *v;
	size_t n, cap = 100 * 1024;

	if (!(v = malloc(cap + 64)))
		abort();
	strcpy(v, "printf %s ");
	n = strlen(v);
	while (n + 2 * strlen(piece) + 8 < cap) {
		/* each piece single-quoted for the command: ' becomes '\'' */
		const char *p;
		v[n++] = '\'';
		for (p = piece; *p; p++) {
			if (*p == '\'') {
				memcpy(v + n, "'\\''", 4);
				n += 4;
			} else {
				v[n++] = *p;
			}
		}
		v[n++] = '\'';
		v[n++] = ' ';
	}
	v[n] = '\0';
	T_CHECK(n > 90 * 1024);
	same_as_direct(v);
	free(v);
	free(piece);
}

/* Feed every prefix of SCRIPT (N bytes) to SHELL; return how many ran the
 * marker command (touched @D/ran), and which prefixes in *FIRST. */
static int prefixes_that_run(const char *shell, const char *script, size_t n, size_t *first)
{
	char *argv[] = { (char *)shell, NULL };
	struct buf o;
	size_t len;
	int ran = 0;

	*first = n + 1;
	for (len = 0; len <= n; len++) {
		unlink_in("ran");
		run(argv, script, len, &o);
		free(o.p);
		if (exists("ran")) {
			if (!ran)
				*first = len;
			ran++;
		}
	}
	unlink_in("ran");
	return ran;
}

static void test_cut_short_runs_nothing(void)
{
	static const char *const shells[] = { "/bin/sh", "/bin/dash", "/bin/bash" };
	char *cmd = with_dir("touch '@D/ran'; echo 'after'"), *script = NULL, *bare;
	size_t n = 0, first, i;

	T_EQ_INT(posixsh_script(cmd, strlen(cmd), &script, &n), 0);
	if (!script) {
		free(cmd);
		return;
	}
	for (i = 0; i < sizeof shells / sizeof shells[0]; i++) {
		if (access(shells[i], X_OK) != 0)
			continue;
		/* Only the whole script, and the whole but its newline, run. */
		T_EQ_INT(prefixes_that_run(shells[i], script, n, &first), 2);
		T_EQ_INT(first, n - 1);
	}
	/* The same without the braces: a cut inside the command, just after
	 * its first quoted word, is a complete shorter command. This is what
	 * the braces are for, and it shows the check above can fail. */
	if (asprintf(&bare, "exec /bin/sh -c %.*s </dev/null\n", (int)(n - strlen("{ exec /bin/sh -c ") -
		    strlen(" </dev/null; }\n")), script + strlen("{ exec /bin/sh -c ")) > 0) {
		T_CHECK(prefixes_that_run("/bin/dash", bare, strlen(bare), &first) > 2);
		T_CHECK(first < strlen(bare) - strlen(" </dev/null\n"));
		free(bare);
	}
	free(script);
	free(cmd);
}

int main(void)
{
	char cmd[128];

	signal(SIGPIPE, SIG_IGN);
	snprintf(g_dir, sizeof g_dir, "/tmp/executor_posixsh.XXXXXX");
	if (!mkdtemp(g_dir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	T_RUN(test_script_text);
	T_RUN(test_runs_as_sh_c);
	T_RUN(test_long_command);
	T_RUN(test_cut_short_runs_nothing);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
