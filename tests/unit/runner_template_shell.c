/*
 * runner_template_shell.c — unit tests for where runner/template.c lets a
 * placeholder stand in the command (the rules of runner/shlex.c, seen
 * through tmpl_compile and tmpl_render): every refused context and every
 * refused text gives its message with the right byte offset; every allowed
 * form compiles; every allowed form, rendered with hostile values, is run by
 * real dash, bash and bash --posix, and the output must be what the template
 * means with the raw value, byte for byte, with no side effect. The last
 * test renders three templates the old way (plain substitution, no lexer)
 * and shows that the same check catches the injection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runner/template.h"
#include "shrun.h"
#include "t.h"
#include "../../common/shquote.h"

static char errbuf[512];
static char tmpdir[64], marker[128];

/* Compile TEMPLATE with each of ref, x, y it uses declared as a payload
 * value of that name, any bytes allowed (".*"). */
static int compile(const char *template, struct tmpl **t)
{
	static const char *const names[] = { "ref", "x", "y" };
	char params[512] = "{", ph[16];
	cJSON *p;
	size_t i;
	int rc;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(ph, sizeof ph, "{{%s}}", names[i]);
		if (!strstr(template, ph))
			continue;
		snprintf(params + strlen(params), sizeof params - strlen(params),
		    "%s\"%s\":{\"from\":\"payload\",\"path\":\"%s\",\"pattern\":\".*\","
		    "\"max_len\":4096}", params[1] ? "," : "", names[i], names[i]);
	}
	strcat(params, "}");
	p = cJSON_Parse(params);
	*t = NULL;
	rc = tmpl_compile(template, p, t, errbuf, sizeof errbuf);
	cJSON_Delete(p);
	return rc;
}

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tmpl-shell-XXXXXX");
	if (!mkdtemp(tmpdir))
		tmpdir[0] = 0;
	snprintf(marker, sizeof marker, "%s/M", tmpdir);
}

/* ---- refused ------------------------------------------------------- */

static const struct { const char *tmpl, *want; } refused[] = {
	/* whole messages */
	{ "echo \"deploying {{ref}} now\"", "command: placeholder {{ref}} at byte 16 is inside "
	  "double quotes; a value may only stand as a word in unquoted text (assign it first: "
	  "ref={{ref}}; then use \"$ref\")" },
	{ "echo ${{ref}}", "command: placeholder {{ref}} at byte 6 is directly after an unquoted $; "
	  "a value may only stand as a word in unquoted text (quote a literal $ before it: "
	  "'$'{{ref}})" },
	{ "echo \\{{ref}}", "command: placeholder {{ref}} at byte 6 is directly after an unquoted "
	  "\\; a value may only stand as a word in unquoted text (remove the backslash: the value "
	  "is quoted)" },
	{ "echo hi # {{ref}}", "command: placeholder {{ref}} at byte 10 is in a comment; a value may "
	  "only stand as a word in unquoted text (take it out of the comment)" },
	{ "echo $(( {{ref}} + 1 ))", "command: placeholder {{ref}} at byte 9 is inside $((…)); a "
	  "value may only stand as a word in unquoted text (bash evaluates it there as code, even "
	  "from a variable: compare numbers with [ ])" },
	{ "echo {{ref}} 'oops", "command: the text ends inside single quotes, opened at byte 13" },
	{ "echo {{ref}}; echo $'a\\'b'", "command: at byte 22, \\' inside $'…' (dash and bash end "
	  "that string apart)" },
	/* the context and the offset */
	{ "echo '{{ref}}'", "command: placeholder {{ref}} at byte 6 is inside single quotes;" },
	{ "echo `{{ref}}`", "command: placeholder {{ref}} at byte 6 is inside `…`;" },
	{ "echo $(echo {{ref}})", "command: placeholder {{ref}} at byte 12 is inside $(…);" },
	{ "diff <(echo {{ref}}) f", "command: placeholder {{ref}} at byte 12 is inside <(…) or >(…);" },
	{ "(( {{ref}} > 1 ))", "command: placeholder {{ref}} at byte 3 is inside ((…));" },
	{ "echo ${x:-{{ref}}}", "command: placeholder {{ref}} at byte 10 is inside ${…};" },
	{ "echo $'{{ref}}'", "command: placeholder {{ref}} at byte 7 is inside $'…';" },
	{ "echo $\"{{ref}}\"", "command: placeholder {{ref}} at byte 7 is inside double quotes;" },
	{ "cat <<EOF\n{{ref}}\nEOF", "command: placeholder {{ref}} at byte 10 is in a here-document;" },
	{ "cat <<{{ref}}\nx\n", "command: placeholder {{ref}} at byte 6 is a here-document delimiter; "
	  "a value may only stand as a word in unquoted text (a here-document delimiter must be "
	  "fixed text)" },
	{ "[[ {{ref}} == a ]]", "command: placeholder {{ref}} at byte 3 is inside [[…]];" },
	{ "a[{{ref}}]=1", "command: placeholder {{ref}} at byte 2 is inside an array subscript" },
	{ "echo hi >&{{ref}}", "command: placeholder {{ref}} at byte 10 is the word after >& or <& "
	  "(bash expands it a second time); a value may only stand as a word in unquoted text (bash "
	  "expands it there twice, even from a variable: redirect to a file with > or <)" },
	{ "echo \"$(date) {{ref}}\"", "command: placeholder {{ref}} at byte 14 is inside double quotes;" },
	{ "\"{{ref}}\"", "command: placeholder {{ref}} at byte 1 is inside double quotes;" },
	/* unterminated */
	{ "echo {{ref}} \"oops", "command: the text ends inside double quotes, opened at byte 13" },
	{ "echo {{ref}} `oops", "command: the text ends inside `…`, opened at byte 13" },
	{ "echo {{ref}} $(oops", "command: the text ends inside $(…), opened at byte 13" },
	{ "echo {{ref}} ${oops", "command: the text ends inside ${…}, opened at byte 13" },
	{ "echo {{ref}} $((1+", "command: the text ends inside $((…)), opened at byte 13" },
	{ "cat <<EOF {{ref}}\nbody", "command: the text ends in a here-document, opened at byte 4" },
	{ "cat <<EOF {{ref}}", "command: the text ends in a here-document, opened at byte 4" },
	/* read apart by dash and bash */
	{ "echo $[1+1] {{ref}}", "command: at byte 5, $[…]" },
	{ "echo ${x:-'a'} {{ref}}", "command: at byte 10, a quote inside ${…}" },
	{ "alias ll=ls; ll {{ref}}", "command: at byte 0, alias" },
	{ "echo @(a) {{ref}}", "command: at byte 6, an extglob pattern" },
	{ "a=(1) {{ref}}", "command: at byte 2, a bash array assignment" },
	{ "echo $(echo a;#c\n) {{ref}}", "command: at byte 14, a comment inside $(…)" },
	{ "echo $(case a in a) b;; esac) {{ref}}", "command: at byte 7, case inside $(…)" },
	{ "echo $(cat <<E\nE\n) {{ref}}", "command: at byte 11, a here-document inside $(…)" },
	{ "[[ ( a ) ]] && echo {{ref}}", "command: at byte 3, ( or ) inside [[…]]" },
	{ "(( a # b )); echo {{ref}}", "command: at byte 5, #, <<, case or alias inside ((…))" },
	{ "echo $((1) + 2) {{ref}}", "command: at byte 9, a ) inside arithmetic" },
	{ "a[ 1 ]=x; echo {{ref}}", "command: at byte 2, a blank or operator inside name[…]" },
	{ "echo caf\xc3\xa9\\x {{ref}}", "command: at byte 9, a non-ASCII character before" },
	{ "cat <<E\n$(x\n)\nE\necho {{ref}}", "command: at byte 11, a line break in a quote or "
	  "substitution next to a here-document" },
	{ "echo ${ echo; } {{ref}}", "command: at byte 7, ${ …} or ${|…}" },
	{ "cat <<'E F'\nE F\necho {{ref}}", "command: at byte 6, a here-document delimiter not of" },
	{ "echo $'\\'' {{ref}}", "command: at byte 7, \\' inside $'…'" },
	{ "echo {{ref}} $((1 + \"2\"))", "command: at byte 20, a quote or backslash inside arithmetic" },
};

static void test_refused(void)
{
	size_t i;

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		struct tmpl *t = (struct tmpl *)1;
		int rc = compile(refused[i].tmpl, &t);

		if (rc != -EINVAL || t != NULL ||
		    strncmp(errbuf, refused[i].want, strlen(refused[i].want))) {
			fprintf(stderr, "refused #%zu [%s]: rc=%d err=\"%s\"\n  want \"%s\"\n", i,
			    refused[i].tmpl, rc, errbuf, refused[i].want);
			T_CHECK(!"wrong refusal");
			if (rc == 0)
				tmpl_free(t);
		}
	}
}

/* ---- allowed ------------------------------------------------------- */

static void test_allowed_forms_compile(void)
{
	static const char *const ok[] = {
		"cmd {{x}}", "cmd --ref={{x}}", "a{{x}}b", "x={{x}}; echo \"$x\"",
		"( cd /srv && deploy {{x}} )", "{ deploy {{x}}; }",
		"case {{x}} in a) echo a;; esac", "deploy {{x}} | tee log", "deploy {{x}}{{y}}",
		"cd /srv\ndeploy {{x}}\necho done\n", "a; {{x}}", "a && {{x}}", "a || {{x}}",
		"a | {{x}}", "a\n{{x}}", "echo \"$(date)\" {{x}}",
		"cat <<EOF\nhello\nEOF\necho {{x}}", "cat <<'EOF'\n'\"`$(\nEOF\necho {{x}}",
		"cat <<EOF; echo {{x}}\nbody\nEOF", "echo a#b {{x}} $# {{y}}", "echo $${{x}}",
		"echo >&2 {{x}}", "echo >{{x}}", "echo 2>{{x}}", "cat <<<{{x}}",
		"for i in {{x}}; do echo \"$i\"; done", "f() { echo \"$1\"; }; f {{x}}",
		"if [ {{x}} = a ]; then echo; fi", "deploy \\\n  --ref {{x}} \\\n  --by {{y}}",
		"echo \"it's\" '\"' {{x}}", "x=$((1 + 2)) {{x}}", "echo ${#} ${x:-a} {{x}}",
		"[[ a ]] && echo {{x}}", "((n = 1)); echo {{x}}", "echo caf\xc3\xa9 {{x}}",
	};
	struct tmpl *t;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int rc = compile(ok[i], &t);
		if (rc != 0) {
			fprintf(stderr, "allowed #%zu [%s]: %s\n", i, ok[i], errbuf);
			T_CHECK(!"an allowed form did not compile");
		}
		tmpl_free(t);
	}
}

/* ---- through the real shells -------------------------------------- */

/* Forms that can run anywhere, and their output with the raw value in
 * place of each \1. Both x and y get the same value. */
static const struct { const char *tmpl, *want; } forms[] = {
	{ "printf '[%s]' {{x}}", "[\1]" },
	{ "printf '%s\\n' --ref={{x}}", "--ref=\1\n" },
	{ "printf %s a{{x}}b", "a\1b" },
	{ "x={{x}}; printf %s \"$x\"", "\1" },
	{ "( cd / && printf %s {{x}} )", "\1" },
	{ "{ printf %s {{x}}; }", "\1" },
	{ "case {{x}} in a) printf A;; *) printf '%s|' {{x}};; esac", "\1|" },
	{ "printf %s {{x}} | tee /dev/null", "\1" },
	{ "printf %s {{x}}{{y}}", "\1\1" },
	{ "printf %s {{x}}\nprintf %s -{{x}}-\n", "\1-\1-" },
	{ "true; printf %s {{x}} && printf %s {{x}} || printf no\nfalse || printf %s {{x}} | cat",
	  "\1\1\1" },
	{ "printf %s \"$(printf d)\" {{x}}", "d\1" },
	{ "cat <<EOF\nhello $HOME\nEOF\nprintf %s {{x}}", "hello /nonexistent-home\n\1" },
	{ "cat <<'EOF'\n'\"$(x)\nEOF\nprintf %s {{x}}", "'\"$(x)\n\1" },
	{ "for i in {{x}}; do printf '%s.' \"$i\"; done", "\1." },
	{ "f() { printf %s \"$1\"; }; f {{x}}", "\1" },
	{ "printf %s {{x}} # it's \"done\"", "\1" },
	{ "a=1; printf %s $a{{x}}$#", "1\1" "0" },
	{ "printf '%s\\n' a\\ b \\\n {{x}}", "a b\n\1\n" },
	{ "printf %s {{x}} 2>/dev/null", "\1" },
};

/* Hostile values; @M stands for the marker file's path. */
static const char *const hostile[] = {
	"$(touch @M)", "`touch @M`", "';touch @M;#", "\\';touch @M;#", "'", "\"", "\\", "$",
	"${IFS}", "!", "*", "~", "a b", "-n", "caf\xc3\xa9 \xe2\x98\x83 \xe2\x82\xac", "",
	"x[$(touch @M)]", "$'\\x41'", "'\"'\"", "%s%n", "--", "#", "$((1))",
	"\\\"$(touch @M)\\\"", "}", "]]", "EOF", "a\\", "$IFS$(touch @M)",
};

/* S with every @M replaced by the marker path, into DST. */
static void expand(char *dst, size_t n, const char *s)
{
	size_t o = 0;

	for (; *s && o + 1 < n; s++) {
		if (s[0] == '@' && s[1] == 'M') {
			o += (size_t)snprintf(dst + o, n - o, "%s", marker);
			s++;
		} else {
			dst[o++] = *s;
		}
	}
	dst[o < n ? o : n - 1] = 0;
}

enum { BAD_EXIT = 1, BAD_OUT = 2, BAD_MARK = 4 };

/* Run CMD with shell S: what went wrong against WANT (WLEN bytes), as BAD_*
 * bits; 0 when it printed exactly WANT, exited 0 and left no marker. */
static int check_run(int s, const char *cmd, const char *want, size_t wlen)
{
	char *got = NULL;
	size_t glen;
	int rc, bad = 0;

	unlink(marker);
	rc = sh_run(s, cmd, tmpdir, &got, &glen);
	if (rc != 0)
		bad |= BAD_EXIT;
	if (!got || glen != wlen || memcmp(got, want, wlen))
		bad |= BAD_OUT;
	if (access(marker, F_OK) == 0)
		bad |= BAD_MARK;
	unlink(marker);
	free(got);
	return bad;
}

static void test_matrix_through_shells(void)
{
	size_t f, v, i, o, runs = 0;
	char value[512], want[2048];
	int s;

	T_CHECK(tmpdir[0] != 0);
	for (f = 0; f < sizeof forms / sizeof forms[0]; f++) {
		struct tmpl *t = NULL;

		T_EQ_INT(compile(forms[f].tmpl, &t), 0);
		if (!t)
			continue;
		for (v = 0; v < sizeof hostile / sizeof hostile[0]; v++) {
			cJSON *pl = cJSON_CreateObject();
			struct tmpl_src src = { pl, NULL, NULL };
			char *cmd = NULL;

			expand(value, sizeof value, hostile[v]);
			cJSON_AddStringToObject(pl, "x", value);
			cJSON_AddStringToObject(pl, "y", value);
			T_EQ_INT(tmpl_render(t, &src, &cmd, errbuf, sizeof errbuf), 0);
			cJSON_Delete(pl);
			if (!cmd)
				continue;
			for (i = o = 0; forms[f].want[i] && o + strlen(value) + 1 < sizeof want; i++) {
				if (forms[f].want[i] == '\1') {
					memcpy(want + o, value, strlen(value));
					o += strlen(value);
				} else {
					want[o++] = forms[f].want[i];
				}
			}
			for (s = 0; s < SH_N; s++) {
				int bad = check_run(s, cmd, want, o);
				runs++;
				if (bad) {
					fprintf(stderr, "%s: form #%zu value [%s] -> [%s]: bad %d\n",
					    sh_name[s], f, value, cmd, bad);
					T_CHECK(!"a hostile value changed what the command does");
				}
			}
			free(cmd);
		}
		tmpl_free(t);
	}
	T_EQ_INT((long long)runs, (long long)(sizeof forms / sizeof forms[0] *
	    (sizeof hostile / sizeof hostile[0]) * SH_N));
}

/* Plain substitution of the quoted value, as before the lexer, in three
 * places the compiler now refuses: the check above sees the injection (so
 * it can fail), and the compiler refuses each template. */
static void test_old_rendering_caught(void)
{
	static const struct { const char *pre, *post, *value, *tmpl; int shells; } old[] = {
		{ "printf %s \"", "\"", "$(touch @M)", "printf %s \"{{x}}\"", 7 },
		{ "printf %s '", "'", "$(touch @M)", "printf %s '{{x}}'", 7 },
		/* $'…' is bash's: dash reads $ and a plain '…' there */
		{ "printf %s $", "", "\\';touch @M;#", "printf %s ${{x}}", 6 },
	};
	char value[256], cmd[1024], *q;
	struct tmpl *t;
	size_t i;
	int s;

	T_CHECK(tmpdir[0] != 0);
	for (i = 0; i < sizeof old / sizeof old[0]; i++) {
		expand(value, sizeof value, old[i].value);
		q = shquote_dup(value);
		T_CHECK(q != NULL);
		if (!q)
			continue;
		snprintf(cmd, sizeof cmd, "%s%s%s", old[i].pre, q, old[i].post);
		free(q);
		for (s = 0; s < SH_N; s++) {
			int bad = check_run(s, cmd, value, strlen(value));
			if (old[i].shells & (1 << s)) {
				T_CHECK(bad & BAD_MARK);
				T_CHECK(bad & BAD_OUT);
			} else {
				T_EQ_INT(bad & BAD_MARK, 0);
			}
		}
		T_EQ_INT(compile(old[i].tmpl, &t), -EINVAL);
		T_CHECK(strncmp(errbuf, "command: placeholder {{x}} at byte 11 is ", 41) == 0);
	}
}

int main(void)
{
	make_tmpdir();
	T_RUN(test_refused);
	T_RUN(test_allowed_forms_compile);
	T_RUN(test_matrix_through_shells);
	T_RUN(test_old_rendering_caught);
	if (tmpdir[0]) {
		unlink(marker);
		rmdir(tmpdir);
	}
	return T_EXIT();
}
