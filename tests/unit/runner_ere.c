/*
 * runner_ere.c — unit tests for runner/ere.c: stacked repetitions and
 * backreferences are refused, with the reason, directly and as
 * `params.<name>.pattern` errors from tmpl_compile; brackets, escapes and
 * single repetitions are not. Also shows, with glibc's own regcomp, that
 * the refused backreference would otherwise compile, and that a backslash
 * inside a bracket expression is an ordinary member.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "../../runner/ere.h"
#include "../../runner/template.h"
#include "t.h"

static const struct { const char *re; enum ere_why why; } pats[] = {
	{ ".*+", ERE_STACKED }, { "a++", ERE_STACKED }, { "a*{2}", ERE_STACKED },
	{ "a{1,2}?", ERE_STACKED }, { "[a-z]+*", ERE_STACKED },
	{ ".*++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++", ERE_STACKED },
	{ "(a*)*\\1b", ERE_BACKREF }, { "(a)\\9", ERE_BACKREF }, { "x|[a](b)\\1", ERE_BACKREF },
	{ "([]])\\1", ERE_BACKREF }, { "[[:alpha:]](x)\\2", ERE_BACKREF },
	{ "(a+)*", ERE_OK }, { "[+*]+", ERE_OK }, { "a\\++", ERE_OK }, { "[[:alpha:]+]*", ERE_OK },
	{ "[]+]+", ERE_OK }, { "refs/heads/[A-Za-z0-9._/-]{1,100}", ERE_OK }, { "a{2}b+", ERE_OK },
	{ "[\\1]", ERE_OK }, { "[]\\2]+", ERE_OK }, { "[^]\\3]", ERE_OK }, { "a\\\\1", ERE_OK },
	{ "\\.1", ERE_OK }, { "[[:digit:]\\4]", ERE_OK }, { "\\0", ERE_OK }, { "", ERE_OK },
	{ "\\", ERE_OK },
};

static void test_vet(void)
{
	size_t i;

	for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		enum ere_why why = (enum ere_why)-1;
		int rc = ere_vet(pats[i].re, &why);

		if (rc != (pats[i].why == ERE_OK ? 0 : -EINVAL) || why != pats[i].why) {
			fprintf(stderr, "ere_vet(%s): rc=%d why=%d, want %d\n", pats[i].re, rc, why,
			    pats[i].why);
			T_CHECK(!"wrong verdict");
		}
	}
	T_EQ_INT(ere_vet("a\\1", NULL), -EINVAL);
}

/* The same patterns as tmpl_compile errors. */
static void test_through_compile(void)
{
	static const char R[] = "params.v.pattern: a repetition (*, +, ? or {n,m}) directly after "
	    "another: undefined in POSIX, and costly to compile; group it instead, as in (a+)*";
	static const char B[] = "params.v.pattern: backreferences are not allowed: matching them "
	    "can take exponential time";
	char err[256];
	size_t i;

	for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		cJSON *p = cJSON_CreateObject(), *v = cJSON_AddObjectToObject(p, "v");
		struct tmpl *t = (struct tmpl *)1;
		int rc;

		cJSON_AddStringToObject(v, "from", "payload");
		cJSON_AddStringToObject(v, "path", "a");
		cJSON_AddStringToObject(v, "pattern", pats[i].re);
		rc = tmpl_compile("echo {{v}}", p, &t, err, sizeof err);
		cJSON_Delete(p);
		if (pats[i].why == ERE_STACKED) {
			T_EQ_INT(rc, -EINVAL);
			T_EQ_STR(err, R);
		} else if (pats[i].why == ERE_BACKREF) {
			T_EQ_INT(rc, -EINVAL);
			T_EQ_STR(err, B);
		} else if (pats[i].re[0] && strcmp(pats[i].re, "\\")) {
			T_EQ_INT(rc, 0); /* "" is refused as empty, "\\" by regcomp */
			tmpl_free(t);
		}
	}
}

/* glibc compiles a backreference in an ERE (so the refusal is ours), and
 * reads a backslash in brackets as a member. */
static void test_glibc(void)
{
	regex_t re;

	T_EQ_INT(regcomp(&re, "(a)\\1", REG_EXTENDED), 0);
	T_EQ_INT(regexec(&re, "aa", 0, NULL, 0), 0);
	regfree(&re);
	T_EQ_INT(regcomp(&re, "^[\\1]+$", REG_EXTENDED), 0);
	T_EQ_INT(regexec(&re, "\\1\\", 0, NULL, 0), 0);
	T_EQ_INT(regexec(&re, "a", 0, NULL, 0), REG_NOMATCH);
	regfree(&re);
}

int main(void)
{
	T_RUN(test_vet);
	T_RUN(test_through_compile);
	T_RUN(test_glibc);
	return T_EXIT();
}
