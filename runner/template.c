/*
 * template.c — command templates with named, validated, shell-quoted
 * parameters (contract: template.h).
 *
 * Owns: parsing a hook's command template at config time (errors name the
 * field: `command: ...`, `params.x: ...`), handing each "params" declaration
 * to tmplparam, and rendering the command at request time with every value,
 * fetched and checked by tmplparam, in POSIX single quotes.
 *
 * Safety rules. At compile time every placeholder must stand where a single-
 * quoted word is literal to dash and bash alike: as a word, or part of one, in
 * unquoted top-level text (shlex.h lists what is refused and why). At render
 * time each value first passes the checks tmplparam.c lists (scalar type,
 * length, control bytes and UTF-8, a whole-value pattern match); then it is
 * written as '...' with ' as '\'' (shquote_dup): there no byte of it is
 * shell syntax. A command that reads its own arguments as code (eval, sh -c,
 * ssh, bash's let, [[ -eq ]]) still sees code in it: there the pattern is the
 * only guard.
 * The rendered command is capped at TMPL_MAX_CMD bytes. Render errors name the
 * parameter and the reason, never the value. Nothing here logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/shquote.h"
#include "shlex.h"
#include "template.h"
#include "tmplparam.h"

#define TMPL_MAX_CMD      65536  /* bytes of template and of rendered command */
#define TMPL_MAX_PARAMS   64
#define TMPL_MAX_NAME     64     /* parameter name */

struct part {
	size_t off, len;               /* bytes of t->text (a placeholder: its {{name}}) */
	int param;                     /* index into t->p, -1 for a literal */
};

struct tmpl {
	char *text;                    /* copy of the template */
	struct tmplparam *p;
	size_t np;
	struct part *parts;
	size_t nparts;
	int needs_payload;
	const char *header_param;      /* the first header a parameter reads, or NULL */
};

#define is_name_start(c) (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || (c) == '_')
#define is_name_char(c) (is_name_start(c) || ((c) >= '0' && (c) <= '9'))

static int valid_name(const char *s)
{
	size_t i;

	if (!is_name_start((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i]; i++)
		if (!is_name_char((unsigned char)s[i]) || i >= TMPL_MAX_NAME)
			return 0;
	return 1;
}

void tmpl_free(struct tmpl *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->np; i++)
		tmplparam_clear(&t->p[i]);
	free(t->p);
	free(t->parts);
	free(t->text);
	free(t);
}

int tmpl_needs_payload(const struct tmpl *t)
{
	return t ? t->needs_payload : 0;
}

const char *tmpl_header_param(const struct tmpl *t)
{
	return t ? t->header_param : NULL;
}

static int add_part(struct tmpl *t, size_t *cap, size_t off, size_t len, int param)
{
	if (t->nparts == *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		struct part *np = realloc(t->parts, n * sizeof *np);
		if (!np)
			return -ENOMEM;
		t->parts = np;
		*cap = n;
	}
	t->parts[t->nparts].off = off;
	t->parts[t->nparts].len = len;
	t->parts[t->nparts].param = param;
	t->nparts++;
	return 0;
}

static int parse_template(struct tmpl *t, char *err, size_t errlen)
{
	const char *s = t->text;
	size_t i = 0, lit = 0, cap = 0, k;
	int rc;

	while (s[i]) {
		size_t j, ns, ne;
		int found = -1;

		if (s[i] != '{' || s[i + 1] != '{') {
			i++;
			continue;
		}
		j = i + 2;
		while (s[j] == ' ')
			j++;
		ns = j;
		if (is_name_start((unsigned char)s[j]))
			for (j++; is_name_char((unsigned char)s[j]); j++)
				;
		ne = j;
		while (s[j] == ' ')
			j++;
		if (ne == ns || ne - ns > TMPL_MAX_NAME || s[j] != '}' || s[j + 1] != '}') {
			tmplparam_seterr(err, errlen, "command: \"{{\" at byte %zu does not open a "
			    "placeholder {{name}}", i);
			return -EINVAL;
		}
		for (k = 0; k < t->np; k++)
			if (strlen(t->p[k].name) == ne - ns &&
			    !memcmp(t->p[k].name, s + ns, ne - ns))
				found = (int)k;
		if (found < 0) {
			tmplparam_seterr(err, errlen, "command: undeclared parameter \"%.*s\"",
			    (int)(ne - ns), s + ns);
			return -EINVAL;
		}
		t->p[found].used = 1;
		if (i > lit && (rc = add_part(t, &cap, lit, i - lit, -1)) < 0)
			return rc;
		if ((rc = add_part(t, &cap, i, j + 2 - i, found)) < 0)
			return rc;
		i = j + 2;
		lit = i;
	}
	if (i > lit && (rc = add_part(t, &cap, lit, i - lit, -1)) < 0)
		return rc;
	return 0;
}

/* The error for the placeholder N refused as F says, with what to do. */
static void hole_error(char *err, size_t errlen, const char *N, const struct shlex_fault *f)
{
	enum shlex_ctx c = f->ctx;
	char buf[3 * TMPL_MAX_NAME + 48];
	const char *adv = c == SHLEX_BACKSLASH ? "remove the backslash: the value is quoted" :
	    c == SHLEX_COMMENT ? "take it out of the comment" :
	    c == SHLEX_HEREDOC_WORD ? "a here-document delimiter must be fixed text" :
	    c == SHLEX_DUPWORD ? "bash expands it there twice, even from a variable: "
	    "redirect to a file with > or <" :
	    c == SHLEX_ARITH || c == SHLEX_ARITHCMD || c == SHLEX_DBRACKET || c == SHLEX_SUBSCRIPT ?
	    "bash evaluates it there as code, even from a variable: compare numbers with [ ]" :
	    NULL;

	if (c == SHLEX_DOLLAR)
		snprintf(buf, sizeof buf, "quote a literal $ before it: '$'{{%s}}", N);
	else if (!adv)
		snprintf(buf, sizeof buf, "assign it first: %s={{%s}}; then use \"$%s\"", N, N, N);
	tmplparam_seterr(err, errlen, "command: placeholder {{%s}} at byte %zu is %s; a value may only "
	    "stand as a word in unquoted text (%s)", N, f->off, shlex_ctx_str(f->ctx),
	    adv ? adv : buf);
}

/* Every placeholder must stand as a word in unquoted text, read as dash and
 * bash read the command (shlex.h). */
static int check_shell(const struct tmpl *t, char *err, size_t errlen)
{
	struct shlex_hole *h = NULL;
	struct shlex_fault f;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < t->nparts; i++)
		n += t->parts[i].param >= 0;
	if (n && !(h = calloc(n, sizeof *h)))
		return -ENOMEM;
	for (i = 0, n = 0; i < t->nparts; i++)
		if (t->parts[i].param >= 0) {
			h[n].off = t->parts[i].off;
			h[n++].len = t->parts[i].len;
		}
	rc = shlex_check(t->text, strlen(t->text), h, n, &f);
	if (rc == -EINVAL && f.why == SHLEX_HOLE) {
		for (i = 0; t->parts[i].param < 0 || t->parts[i].off != f.off; i++)
			;
		hole_error(err, errlen, t->p[t->parts[i].param].name, &f);
	} else if (rc == -EINVAL && f.why == SHLEX_UNTERMINATED) {
		tmplparam_seterr(err, errlen, "command: the text ends %s, opened at byte %zu",
		    shlex_ctx_str(f.ctx), f.off);
	} else if (rc == -EINVAL) {
		tmplparam_seterr(err, errlen, "command: at byte %zu, %s", f.off, shlex_why_str(f.why));
	}
	free(h);
	return rc;
}

int tmpl_compile(const char *template, const cJSON *params, struct tmpl **out,
    char *err, size_t errlen)
{
	struct tmpl *t = NULL;
	const cJSON *c;
	char buf[80];
	size_t n = 0, i, k;
	int rc;

	tmplparam_seterr(err, errlen, "%s", "");
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!template || !template[0]) {
		tmplparam_seterr(err, errlen, "command: required, a non-empty string");
		return -EINVAL;
	}
	if (strnlen(template, TMPL_MAX_CMD + 1) > TMPL_MAX_CMD) {
		tmplparam_seterr(err, errlen, "command: longer than %d bytes", TMPL_MAX_CMD);
		return -EINVAL;
	}
	if (params && !cJSON_IsObject(params)) {
		tmplparam_seterr(err, errlen, "params: must be an object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(c, params)
		n++;
	if (n > TMPL_MAX_PARAMS) {
		tmplparam_seterr(err, errlen, "params: more than %d parameters", TMPL_MAX_PARAMS);
		return -EINVAL;
	}
	rc = -ENOMEM;
	if (!(t = calloc(1, sizeof *t)) || !(t->text = strdup(template)))
		goto out;
	if (n && !(t->p = calloc(n, sizeof *t->p)))
		goto out;

	cJSON_ArrayForEach(c, params) {
		struct tmplparam *p = &t->p[t->np];
		rc = -EINVAL;
		if (!c->string || !valid_name(c->string)) {
			tmplparam_seterr(err, errlen, "params.%s: invalid parameter name (want "
			    "[A-Za-z_][A-Za-z0-9_]*, at most %d bytes)",
			    tmplparam_printable(c->string ? c->string : "", buf, 65), TMPL_MAX_NAME);
			goto out;
		}
		for (k = 0; k < t->np; k++)
			if (!strcmp(t->p[k].name, c->string)) {
				tmplparam_seterr(err, errlen, "params.%s: declared twice", c->string);
				goto out;
			}
		rc = -ENOMEM;
		if (!(p->name = strdup(c->string)))
			goto out;
		t->np++;
		if ((rc = tmplparam_parse(p, c, err, errlen)) < 0)
			goto out;
		if (p->from == TMPLPARAM_PAYLOAD)
			t->needs_payload = 1;
		if (p->from == TMPLPARAM_HEADER && !t->header_param)
			t->header_param = p->key;
	}

	if ((rc = parse_template(t, err, errlen)) < 0)
		goto out;
	rc = -EINVAL;
	for (i = 0; i < t->np; i++)
		if (!t->p[i].used) {
			tmplparam_seterr(err, errlen, "params.%s: declared but not used in command",
			    t->p[i].name);
			goto out;
		}
	if ((rc = check_shell(t, err, errlen)) < 0)
		goto out;

	*out = t;
	t = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM)
		tmplparam_seterr(err, errlen, "out of memory");
	tmpl_free(t);
	return rc;
}

int tmpl_render(const struct tmpl *t, const struct tmpl_src *src, char **out,
    char *err, size_t errlen)
{
	struct tmplparam_buf b;
	char **q = NULL, *cmd = NULL;
	size_t i, total = 0, o = 0;
	int rc = -EINVAL;

	tmplparam_seterr(err, errlen, "%s", "");
	if (!t || !out) {
		tmplparam_seterr(err, errlen, "command: no template");
		return -EINVAL;
	}
	*out = NULL;
	if (t->np && !(q = calloc(t->np, sizeof *q))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < t->np; i++) {
		const struct tmplparam *p = &t->p[i];
		const char *v, *bad;

		if (tmplparam_value(p, src, &b, &v, &bad) < 0) {
			tmplparam_seterr(err, errlen, "parameter \"%s\": %s", p->name, bad);
			goto out;
		}
		if (!(q[i] = shquote_dup(v))) {
			rc = -ENOMEM;
			goto out;
		}
	}
	/* Each piece is at most 3 * 4096 + 3 bytes and there are at most
	 * 64 KiB of template, so the sum cannot overflow a size_t. */
	for (i = 0; i < t->nparts; i++)
		total += t->parts[i].param < 0 ? t->parts[i].len : strlen(q[t->parts[i].param]);
	if (total > TMPL_MAX_CMD) {
		tmplparam_seterr(err, errlen, "command: rendered command longer than %d bytes", TMPL_MAX_CMD);
		goto out;
	}
	if (!(cmd = malloc(total + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < t->nparts; i++) {
		const struct part *pt = &t->parts[i];
		const char *s = pt->param < 0 ? t->text + pt->off : q[pt->param];
		size_t len = pt->param < 0 ? pt->len : strlen(s);
		memcpy(cmd + o, s, len);
		o += len;
	}
	cmd[o] = 0;
	*out = cmd;
	cmd = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM)
		tmplparam_seterr(err, errlen, "out of memory");
	if (q)
		for (i = 0; i < t->np; i++)
			free(q[i]);
	free(q);
	free(cmd);
	return rc;
}

void tmpl_values_free(struct tmpl_value *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

int tmpl_values(const struct tmpl *t, const struct tmpl_src *src, struct tmpl_value **out,
    size_t *n)
{
	struct tmplparam_buf b;
	struct tmpl_value *v = NULL;
	size_t i;
	int rc = -ENOMEM;

	*out = NULL;
	*n = 0;
	if (!t)
		return -EINVAL;
	if (t->np && !(v = calloc(t->np, sizeof *v)))
		return -ENOMEM;
	for (i = 0; i < t->np; i++) {
		const char *val, *bad;
		if (tmplparam_value(&t->p[i], src, &b, &val, &bad) < 0) {
			rc = -EINVAL;
			goto out;
		}
		if (!(v[i].name = strdup(t->p[i].name)) || !(v[i].value = strdup(val)))
			goto out;
	}
	*out = v;
	*n = t->np;
	v = NULL;
	rc = 0;
out:
	tmpl_values_free(v, t->np);
	return rc;
}
