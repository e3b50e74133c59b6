/*
 * cfgtest.h — fixtures shared by the tests/unit/runner_config*.c programs:
 * a mkdtemp directory holding secret files and a fake executor, config JSON
 * written with ' for " (q() swaps them, @D is the directory), load() and
 * T_REFUSED to check a refusal by the exact beginning of its message, and
 * RSA/EC key pairs made by the openssl CLI when a program asks for them.
 * Header-only, like t.h.
 */
#ifndef CFGTEST_H
#define CFGTEST_H
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runner/config.h"
#include "../../common/secret.h"
#include "t.h"

static char g_dir[64];
static char g_real[PATH_MAX]; /* realpath of g_dir */
static int g_seq;
static int g_have_keys;

/* The message must start with PREFIX. */
static inline void t_prefix(const char *file, int line, const char *msg, const char *prefix)
{
	if (strncmp(msg, prefix, strlen(prefix)) == 0 || t_failed_)
		return;
	snprintf(t_why_, sizeof t_why_, "%s:%d: error \"%.240s\", want prefix \"%.200s\"",
	    file, line, msg, prefix);
	t_failed_ = 1;
}
#define T_PREFIX(msg, prefix) t_prefix(__FILE__, __LINE__, (msg), (prefix))

/* T_EQ_STR for long strings (paths, messages): shortened in the report. */
static inline void t_str(const char *file, int line, const char *expr, const char *got,
    const char *want)
{
	if ((got && want && strcmp(got, want) == 0) || t_failed_)
		return;
	snprintf(t_why_, sizeof t_why_, "%s:%d: %.40s == \"%.200s\", want \"%.200s\"",
	    file, line, expr, got ? got : "(null)", want ? want : "(null)");
	t_failed_ = 1;
}
#define T_STR(got, want) t_str(__FILE__, __LINE__, #got, (got), (want))

/* Write N bytes to DIR/NAME (mode 0600). */
static inline int put(const char *name, const void *data, size_t n)
{
	char p[PATH_MAX];
	int fd, rc = -1;

	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	if (write(fd, data, n) == (ssize_t)n)
		rc = 0;
	close(fd);
	return rc;
}

static inline int puts_file(const char *name, const char *s)
{
	return put(name, s, strlen(s));
}

/* printf, then ' -> " and @D -> the test directory. Caller frees. */
static inline char *q(const char *fmt, ...)
{
	char *raw = NULL, *out, *o;
	const char *s;
	size_t ndir = 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	for (s = raw; (s = strstr(s, "@D")); s += 2)
		ndir++;
	if (!(out = malloc((size_t)n + ndir * strlen(g_dir) + 1)))
		abort();
	for (s = raw, o = out; *s; s++) {
		if (s[0] == '@' && s[1] == 'D') {
			o += sprintf(o, "%s", g_dir);
			s++;
		} else {
			*o++ = *s == '\'' ? '"' : *s;
		}
	}
	*o = '\0';
	free(raw);
	return out;
}

/* Pieces of a minimal valid config. */
#define EXE "'executor': {'path': '/bin/true'}"
#define SIG "'signature': {'scheme': 'hookdeck', 'secrets': ['file:@D/s1']}"
#define JOB "'job': {'destination': 'deploy@host', 'identity': 'id_ed25519', " \
	"'known_hosts': 'known_hosts', 'command': 'echo hi'}"
#define HOOK(id) "{'id': '" id "', " SIG ", " JOB "}"
#define MINIMAL "{" EXE ", 'hooks': [" HOOK("h") "]}"

/* Write JSON (after q()) to a fresh file; its path in PATH. */
static inline void write_cfg(const char *json, char *path, size_t cap)
{
	char name[32];
	char *s = q("%s", json);

	snprintf(name, sizeof name, "cfg-%d.json", ++g_seq);
	snprintf(path, cap, "%s/%s", g_dir, name);
	if (puts_file(name, s) != 0)
		abort();
	free(s);
}

/* Load JSON; the config (or NULL) in *OUT, the message in ERR. */
static inline int load(const char *json, struct config **out, char *err, size_t errlen)
{
	char path[PATH_MAX];

	write_cfg(json, path, sizeof path);
	*out = NULL;
	err[0] = '\0';
	return config_load(path, out, err, errlen);
}

/* Load JSON that must be refused with -EINVAL and a message starting with
 * PREFIX; *out must stay NULL. */
#define T_REFUSED(json, prefix) do { struct config *c_ = NULL; char e_[512]; \
	int r_ = load((json), &c_, e_, sizeof e_); T_EQ_INT(r_, -EINVAL); T_CHECK(c_ == NULL); \
	T_PREFIX(e_, (prefix)); config_free(c_); } while (0)

/* Same, with the JSON built by q() from a format. */
#define T_REFUSEDF(prefix, ...) do { char *j_ = q(__VA_ARGS__); T_REFUSED(j_, prefix); \
	free(j_); } while (0)

static inline int make_keys(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd,
	    "cd '%s' && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key "
	    ">/dev/null 2>&1 && openssl pkey -in rsa.key -pubout -out rsa.pub >/dev/null 2>&1 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key "
	    ">/dev/null 2>&1 && openssl pkey -in ec.key -pubout -out ec.pub >/dev/null 2>&1", g_dir);
	return system(cmd) == 0;
}

/* 1 when some warning of C contains NEEDLE. */
static inline int has_warning(const struct config *c, const char *needle)
{
	size_t i;

	for (i = 0; c && i < c->nwarnings; i++)
		if (strstr(c->warnings[i], needle))
			return 1;
	return 0;
}

/* Make the test directory /tmp/NAME.XXXXXX and the files the tests read
 * (with rsa.key/.pub and ec.key/.pub when KEYS; g_have_keys says whether
 * openssl made them). 0, or -1 after printing a FAIL line. */
static inline int cfgtest_setup(const char *name, int keys)
{
	char p[PATH_MAX];

	snprintf(g_dir, sizeof g_dir, "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(g_dir) || !realpath(g_dir, g_real)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	puts_file("s1", "0123456789abcdef0123456789abcdef\n");
	puts_file("hmac32", "0123456789abcdef0123456789abcdef");
	puts_file("hmac31", "0123456789abcdef0123456789abcde\n");
	puts_file("empty", "");
	puts_file("nl-only", "\n");
	puts_file("s-nl", "sekret\n");
	puts_file("s-crlf", "sekret\r\n");
	puts_file("s-2nl", "sekret\n\n");
	put("nul", "ab\0cd", 5);
	/* base64 of "MfKQ9r8GKYqrTwjUPD8ILPZI" */
	puts_file("whsec", "whsec_TWZLUTlyOEdLWXFyVHdqVVBEOElMUFpJ\n");
	snprintf(p, sizeof p, "%s/bin", g_dir);
	mkdir(p, 0700);
	puts_file("bin/exe", "#!/bin/sh\nexit 0\n");
	snprintf(p, sizeof p, "%s/bin/exe", g_dir);
	chmod(p, 0700);
	g_have_keys = keys && make_keys();
	return 0;
}

/* Remove the test directory. */
static inline void cfgtest_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
}
#endif
