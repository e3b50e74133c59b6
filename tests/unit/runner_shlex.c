/*
 * runner_shlex.c — unit tests for runner/shlex.c: the context of every hole
 * and the first fault, with its offset, for each construct the lexer follows
 * (with the comment and here-document rules case by case), invalid hole
 * lists, hole bytes never looked at, and a differential check against the
 * real shells: random templates from a fixed seed, built from the tokens
 * the rules are about, are lexed, and everything before the first refusal
 * is rendered with hostile values and run by dash, bash and bash --posix;
 * no run may create the marker file. Its detector is checked on a template
 * rendered without the lexer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runner/shlex.h"
#include "../../runner/template.h"
#include "shrun.h"
#include "t.h"
#include "../../common/shquote.h"

#define MAXH 8

/* The {{…}} spans of S as holes; their number. */
static size_t find_holes(const char *s, struct shlex_hole *h)
{
	size_t n = 0;
	const char *p = s, *e;

	while (n < MAXH && (p = strstr(p, "{{")) && (e = strstr(p + 2, "}}"))) {
		h[n].off = (size_t)(p - s);
		h[n].len = (size_t)(e + 2 - p);
		n++;
		p = e + 2;
	}
	return n;
}

#define W SHLEX_WORD
#define U SHLEX_UNSEEN

static const struct lexcase {
	const char *text;
	enum shlex_why why;   /* SHLEX_OK: rc 0 */
	size_t off;           /* of the fault */
	enum shlex_ctx ctx[4];/* of each hole, in order */
} cases[] = {
	/* allowed */
	{ "cmd {{x}} --ref={{y}} a{{z}}b", SHLEX_OK, 0, { W, W, W } },
	{ "x={{x}}; ( cd / && d {{y}} ) | { t {{z}}; }", SHLEX_OK, 0, { W, W, W } },
	{ "case {{x}} in a) echo a;; esac\n{{y}}&&{{z}}||{{w}}", SHLEX_OK, 0, { W, W, W, W } },
	{ "echo \"$(date)\" '\"' \"'\" {{x}}{{y}}", SHLEX_OK, 0, { W, W } },
	{ "echo \\\\{{x}} $${{y}} \\\n{{z}}", SHLEX_OK, 0, { W, W, W } },
	{ "", SHLEX_OK, 0, { W } },
	/* each refused context */
	{ "echo '{{x}}' 'a'{{y}}", SHLEX_HOLE, 6, { SHLEX_SQUOTE, W } },
	{ "echo \"{{x}}\" $\"{{y}}\" \"\\\"{{z}}\"", SHLEX_HOLE, 6,
	  { SHLEX_DQUOTE, SHLEX_DQUOTE, SHLEX_DQUOTE } },
	{ "echo \\{{x}} a\\{{y}}", SHLEX_HOLE, 6, { SHLEX_BACKSLASH, SHLEX_BACKSLASH } },
	{ "echo ${{x}} $\\\n{{y}}", SHLEX_HOLE, 6, { SHLEX_DOLLAR, SHLEX_DOLLAR } },
	{ "echo `{{x}}` `\\{{y}}` \"`{{z}}`\"", SHLEX_HOLE, 6,
	  { SHLEX_BACKTICK, SHLEX_BACKTICK, SHLEX_BACKTICK } },
	{ "echo $(e {{x}}) \"$(e {{y}})\"", SHLEX_HOLE, 9, { SHLEX_CMDSUB, SHLEX_CMDSUB } },
	{ "diff <(e {{x}}) >({{y}})", SHLEX_HOLE, 9, { SHLEX_PROCSUB, SHLEX_PROCSUB } },
	{ "echo $(( {{x}} )) \"$(({{y}}))\"", SHLEX_HOLE, 9, { SHLEX_ARITH, SHLEX_ARITH } },
	{ "(( {{x}} )); for (( i={{y}}; ; )); do :; done", SHLEX_HOLE, 3,
	  { SHLEX_ARITHCMD, SHLEX_ARITHCMD } },
	{ "echo ${a:-{{x}}} \"${a:-{{y}}}\"", SHLEX_HOLE, 10, { SHLEX_PARAM, SHLEX_PARAM } },
	{ "echo $'{{x}}' $'\\{{y}}'", SHLEX_HOLE, 7, { SHLEX_ANSIC, SHLEX_ANSIC } },
	{ "echo # {{x}}\n{{y}}", SHLEX_HOLE, 7, { SHLEX_COMMENT, W } },
	{ "cat <<E\n{{x}}\nE\n{{y}}", SHLEX_HOLE, 8, { SHLEX_HEREDOC, W } },
	{ "cat <<{{x}}\n{{x}}\n", SHLEX_HOLE, 6, { SHLEX_HEREDOC_WORD, U } },
	{ "cat <<E'{{x}}'\n", SHLEX_HOLE, 8, { SHLEX_HEREDOC_WORD } },
	{ "[[ {{x}} ]] && {{y}}", SHLEX_HOLE, 3, { SHLEX_DBRACKET, W } },
	{ "a[{{x}}]=1 a[1]={{y}} echo x[{{z}}]", SHLEX_HOLE, 2,
	  { SHLEX_SUBSCRIPT, W, SHLEX_SUBSCRIPT } },
	{ "e >&{{x}} <& {{y}} >&2 {{z}}", SHLEX_HOLE, 4, { SHLEX_DUPWORD, SHLEX_DUPWORD, W } },
	{ "e >&\\\n {{x}} >&\\\n2 {{y}}", SHLEX_HOLE, 7, { SHLEX_DUPWORD, W } },
	/* a comment starts only at the start of a word */
	{ "echo a#b $# {{x}}", SHLEX_OK, 0, { W } },
	{ "echo #'\n{{x}}", SHLEX_OK, 0, { W } },
	{ "echo a#'\n{{x}}'", SHLEX_HOLE, 9, { SHLEX_SQUOTE } },
	{ "echo $#'\n{{x}}'", SHLEX_HOLE, 9, { SHLEX_SQUOTE } },
	{ "echo \"a\"#'\n{{x}}'", SHLEX_HOLE, 11, { SHLEX_SQUOTE } },
	{ "echo $(date)#'\n{{x}}'", SHLEX_HOLE, 15, { SHLEX_SQUOTE } },
	{ "echo \\#'\n{{x}}'", SHLEX_HOLE, 9, { SHLEX_SQUOTE } },
	{ "echo {{y}}#'\n{{x}}'", SHLEX_HOLE, 13, { W, SHLEX_SQUOTE } },
	{ "x=#'\n{{x}}'", SHLEX_HOLE, 5, { SHLEX_SQUOTE } },
	{ "}#'\n{{x}}'", SHLEX_HOLE, 4, { SHLEX_SQUOTE } },
	{ "(#'\n{{x}}", SHLEX_OK, 0, { W } },
	{ ";#'\n&#\"\n|#`\n{{x}}", SHLEX_OK, 0, { W } },
	{ "echo \\\n#'\n{{x}}", SHLEX_OK, 0, { W } },
	{ "echo a\\\n#'\n{{x}}'", SHLEX_HOLE, 11, { SHLEX_SQUOTE } },
	/* here-documents */
	{ "cat <<-E\n\t{{x}}\n\tE\n{{y}}", SHLEX_HOLE, 10, { SHLEX_HEREDOC, W } },
	{ "cat <<'E' <<\"F\"\n{{x}}\nE\n{{y}}\nF\n{{z}}", SHLEX_HOLE, 16,
	  { SHLEX_HEREDOC, SHLEX_HEREDOC, W } },
	{ "cat <<E\nEE\n E\nE \n{{x}}\nE\n{{y}}", SHLEX_HOLE, 17, { SHLEX_HEREDOC, W } },
	{ "cat <<E; echo {{x}}\n'\n$(e ')')\nE\n{{y}}", SHLEX_OK, 0, { W, W } },
	{ "cat <<\\E\n$(\nE\n{{x}}", SHLEX_OK, 0, { W } },
	{ "cat <<'E'\na\\\nE\n{{x}}", SHLEX_OK, 0, { W } },
	{ "cat <<E\nx\nE", SHLEX_OK, 0, { W } },
	{ "cat <<E", SHLEX_UNTERMINATED, 4, { W } },
	{ "cat <<E\nx\n{{x}}", SHLEX_HOLE, 10, { SHLEX_HEREDOC } },
	{ "cat <<E # {{x}}", SHLEX_HOLE, 10, { SHLEX_COMMENT } },
	{ "cat <<$E\n", SHLEX_HEREDOC_DELIM, 6, { W } },
	{ "cat <<''\n\n", SHLEX_HEREDOC_DELIM, 6, { W } },
	{ "cat <<E \"a\nb\"\nE", SHLEX_HEREDOC_LINE, 10, { W } },
	{ "cat <<E\na\\\nE\nE", SHLEX_HEREDOC_LINE, 9, { W } },
	{ "cat <<E\n`x\n`\nE", SHLEX_HEREDOC_LINE, 10, { W } },
	{ "echo $(cat <<E\nE\n)", SHLEX_NESTED_HEREDOC, 11, { W } },
	{ "cat <<<{{x}}", SHLEX_OK, 0, { W } },
	/* unterminated */
	{ "echo 'a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo \"a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo `a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo $(a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo ${a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo $'a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo $((a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo <(a", SHLEX_UNTERMINATED, 5, { W } },
	{ "echo \"$(a\"", SHLEX_UNTERMINATED, 9, { W } }, /* the innermost */
	{ "echo [[ a # b", SHLEX_NESTED_COMMENT, 10, { W } },
	{ "echo [[ a", SHLEX_OK, 0, { W } },
	{ "echo a # '", SHLEX_OK, 0, { W } },
	/* read apart by dash and bash */
	{ "echo $'a\\'b' {{x}}", SHLEX_ANSIC_QUOTE, 8, { U } },
	{ "echo ${a:-\"b\"}", SHLEX_PARAM_QUOTE, 10, { W } },
	{ "echo ${a#$'b'}", SHLEX_PARAM_QUOTE, 10, { W } },
	{ "echo ${|e; }", SHLEX_FUNSUB, 7, { W } },
	{ "echo ${\\\n e; }", SHLEX_FUNSUB, 9, { W } },
	{ "echo $(('1'))", SHLEX_ARITH_QUOTE, 8, { W } },
	{ "echo $((1\\+1))", SHLEX_ARITH_QUOTE, 9, { W } },
	{ "echo $(((1)+1) )", SHLEX_ARITH_PAREN, 13, { W } },
	{ "((a<<b))", SHLEX_ARITH_WORD, 3, { W } },
	{ "(( case ))", SHLEX_ARITH_WORD, 3, { W } },
	{ "echo $(a # b\n)", SHLEX_NESTED_COMMENT, 9, { W } },
	{ "echo <(case a in a) b;; esac)", SHLEX_NESTED_CASE, 7, { W } },
	{ "[[ a =~ (b) ]]", SHLEX_DBRACKET_PAREN, 8, { W } },
	{ "[[ a < <(b) ]]", SHLEX_DBRACKET_PAREN, 8, { W } },
	{ "echo \"$[1]\"", SHLEX_DOLLAR_BRACKET, 6, { W } },
	{ "echo +(a) ?(a) *(a) !(a)", SHLEX_EXTGLOB, 6, { W } },
	{ "a+=(b)", SHLEX_ARRAY, 3, { W } },
	{ "a[ # ]=1", SHLEX_SUBSCRIPT_WORD, 2, { W } },
	{ "echo; al\\\nias a=b", SHLEX_ALIAS, 6, { W } },
	{ "$(alias a=b)", SHLEX_ALIAS, 2, { W } },
	{ "e \xc3\xa9`a`", SHLEX_MULTIBYTE, 3, { W } },
	{ "e \xe2\x82\xac|a", SHLEX_MULTIBYTE, 4, { W } },
	{ "e ${a:-\xc3\xa9}", SHLEX_MULTIBYTE, 8, { W } },
	{ "e \xc3\xa9{{x}} \xc3\xa9", SHLEX_OK, 0, { W } },
};

static void test_cases(void)
{
	size_t i, k;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct lexcase *c = &cases[i];
		struct shlex_hole h[MAXH];
		struct shlex_fault f;
		size_t n = find_holes(c->text, h);
		int rc = shlex_check(c->text, strlen(c->text), h, n, &f), bad = 0;

		bad |= rc != (c->why == SHLEX_OK ? 0 : -EINVAL) || f.why != c->why;
		bad |= c->why != SHLEX_OK && f.off != c->off;
		bad |= f.why == SHLEX_HOLE ? (f.hole >= n || h[f.hole].off != f.off ||
		    f.ctx != h[f.hole].ctx) : f.hole != (size_t)-1;
		for (k = 0; k < n; k++)
			bad |= h[k].ctx != c->ctx[k];
		if (bad) {
			fprintf(stderr, "case #%zu [%s]: rc=%d why=%d off=%zu ctx=%d hole=%zu;", i,
			    c->text, rc, f.why, f.off, f.ctx, f.hole);
			for (k = 0; k < n; k++)
				fprintf(stderr, " %d", h[k].ctx);
			fprintf(stderr, "\n");
			T_CHECK(!"lexer verdict differs");
		}
	}
}

static void test_bad_holes(void)
{
	static const struct { size_t a, al, b, bl; } bad[] = {
		{ 5, 2, 1, 2 },   /* not sorted */
		{ 1, 3, 2, 2 },   /* overlapping */
		{ 1, 0, 4, 1 },   /* empty */
		{ 1, 1, 9, 2 },   /* past the end */
		{ 1, 1, 12, 1 },  /* starting past the end */
	};
	const char *text = "0123456789";
	struct shlex_hole h[2];
	struct shlex_fault f;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		h[0].off = bad[i].a, h[0].len = bad[i].al;
		h[1].off = bad[i].b, h[1].len = bad[i].bl;
		T_EQ_INT(shlex_check(text, 10, h, 2, &f), -EINVAL);
		T_EQ_INT(f.why, SHLEX_BADHOLES);
	}
	T_EQ_INT(shlex_check(text, 10, NULL, 1, &f), -EINVAL);
	T_EQ_INT(f.why, SHLEX_BADHOLES);
	T_EQ_INT(shlex_check(NULL, 3, NULL, 0, &f), -EINVAL);
	T_EQ_INT(f.why, SHLEX_BADHOLES);
	T_EQ_INT(shlex_check(text, 10, NULL, 0, NULL), -EINVAL);
	/* adjacent holes and one up to the end are fine */
	h[0].off = 2, h[0].len = 3;
	h[1].off = 5, h[1].len = 5;
	T_EQ_INT(shlex_check(text, 10, h, 2, &f), 0);
	T_EQ_INT(h[0].ctx, SHLEX_WORD);
	T_EQ_INT(h[1].ctx, SHLEX_WORD);
}

/* The bytes under a hole never count: quotes, $( and a backslash there
 * change nothing. */
static void test_hole_bytes_opaque(void)
{
	const char *text = "echo '\"$(\\` x";
	struct shlex_hole h[1] = { { 5, 6, SHLEX_UNSEEN } };
	struct shlex_fault f;

	T_EQ_INT(shlex_check(text, strlen(text), h, 1, &f), 0);
	T_EQ_INT(h[0].ctx, SHLEX_WORD);
	/* without the hole the same text is unterminated */
	T_EQ_INT(shlex_check(text, strlen(text), NULL, 0, &f), -EINVAL);
	T_EQ_INT(f.why, SHLEX_UNTERMINATED);
	T_EQ_INT(f.ctx, SHLEX_SQUOTE);
}

static void test_depth(void)
{
	char text[4 * SHLEX_MAX_DEPTH + 8] = "";
	struct shlex_fault f;
	size_t i;

	for (i = 0; i + 1 < SHLEX_MAX_DEPTH; i++)
		strcat(text, "$(");
	for (i = 0; i + 1 < SHLEX_MAX_DEPTH; i++)
		strcat(text, ")");
	T_EQ_INT(shlex_check(text, strlen(text), NULL, 0, &f), 0);
	memmove(text + 2, text, strlen(text) + 1);
	memcpy(text, "$(", 2);
	strcat(text, ")");
	T_EQ_INT(shlex_check(text, strlen(text), NULL, 0, &f), -EINVAL);
	T_EQ_INT(f.why, SHLEX_DEPTH);
	T_EQ_INT((long long)f.off, 2 * (SHLEX_MAX_DEPTH - 1));
}

static void test_strings(void)
{
	int i;

	for (i = 0; i <= SHLEX_DUPWORD + 1; i++)
		T_CHECK(shlex_ctx_str((enum shlex_ctx)i) && shlex_ctx_str((enum shlex_ctx)i)[0]);
	for (i = 0; i <= SHLEX_BADHOLES + 1; i++)
		T_CHECK(shlex_why_str((enum shlex_why)i) && shlex_why_str((enum shlex_why)i)[0]);
	T_EQ_STR(shlex_ctx_str(SHLEX_DQUOTE), "inside double quotes");
}

/* ---- against the real shells ------------------------------------- */

static const char *const tok[] = {
	"echo ", "printf %s ", "cat ", " ", " ", "\t", "\n", "\n", ";", "&&", "||", "|", "'", "'",
	"\"", "\"", "\\", "`", "$(", "$((", "((", ")", "))", "(", "${x:-", "${#x}", "}", "$'",
	"$\"", "#", "#", "a", "b=", "case x in x) ", ";;", " esac", "<<E", "<<'E'", "<<-E",
	"\nE\n", "E", "\tE", "<<<", "[[ ", " ]]", "a[", "]", "=", "\\\n", "$", "$$", "$#", "{ ",
	" }", "{{x}}", "{{x}}", "{{x}}", "{{x}}", ">/dev/null", "2>&1", ">&", "<&", "x={{x}}",
	"\"$x\"", "@(", "$[", "\xc3\xa9", "1", "-", "*", "!", "~", "<", ">", "&", "\\'", "\\\"",
	"'\\''", "\"\\\"\"", "$x", "\\\\", "`echo`", "$(echo)", "\"$(echo \"", "\")\"", "${x#",
	"${!x}", "$'\\\\'", "if true; then ", " fi", "{{x}}#", "a#", "=~ ",
};
static const char *const dvals[] = {
	"$(touch @M)", "`touch @M`", "';touch @M;'", "\";touch @M;\"", "\\';touch @M;#",
	"x[$(touch @M)]", "a'$(touch @M)", "';touch @M;#",
};

static char tmpdir[64], marker[128];
static unsigned long long rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* TEXT[0, CUT) with the first NH holes as VALUE in single quotes, into CMD. */
static void render_prefix(char *cmd, size_t cap, const char *text, size_t cut,
    const struct shlex_hole *h, size_t nh, const char *value)
{
	char *q = shquote_dup(value);
	size_t o = 0, last = 0, k;

	for (k = 0; k < nh && q && o + h[k].off - last + strlen(q) < cap; k++) {
		memcpy(cmd + o, text + last, h[k].off - last);
		o += h[k].off - last;
		memcpy(cmd + o, q, strlen(q));
		o += strlen(q);
		last = h[k].off + h[k].len;
	}
	if (o + cut - last < cap) {
		memcpy(cmd + o, text + last, cut - last);
		o += cut - last;
	}
	cmd[o] = 0;
	free(q);
}

/* Run CMD with every shell; how many runs left the marker (said on stderr
 * when REPORT). */
static int marked_runs(const char *cmd, int report)
{
	char *out;
	size_t len;
	int s, n = 0;

	for (s = 0; s < SH_N; s++) {
		unlink(marker);
		sh_run(s, cmd, tmpdir, &out, &len);
		free(out);
		if (access(marker, F_OK) == 0) {
			if (report)
				fprintf(stderr, "%s ran a value as code: [%s]\n", sh_name[s], cmd);
			n++;
		}
	}
	unlink(marker);
	return n;
}

static void value_of(char *dst, size_t n, const char *v)
{
	const char *m = strstr(v, "@M");

	snprintf(dst, n, "%.*s%s%s", (int)(m - v), v, marker, m + 2);
}

static void test_against_shells(void)
{
	char text[1024], cmd[8192], value[256];
	int accepted = 0, partial = 0, bad = 0, it;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/shlex-test-XXXXXX");
	T_CHECK(mkdtemp(tmpdir) != NULL);
	snprintf(marker, sizeof marker, "%s/M", tmpdir);
	/* the detector: a hole in double quotes, rendered anyway */
	value_of(value, sizeof value, dvals[0]);
	snprintf(cmd, sizeof cmd, "echo \"'%s'\"", value);
	T_EQ_INT(marked_runs(cmd, 0), SH_N);
	for (it = 0; it < 700; it++) {
		struct shlex_hole h[MAXH];
		struct shlex_fault f;
		size_t n, m, cut, v;
		int rc, k, nt = 1 + (int)rnd(14);

		text[0] = 0;
		for (k = 0; k < nt; k++)
			strcat(text, tok[rnd(sizeof tok / sizeof tok[0])]);
		n = find_holes(text, h);
		rc = shlex_check(text, strlen(text), h, n, &f);
		/* every hole before the first refusal claims word context there */
		for (m = 0; m < n && h[m].ctx == SHLEX_WORD; m++)
			;
		cut = m < n ? h[m].off : strlen(text);
		if (rc && f.why != SHLEX_HOLE && f.off < cut)
			cut = f.off;
		while (m > 0 && h[m - 1].off >= cut)
			m--;
		if (m == 0)
			continue;
		rc ? partial++ : accepted++;
		for (v = 0; v < sizeof dvals / sizeof dvals[0]; v++) {
			value_of(value, sizeof value, dvals[v]);
			render_prefix(cmd, sizeof cmd, text, cut, h, m, value);
			bad += marked_runs(cmd, 1);
		}
	}
	T_EQ_INT(bad, 0);
	/* enough templates got through for the check to mean something */
	T_CHECK(accepted >= 20);
	T_CHECK(partial >= 20);
	rmdir(tmpdir);
}

int main(void)
{
	T_RUN(test_cases);
	T_RUN(test_bad_holes);
	T_RUN(test_hole_bytes_opaque);
	T_RUN(test_depth);
	T_RUN(test_strings);
	T_RUN(test_against_shells);
	return T_EXIT();
}
