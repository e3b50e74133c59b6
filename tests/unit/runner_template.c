/*
 * runner_template.c — unit tests for runner/template.c: every compile error
 * names its field, every source renders, every invalid value is refused
 * without being echoed, and the injection proofs run the rendered command
 * through a real /bin/sh (fork/exec, argv) and compare its output byte for
 * byte with the raw value, checking that no side effect happened. Where a
 * placeholder may stand: runner_template_shell.c; patterns: runner_ere.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runner/template.h"
#include "t.h"
#include "../../common/shquote.h"

static char errbuf[256];

/* Compile TEMPLATE with the JSON text PARAMS (NULL for none). */
static int compile(const char *template, const char *params, struct tmpl **t)
{
	cJSON *p = params ? cJSON_Parse(params) : NULL;
	int rc;

	if (params && !p) {
		snprintf(errbuf, sizeof errbuf, "test bug: bad params JSON");
		return -999;
	}
	rc = tmpl_compile(template, p, t, errbuf, sizeof errbuf);
	cJSON_Delete(p);
	return rc;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Expect a compile error whose message starts with PREFIX. */
static int compile_fails(const char *template, const char *params, const char *prefix)
{
	struct tmpl *t = (struct tmpl *)1;
	int rc = compile(template, params, &t);

	if (rc != -EINVAL || t != NULL || !starts(errbuf, prefix)) {
		fprintf(stderr, "compile_fails(%s): rc=%d err=\"%s\" want prefix \"%s\"\n",
		    template, rc, errbuf, prefix);
		if (rc == 0)
			tmpl_free(t);
		return 0;
	}
	return 1;
}

/* Headers for tests: a small NULL-terminated name/value list. */
static const char *hdr_list_get(void *ctx, const char *name)
{
	const char **kv = ctx;

	for (; kv[0]; kv += 2)
		if (!strcasecmp(kv[0], name))
			return kv[1];
	return NULL;
}

/* Render T against payload/claims JSON text and a header list. */
static int render(const struct tmpl *t, const char *payload, const char *claims,
    const char **headers, char **out)
{
	cJSON *pl = payload ? cJSON_Parse(payload) : NULL;
	cJSON *cl = claims ? cJSON_Parse(claims) : NULL;
	struct hdr_src hs = { hdr_list_get, (void *)headers };
	struct tmpl_src src = { pl, cl, headers ? &hs : NULL };
	int rc;

	*out = NULL;
	rc = tmpl_render(t, &src, out, errbuf, sizeof errbuf);
	cJSON_Delete(pl);
	cJSON_Delete(cl);
	return rc;
}

/* Run CMD through /bin/sh -c in DIR; capture stdout into OUT (malloc'ed). */
static int run_sh(const char *cmd, const char *dir, char **out, size_t *outlen)
{
	int fds[2], status;
	pid_t pid;
	size_t cap = 256, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (!buf || pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = { "sh", "-c", (char *)cmd, NULL };
		char *envp[] = { "PATH=/usr/bin:/bin", "HOME=/nonexistent-home", NULL };
		int devnull = open("/dev/null", O_RDWR);
		dup2(fds[1], 1);
		if (devnull >= 0)
			dup2(devnull, 0);
		close(fds[0]);
		close(fds[1]);
		if (dir && chdir(dir) != 0)
			_exit(126);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fds[0], buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = buf;
	*outlen = n;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/tmpl-test-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			tmpdir[0] = 0;
		} else {
			char p[128];
			int fd;
			snprintf(p, sizeof p, "%s/sentinel", tmpdir);
			if ((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0)
				close(fd);
		}
	}
}

static int exists(const char *dir, const char *name)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* ---- compile errors ------------------------------------------------ */

static void test_compile_ok_minimal(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;

	T_EQ_INT(compile("echo hello } {x} }}", NULL, &t), 0);
	T_CHECK(t != NULL);
	T_EQ_INT(tmpl_needs_payload(t), 0);
	T_EQ_INT(render(t, NULL, NULL, NULL, &out), 0);
	T_EQ_STR(out, "echo hello } {x} }}");
	free(out);
	tmpl_free(t);
	tmpl_free(NULL);
}

static void test_compile_errors(void)
{
	const char *P = "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\"}}";

	T_CHECK(compile_fails(NULL, NULL, "command: "));
	T_CHECK(compile_fails("", NULL, "command: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"body\",\"path\":\"a\",\"pattern\":\".*\"}}", "params.v.from: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"path\":\"a\",\"pattern\":\".*\"}}", "params.v.from: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\"}}", "params.v.pattern: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\"\"}}", "params.v.pattern: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\"a(b\"}}",
	    "params.v.pattern: invalid regex"));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\"[z-a]\"}}",
	    "params.v.pattern: invalid regex"));
	/* Refused before regcomp (every case: runner_ere.c). */
	T_CHECK(compile_fails("echo {{v}}", "{\"v\":{\"from\":\"payload\",\"path\":\"a\","
	    "\"pattern\":\".*++\"}}", "params.v.pattern: a repetition (*, +, ? or {n,m}) directly "
	    "after another"));
	T_CHECK(compile_fails("echo {{v}}", "{\"v\":{\"from\":\"payload\",\"path\":\"a\","
	    "\"pattern\":\"(a*)*\\\\1b\"}}", "params.v.pattern: backreferences are not allowed: "
	    "matching them can take exponential time"));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"max_len\":0}}",
	    "params.v.max_len: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"max_len\":4097}}",
	    "params.v.max_len: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"max_len\":1.5}}",
	    "params.v.max_len: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"max_len\":\"9\"}}",
	    "params.v.max_len: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"patern\":\"x\"}}",
	    "params.v.patern: unknown field"));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"pattern\":\".*\"}}", "params.v.path: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a..b\",\"pattern\":\".*\"}}", "params.v.path: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"claim\":\"sub\",\"pattern\":\".*\"}}",
	    "params.v.claim: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"jwt\",\"pattern\":\".*\"}}", "params.v.claim: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"header\",\"name\":\"bad name\",\"pattern\":\".*\"}}",
	    "params.v.name: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"header\",\"name\":\"Authorization\",\"pattern\":\".*\"}}",
	    "params.v.name: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\"[a-z]+\",\"default\":\"A1\"}}",
	    "params.v.default: does not match pattern"));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"default\":{}}}",
	    "params.v.default: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\",\"default\":\"a\\nb\"}}",
	    "params.v.default: contains control bytes"));
	T_CHECK(compile_fails("echo {{v}}", "{\"v\":\"x\"}", "params.v: "));
	T_CHECK(compile_fails("echo {{v}}", "[]", "params: "));

	/* Placeholders vs declarations. */
	T_CHECK(compile_fails("echo {{w}}", P, "command: undeclared parameter \"w\""));
	T_CHECK(compile_fails("echo hi", P, "params.v: declared but not used"));
	T_CHECK(compile_fails("echo {{v}} {{", P, "command: \"{{\" at byte 11"));
	T_CHECK(compile_fails("echo {{v}} {{ 1x }}", P, "command: "));
	T_CHECK(compile_fails("echo {{v}} {{v-x}}", P, "command: "));
	T_CHECK(compile_fails("echo {{v}", P, "command: "));
	T_CHECK(compile_fails("echo {{{v}}}", P, "command: "));
	T_CHECK(compile_fails("echo {{}}", NULL, "command: "));

	/* Bad parameter names and duplicates. */
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"1v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\"}}", "params.1v: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"a-b\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\"}}", "params.a-b: "));
	T_CHECK(compile_fails("echo {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\"},"
	    "\"v\":{\"from\":\"payload\",\"path\":\"b\",\"pattern\":\".*\"}}", "params.v: declared twice"));
}

static void test_path_depth(void)
{
	char params[1024], path[512] = "";
	int i;

	for (i = 0; i < 33; i++)
		strcat(path, i ? ".a" : "a");
	snprintf(params, sizeof params,
	    "{\"v\":{\"from\":\"payload\",\"path\":\"%s\",\"pattern\":\".*\"}}", path);
	T_CHECK(compile_fails("echo {{v}}", params, "params.v.path: more than 32"));
	path[strlen(path) - 2] = 0; /* 32 segments: fine */
	snprintf(params, sizeof params,
	    "{\"v\":{\"from\":\"payload\",\"path\":\"%s\",\"pattern\":\".*\"}}", path);
	{
		struct tmpl *t = NULL;
		T_EQ_INT(compile("echo {{v}}", params, &t), 0);
		tmpl_free(t);
	}
}

/* ---- rendering ----------------------------------------------------- */

static void test_render_sources(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	const char *hdrs[] = { "X-Request-Id", "req-42", NULL };

	T_EQ_INT(compile("deploy {{ sha }} by {{who}} req {{rid}} env {{env}} again {{sha}}",
	    "{\"sha\":{\"from\":\"payload\",\"path\":\"commits.1.id\",\"pattern\":\"[0-9a-f]{7,40}\"},"
	    " \"who\":{\"from\":\"jwt\",\"claim\":\"sub\",\"pattern\":\"[a-z]+\"},"
	    " \"rid\":{\"from\":\"header\",\"name\":\"x-request-id\",\"pattern\":\"[a-z0-9-]+\"},"
	    " \"env\":{\"from\":\"payload\",\"path\":\"env\",\"pattern\":\"prod|staging\","
	    "   \"default\":\"staging\"}}", &t), 0);
	T_EQ_STR(errbuf, "");
	T_EQ_INT(tmpl_needs_payload(t), 1);
	T_EQ_INT(render(t, "{\"commits\":[{\"id\":\"0000000\"},{\"id\":\"abcdef1\"}]}",
	    "{\"sub\":\"alice\"}", hdrs, &out), 0);
	T_EQ_STR(out, "deploy 'abcdef1' by 'alice' req 'req-42' env 'staging' again 'abcdef1'");
	free(out);

	T_EQ_INT(render(t, "{\"commits\":[{},{\"id\":\"abcdef1\"}],\"env\":\"prod\"}",
	    "{\"sub\":\"alice\"}", hdrs, &out), 0);
	T_EQ_STR(out, "deploy 'abcdef1' by 'alice' req 'req-42' env 'prod' again 'abcdef1'");
	free(out);

	/* Missing values without a default. */
	T_EQ_INT(render(t, "{\"commits\":[{\"id\":\"abcdef1\"}]}", "{\"sub\":\"alice\"}", hdrs, &out),
	    -EINVAL);
	T_EQ_STR(errbuf, "parameter \"sha\": missing from payload");
	T_CHECK(out == NULL);
	T_EQ_INT(render(t, NULL, "{\"sub\":\"alice\"}", hdrs, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"sha\": missing from payload");
	T_EQ_INT(render(t, "{\"commits\":[{},{\"id\":\"abcdef1\"}]}", NULL, hdrs, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"who\": missing from JWT claims");
	T_EQ_INT(render(t, "{\"commits\":[{},{\"id\":\"abcdef1\"}]}", "{\"sub\":\"alice\"}", NULL,
	    &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"rid\": missing header");
	/* A present value that fails is refused, not replaced by the default. */
	T_EQ_INT(render(t, "{\"commits\":[{},{\"id\":\"abcdef1\"}],\"env\":\"dev\"}",
	    "{\"sub\":\"alice\"}", hdrs, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"env\": does not match pattern");
	tmpl_free(t);
}

static void test_path_forms(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;

	T_EQ_INT(compile("x {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"0.a.10\",\"pattern\":\".*\"}}", &t), 0);
	/* Root array, object, array index 10. */
	T_EQ_INT(render(t, "[{\"a\":[0,1,2,3,4,5,6,7,8,9,\"ten\"]}]", NULL, NULL, &out), 0);
	T_EQ_STR(out, "x 'ten'");
	free(out);
	/* A digit segment names an object key when the node is an object. */
	T_EQ_INT(render(t, "{\"0\":{\"a\":{\"10\":\"key\"}}}", NULL, NULL, &out), 0);
	T_EQ_STR(out, "x 'key'");
	free(out);
	/* Index past the end, or path through a scalar: missing. */
	T_EQ_INT(render(t, "[{\"a\":[0]}]", NULL, NULL, &out), -EINVAL);
	T_EQ_INT(render(t, "[{\"a\":\"str\"}]", NULL, NULL, &out), -EINVAL);
	tmpl_free(t);

	/* Non-canonical indexes never index an array. */
	T_EQ_INT(compile("x {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"01\",\"pattern\":\".*\"}}", &t), 0);
	T_EQ_INT(render(t, "[\"a\",\"b\"]", NULL, NULL, &out), -EINVAL);
	tmpl_free(t);
	T_EQ_INT(compile("x {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"-1\",\"pattern\":\".*\"}}", &t), 0);
	T_EQ_INT(render(t, "[\"a\",\"b\"]", NULL, NULL, &out), -EINVAL);
	tmpl_free(t);
	T_EQ_INT(compile("x {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"99999999999\",\"pattern\":\".*\"}}", &t), 0);
	T_EQ_INT(render(t, "[\"a\",\"b\"]", NULL, NULL, &out), -EINVAL);
	tmpl_free(t);
}

static void test_numbers_booleans(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	static const struct { const char *json, *want; } cases[] = {
		{ "42", "42" }, { "-7", "-7" }, { "0", "0" }, { "-0", "0" },
		{ "1.5", "1.5" }, { "1e3", "1000" }, { "12345678901", "12345678901" },
		{ "0.1", "0.1" }, { "1e300", "1e+300" }, { "true", "true" }, { "false", "false" },
	};
	size_t i;
	char payload[64], want[64];

	T_EQ_INT(compile("n={{n}}",
	    "{\"n\":{\"from\":\"payload\",\"path\":\"n\",\"pattern\":\"[-+.0-9a-z]+\"}}", &t), 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(payload, sizeof payload, "{\"n\":%s}", cases[i].json);
		snprintf(want, sizeof want, "n='%s'", cases[i].want);
		T_EQ_INT(render(t, payload, NULL, NULL, &out), 0);
		T_EQ_STR(out, want);
		free(out);
	}
	/* 1e999 parses as infinity: refused. */
	T_EQ_INT(render(t, "{\"n\":1e999}", NULL, NULL, &out), -EINVAL);
	tmpl_free(t);

	/* Claims: numbers and booleans too, and default can be a number. */
	T_EQ_INT(compile("{{pr}} {{admin}}",
	    "{\"pr\":{\"from\":\"jwt\",\"claim\":\"pr\",\"pattern\":\"[0-9]+\"},"
	    " \"admin\":{\"from\":\"jwt\",\"claim\":\"adm\",\"pattern\":\"true|false\",\"default\":false}}",
	    &t), 0);
	T_EQ_INT(render(t, NULL, "{\"pr\":1234,\"adm\":true}", NULL, &out), 0);
	T_EQ_STR(out, "'1234' 'true'");
	free(out);
	T_EQ_INT(render(t, NULL, "{\"pr\":1234}", NULL, &out), 0);
	T_EQ_STR(out, "'1234' 'false'");
	free(out);
	T_EQ_INT(render(t, NULL, "{\"pr\":12.5}", NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"pr\": does not match pattern");
	tmpl_free(t);
}

static void test_refused_types(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;

	T_EQ_INT(compile("{{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\",\"default\":\"d\"}}", &t), 0);
	T_EQ_INT(render(t, "{\"v\":{\"a\":1}}", NULL, NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": is an object");
	T_EQ_INT(render(t, "{\"v\":[\"a\"]}", NULL, NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": is an array");
	T_EQ_INT(render(t, "{\"v\":null}", NULL, NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": is null");
	T_CHECK(out == NULL);
	/* Absent → default. */
	T_EQ_INT(render(t, "{}", NULL, NULL, &out), 0);
	T_EQ_STR(out, "'d'");
	free(out);
	tmpl_free(t);
}

static void test_invalid_not_echoed(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	const char *hdrs[] = { "X-Ref", "SECRETVALUE", NULL };

	T_EQ_INT(compile("git checkout {{ref}}",
	    "{\"ref\":{\"from\":\"header\",\"name\":\"X-Ref\",\"pattern\":\"[a-z]+\"}}", &t), 0);
	T_EQ_INT(render(t, NULL, NULL, hdrs, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"ref\": does not match pattern");
	T_CHECK(strstr(errbuf, "SECRET") == NULL);
	T_CHECK(out == NULL);
	tmpl_free(t);

	/* Unanchored pattern: a partial match is not enough. */
	T_EQ_INT(compile("git checkout {{ref}}",
	    "{\"ref\":{\"from\":\"payload\",\"path\":\"ref\",\"pattern\":\"[a-z]+\"}}", &t), 0);
	T_EQ_INT(render(t, "{\"ref\":\"main; id\"}", NULL, NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"ref\": does not match pattern");
	T_EQ_INT(render(t, "{\"ref\":\"x;main\"}", NULL, NULL, &out), -EINVAL);
	T_EQ_INT(render(t, "{\"ref\":\"main\"}", NULL, NULL, &out), 0);
	T_EQ_STR(out, "git checkout 'main'");
	free(out);
	tmpl_free(t);

	/* Anchors that do not cover the whole value: still a whole-value match. */
	T_EQ_INT(compile("{{ref}}",
	    "{\"ref\":{\"from\":\"payload\",\"path\":\"ref\",\"pattern\":\"^[a-z]+$|^x\"}}", &t), 0);
	T_EQ_INT(render(t, "{\"ref\":\"x; id\"}", NULL, NULL, &out), -EINVAL);
	T_EQ_INT(render(t, "{\"ref\":\"abc\"}", NULL, NULL, &out), 0);
	free(out);
	tmpl_free(t);
}

static void test_control_bytes(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	static const char *bad[] = {
		"{\"v\":\"a\\nb\"}", "{\"v\":\"a\\rb\"}", "{\"v\":\"a\\tb\"}", "{\"v\":\"\\u001b[2J\"}",
		"{\"v\":\"a\\u007fb\"}", "{\"v\":\"\\u0001\"}",
	};
	const char *hdrs[] = { "X-V", "ok\x7f", NULL };
	size_t i;

	T_EQ_INT(compile("printf '%s' {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\"}}", &t), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_EQ_INT(render(t, bad[i], NULL, NULL, &out), -EINVAL);
		T_EQ_STR(errbuf, "parameter \"v\": contains control bytes");
		T_CHECK(out == NULL);
	}
	/* UTF-8 is fine when the pattern allows it. */
	T_EQ_INT(render(t, "{\"v\":\"caf\\u00e9\"}", NULL, NULL, &out), 0);
	T_EQ_STR(out, "printf '%s' 'caf\xc3\xa9'");
	free(out);
	tmpl_free(t);

	T_EQ_INT(compile("{{v}}", "{\"v\":{\"from\":\"header\",\"name\":\"X-V\",\"pattern\":\".*\"}}",
	    &t), 0);
	T_EQ_INT(render(t, NULL, NULL, hdrs, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": contains control bytes");
	tmpl_free(t);
}

static void test_utf8(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	/* raw bytes inside JSON strings: cJSON passes them through as they are */
	static const char *bad[] = {
		"{\"v\":\"caf\xe9\"}",             /* Latin-1, a lone lead byte */
		"{\"v\":\"\x80\"}",                /* a continuation byte first */
		"{\"v\":\"\xc3\"}",                /* truncated two-byte form */
		"{\"v\":\"\xc0\xaf\"}",            /* overlong '/' */
		"{\"v\":\"\xe0\x80\xaf\"}",        /* overlong '/', three bytes */
		"{\"v\":\"\xed\xa0\x80\"}",        /* U+D800, a surrogate (as an escape,
		                                      * cJSON refuses the whole body) */
		"{\"v\":\"\xf4\x90\x80\x80\"}",    /* past U+10FFFF */
		"{\"v\":\"\xff\xfe\"}",
	};
	static const char *good[] = {
		"{\"v\":\"caf\xc3\xa9\"}", "{\"v\":\"\xe2\x82\xac\"}",
		"{\"v\":\"\xf0\x9f\x98\x80\"}", "{\"v\":\"\xf4\x8f\xbf\xbf\"}",
		"{\"v\":\"\\ud83d\\ude00\"}",
	};
	const char *hdrs[] = { "X-V", "r\xe9sum\xe9", NULL };
	size_t i;

	T_EQ_INT(compile("printf '%s' {{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\"}}", &t), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_EQ_INT(render(t, bad[i], NULL, NULL, &out), -EINVAL);
		T_EQ_STR(errbuf, "parameter \"v\": is not valid UTF-8");
		T_CHECK(out == NULL);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		T_EQ_INT(render(t, good[i], NULL, NULL, &out), 0);
		free(out);
		out = NULL;
	}
	tmpl_free(t);

	T_EQ_INT(compile("{{v}}", "{\"v\":{\"from\":\"header\",\"name\":\"X-V\",\"pattern\":\".*\"}}",
	    &t), 0);
	T_EQ_INT(render(t, NULL, NULL, hdrs, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": is not valid UTF-8");
	tmpl_free(t);
}

static void test_max_len(void)
{
	struct tmpl *t = NULL;
	char *out = NULL;
	char payload[6000];

	T_EQ_INT(compile("{{v}}",
	    "{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\",\"max_len\":5}}", &t), 0);
	T_EQ_INT(render(t, "{\"v\":\"12345\"}", NULL, NULL, &out), 0);
	T_EQ_STR(out, "'12345'");
	free(out);
	T_EQ_INT(render(t, "{\"v\":\"123456\"}", NULL, NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": longer than 5 bytes");
	tmpl_free(t);

	/* Default max_len is 256. */
	T_EQ_INT(compile("{{v}}", "{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\"}}",
	    &t), 0);
	snprintf(payload, sizeof payload, "{\"v\":\"%0256d\"}", 0);
	T_EQ_INT(render(t, payload, NULL, NULL, &out), 0);
	free(out);
	snprintf(payload, sizeof payload, "{\"v\":\"%0257d\"}", 0);
	T_EQ_INT(render(t, payload, NULL, NULL, &out), -EINVAL);
	T_EQ_STR(errbuf, "parameter \"v\": longer than 256 bytes");
	tmpl_free(t);
}

static void test_rendered_cap(void)
{
	/* 15 uses of a 4096-byte value: fits plain (15 * 4099 bytes), not when
	 * every byte is a quote (4096 * 4 + 2 each). */
	char tpl[512] = "", payload[4200];
	struct tmpl *t = NULL;
	char *out = NULL;
	int i;

	for (i = 0; i < 15; i++)
		strcat(tpl, "{{v}} ");
	T_EQ_INT(compile(tpl, "{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\","
	    "\"max_len\":4096}}", &t), 0);
	memcpy(payload, "{\"v\":\"", 6);
	memset(payload + 6, '\'', 4096);
	memcpy(payload + 6 + 4096, "\"}", 3);
	T_EQ_INT(render(t, payload, NULL, NULL, &out), -EINVAL);
	T_CHECK(starts(errbuf, "command: rendered command longer than"));
	T_CHECK(out == NULL);
	memset(payload + 6, 'a', 4096);
	T_EQ_INT(render(t, payload, NULL, NULL, &out), 0);
	T_EQ_INT((long long)strlen(out), 15 * (4096 + 3));
	free(out);
	tmpl_free(t);
}

/* ---- injection proofs ---------------------------------------------- */

static const char *nasty[] = {
	"", "'", "''", "a'b", "'\\''", "$(touch %s/pwned1)", "`touch %s/pwned2`", "`id`",
	"'; touch %s/pwned3 #", "'; rm -f %s/sentinel #", "\"$HOME\"", "$HOME", "${HOME}", "\\", "\\'",
	"*", "?", "[a]*", "~", "~root", ";|&<>", "a b  c", "-n", "--", "%s%s%n", "!!", "#x",
	"$(printf x)$((1+1))", "\"'\"'\"", "{a,b}", "caf\xc3\xa9 \xe2\x98\x83", "\xe2\x80\xae\xc2\xa0rtl",
	"x > %s/pwned4", "|| touch %s/pwned5",
};

static void expand(char *dst, size_t n, const char *fmt)
{
	/* %s in a nasty string stands for the side-effect directory. Payloads
	 * only ever touch files in it: if quoting regressed, a destructive
	 * value (rm -rf /) would really run. */
	size_t o = 0;

	for (; *fmt && o + 1 < n; fmt++) {
		if (fmt[0] == '%' && fmt[1] == 's' &&
		    (strstr(fmt, "/pwned") || strstr(fmt, "/sentinel"))) {
			o += (size_t)snprintf(dst + o, n - o, "%s", tmpdir);
			fmt++;
		} else {
			dst[o++] = *fmt;
		}
	}
	dst[o] = 0;
}

static int no_side_effects(void)
{
	return exists(tmpdir, "sentinel") && !exists(tmpdir, "pwned1") && !exists(tmpdir, "pwned2") &&
	    !exists(tmpdir, "pwned3") && !exists(tmpdir, "pwned4") && !exists(tmpdir, "pwned5");
}

static void test_injection_through_sh(void)
{
	struct tmpl *t = NULL;
	char value[256], *cmd = NULL, *got = NULL;
	size_t i, glen;
	cJSON *pl, *params;

	make_tmpdir();
	T_CHECK(tmpdir[0] != 0);
	/* A file that an unquoted glob would expand to. */
	{
		char p[128];
		int fd;
		snprintf(p, sizeof p, "%s/aglob", tmpdir);
		fd = open(p, O_CREAT | O_WRONLY, 0600);
		if (fd >= 0)
			close(fd);
	}
	params = cJSON_Parse("{\"v\":{\"from\":\"payload\",\"path\":\"v\",\"pattern\":\".*\"}}");
	T_EQ_INT(tmpl_compile("printf '%s' {{v}}", params, &t, errbuf, sizeof errbuf), 0);
	cJSON_Delete(params);
	for (i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		struct tmpl_src src = { NULL, NULL, NULL };
		int rc;

		expand(value, sizeof value, nasty[i]);
		pl = cJSON_CreateObject();
		cJSON_AddStringToObject(pl, "v", value);
		src.payload = pl;
		rc = tmpl_render(t, &src, &cmd, errbuf, sizeof errbuf);
		cJSON_Delete(pl);
		T_EQ_INT(rc, 0);
		if (rc)
			continue;
		T_EQ_INT(run_sh(cmd, tmpdir, &got, &glen), 0);
		T_EQ_INT((long long)glen, (long long)strlen(value));
		if (glen != strlen(value) || memcmp(got, value, glen)) {
			fprintf(stderr, "injection: value #%zu [%s] -> cmd [%s] -> [%s]\n",
			    i, value, cmd, got);
			T_CHECK(!"shell output differs from the raw value");
		}
		free(got);
		free(cmd);
		cmd = NULL;
	}
	T_CHECK(no_side_effects());
	tmpl_free(t);
}

/* Several adjacent placeholders and literal quotes around them. */
static void test_injection_adjacent(void)
{
	struct tmpl *t = NULL;
	char *cmd = NULL, *got = NULL;
	size_t glen;
	cJSON *params, *pl;
	struct tmpl_src src = { NULL, NULL, NULL };

	make_tmpdir();
	params = cJSON_Parse("{\"a\":{\"from\":\"payload\",\"path\":\"a\",\"pattern\":\".*\"},"
	    "\"b\":{\"from\":\"jwt\",\"claim\":\"b\",\"pattern\":\".*\"}}");
	T_EQ_INT(tmpl_compile("printf '%s|' {{a}}{{b}} x{{a}}y", params, &t, errbuf,
	    sizeof errbuf), 0);
	cJSON_Delete(params);
	pl = cJSON_Parse("{\"a\":\"'$(id)'\",\"b\":\"`id`;'\"}");
	src.payload = pl;
	src.claims = pl;
	T_EQ_INT(tmpl_render(t, &src, &cmd, errbuf, sizeof errbuf), 0);
	cJSON_Delete(pl);
	if (cmd) {
		T_EQ_INT(run_sh(cmd, tmpdir, &got, &glen), 0);
		T_EQ_STR(got, "'$(id)'`id`;'|x'$(id)'y|");
		free(got);
	}
	free(cmd);
	tmpl_free(t);
}

static void test_shell_quote_roundtrip(void)
{
	static const char *extra[] = {
		"", "'", "\"", "\\", "''''", "a'b'c", "$", "$(", "`", "\n", "\t", "\x01\x7f",
		" leading", "trailing ", "%", "!", "&&", "\xc3\xa9",
	};
	char value[256], *q, *cmd, *got;
	size_t i, glen, total = sizeof nasty / sizeof nasty[0] + sizeof extra / sizeof extra[0];

	make_tmpdir();
	q = shquote_dup("");
	T_EQ_STR(q, "''");
	free(q);
	q = shquote_dup("'");
	T_EQ_STR(q, "''\\'''");
	free(q);
	q = shquote_dup("a'b");
	T_EQ_STR(q, "'a'\\''b'");
	free(q);
	T_CHECK(shquote_dup(NULL) == NULL);

	for (i = 0; i < total; i++) {
		const char *s = i < sizeof nasty / sizeof nasty[0] ? nasty[i] :
		    extra[i - sizeof nasty / sizeof nasty[0]];
		size_t n;

		expand(value, sizeof value, s);
		q = shquote_dup(value);
		T_CHECK(q != NULL);
		if (!q)
			continue;
		n = strlen(q) + 32;
		cmd = malloc(n);
		snprintf(cmd, n, "printf '%%s' %s", q);
		T_EQ_INT(run_sh(cmd, tmpdir, &got, &glen), 0);
		if (glen != strlen(value) || memcmp(got, value, glen)) {
			fprintf(stderr, "quote: [%s] -> [%s] -> [%s]\n", value, q, got);
			T_CHECK(!"quote round-trip failed");
		}
		free(got);
		free(cmd);
		free(q);
	}
	T_CHECK(no_side_effects());
}

static void cleanup(void)
{
	static const char *names[] = { "sentinel", "aglob", "pwned1", "pwned2", "pwned3",
		"pwned4", "pwned5" };
	char p[128];
	size_t i;

	if (!tmpdir[0])
		return;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

int main(void)
{
	T_RUN(test_compile_ok_minimal);
	T_RUN(test_compile_errors);
	T_RUN(test_path_depth);
	T_RUN(test_render_sources);
	T_RUN(test_path_forms);
	T_RUN(test_numbers_booleans);
	T_RUN(test_refused_types);
	T_RUN(test_invalid_not_echoed);
	T_RUN(test_control_bytes);
	T_RUN(test_utf8);
	T_RUN(test_max_len);
	T_RUN(test_rendered_cap);
	T_RUN(test_injection_through_sh);
	T_RUN(test_injection_adjacent);
	T_RUN(test_shell_quote_roundtrip);
	cleanup();
	return T_EXIT();
}
