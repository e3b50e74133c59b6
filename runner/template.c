/*
 * template.c — command templates with named, validated, shell-quoted
 * parameters (contract: template.h).
 *
 * Owns: parsing a hook's command template and its "params" declarations at
 * config time (every field checked, errors name the field: `params.ref.pattern:
 * ...`, `command: ...`), fetching each value at request time from its source
 * (JSON payload path, JWT claim, request header), validating it, and rendering
 * the command with every value in POSIX single quotes.
 *
 * Safety rules. At compile time every placeholder must stand where a single-
 * quoted word is literal to dash and bash alike: as a word, or part of one, in
 * unquoted top-level text (shlex.h lists what is refused and why), and every
 * pattern passes ere_vet (no stacked repetition, no backreference). At render
 * time, in the order they are applied to an untrusted value:
 *  1. only strings, finite numbers (canonical JSON text) and booleans;
 *  2. length cap (max_len) before anything else looks at the bytes;
 *  3. no byte below 0x20 and no 0x7f, whatever the pattern says, and well-
 *     formed UTF-8 (no stray continuation byte, no overlong form, no UTF-16
 *     surrogate, nothing past U+10FFFF): a JSON body may carry any bytes
 *     in its strings, and a header or claim any bytes at all;
 *  4. the operator's POSIX ERE must match the WHOLE value: pmatch[0] has to
 *     span [0, len) — an unanchored or badly anchored pattern cannot let a
 *     partial match through;
 *  5. the value is written as '...' with ' as '\'' (shquote_dup): there
 *     no byte of it is shell syntax. A command that reads its own arguments
 *     as code (eval, sh -c, ssh, bash's let, [[ -eq ]]) still sees code in
 *     it: there the pattern is the only guard.
 * The rendered command is capped at TMPL_MAX_CMD bytes. Render errors name the
 * parameter and the reason, never the value. Nothing here logs.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ere.h"
#include "shlex.h"
#include "template.h"
#include "utf8.h"
#include "verify_hmac.h"
#include "../common/shquote.h"

#define TMPL_MAX_CMD      65536  /* bytes of template and of rendered command */
#define TMPL_MAX_PARAMS   64
#define TMPL_MAX_NAME     64     /* parameter name */
#define TMPL_MAX_DEPTH    32     /* payload path segments */
#define TMPL_MAX_PATH     1024   /* payload path bytes */
#define TMPL_MAX_KEY      256    /* claim / header name bytes */
#define TMPL_MAX_PATTERN  4096
#define TMPL_MAX_INDEX_DIGITS 6  /* array index < 1000000 */
#define TMPL_DEFAULT_LEN  256
#define TMPL_MAX_LEN      4096

enum src { SRC_PAYLOAD, SRC_JWT, SRC_HEADER };

struct param {
	char *name;
	enum src from;
	char *key;                     /* claim or header name */
	char *pathbuf;                 /* payload path, '.' replaced by NUL */
	const char *seg[TMPL_MAX_DEPTH];
	int idx[TMPL_MAX_DEPTH];       /* array index of seg[i], -1 if not one */
	size_t nseg;
	regex_t re;
	int have_re;
	size_t max_len;
	char *def;                     /* default as text, NULL when none */
	int used;
};

struct part {
	size_t off, len;               /* bytes of t->text (a placeholder: its {{name}}) */
	int param;                     /* index into t->p, -1 for a literal */
};

struct tmpl {
	char *text;                    /* copy of the template */
	struct param *p;
	size_t np;
	struct part *parts;
	size_t nparts;
	int needs_payload;
	const char *header_param;      /* the first header a parameter reads, or NULL */
};

__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Operator text for an error message: printable ASCII only, truncated. */
static const char *printable(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	buf[i] = 0;
	return buf;
}

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

/* RFC 9110 token characters. */
static int valid_header_name(const char *s)
{
	size_t i;

	if (!s[0] || strlen(s) > TMPL_MAX_KEY)
		return 0;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) && c < 0x80) && !strchr("!#$%&'*+-.^_`|~", c))
			return 0;
	}
	return 1;
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

/* "0" or [1-9][0-9]{0,5} → the index; anything else → -1. */
static int parse_index(const char *s)
{
	size_t i, n = strlen(s);
	int v = 0;

	if (n == 0 || n > TMPL_MAX_INDEX_DIGITS || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Text of a JSON scalar: strings as they are, numbers in canonical JSON form
 * (integers below 2^53 without exponent or fraction, others the shortest
 * %g that reads back exactly), booleans "true"/"false". Returns NULL and sets
 * *why for anything else.
 */
static const char *json_text(const cJSON *it, char *num, size_t numlen, const char **why)
{
	if (cJSON_IsString(it) && it->valuestring)
		return it->valuestring;
	if (cJSON_IsTrue(it))
		return "true";
	if (cJSON_IsFalse(it))
		return "false";
	if (cJSON_IsNumber(it)) {
		double d = it->valuedouble, a = d < 0 ? -d : d;
		int prec;

		if (!__builtin_isfinite(d)) {
			*why = "is not a finite number";
			return NULL;
		}
		if (d == 0) {
			snprintf(num, numlen, "0");
			return num;
		}
		if (a < 9007199254740992.0 && (double)(long long)d == d) {
			snprintf(num, numlen, "%lld", (long long)d);
			return num;
		}
		for (prec = 15; prec <= 17; prec++) {
			snprintf(num, numlen, "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		return num;
	}
	if (cJSON_IsObject(it))
		*why = "is an object";
	else if (cJSON_IsArray(it))
		*why = "is an array";
	else if (cJSON_IsNull(it))
		*why = "is null";
	else
		*why = "has an unsupported type";
	return NULL;
}

/* NULL when V is acceptable for P, else the reason (never containing V). */
static const char *check_value(const struct param *p, const char *v, char *why, size_t whylen)
{
	regmatch_t m[1];
	size_t len = strnlen(v, p->max_len + 1);

	if (len > p->max_len) {
		snprintf(why, whylen, "longer than %zu bytes", p->max_len);
		return why;
	}
	if (has_ctl(v))
		return "contains control bytes";
	if (!utf8_valid(v))
		return "is not valid UTF-8";
	if (regexec(&p->re, v, 1, m, 0) != 0 || m[0].rm_so != 0 || m[0].rm_eo < 0 ||
	    (size_t)m[0].rm_eo != len)
		return "does not match pattern";
	return NULL;
}

static void param_clear(struct param *p)
{
	free(p->name);
	free(p->key);
	free(p->pathbuf);
	if (p->have_re)
		regfree(&p->re);
	free(p->def);
	memset(p, 0, sizeof *p);
}

void tmpl_free(struct tmpl *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->np; i++)
		param_clear(&t->p[i]);
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

static int parse_path(struct param *p, const char *path, char *err, size_t errlen)
{
	char *s, *dot;
	size_t n = 0;

	if (!path[0] || strlen(path) > TMPL_MAX_PATH || has_ctl(path)) {
		seterr(err, errlen, "params.%s.path: must be 1 to %d printable bytes",
		    p->name, TMPL_MAX_PATH);
		return -EINVAL;
	}
	if (!(p->pathbuf = strdup(path)))
		return -ENOMEM;
	for (s = p->pathbuf;; s = dot + 1) {
		dot = strchr(s, '.');
		if (dot)
			*dot = 0;
		if (!s[0]) {
			seterr(err, errlen, "params.%s.path: empty segment", p->name);
			return -EINVAL;
		}
		if (n == TMPL_MAX_DEPTH) {
			seterr(err, errlen, "params.%s.path: more than %d segments",
			    p->name, TMPL_MAX_DEPTH);
			return -EINVAL;
		}
		p->seg[n] = s;
		p->idx[n] = parse_index(s);
		n++;
		if (!dot)
			break;
	}
	p->nseg = n;
	return 0;
}

enum { F_FROM = 1, F_PATH = 2, F_CLAIM = 4, F_NAME = 8, F_PATTERN = 16, F_MAXLEN = 32,
	F_DEFAULT = 64 };

static const struct { const char *key; int bit; } fields[] = {
	{ "from", F_FROM }, { "path", F_PATH }, { "claim", F_CLAIM }, { "name", F_NAME },
	{ "pattern", F_PATTERN }, { "max_len", F_MAXLEN }, { "default", F_DEFAULT },
};

static int parse_param(struct param *p, const cJSON *decl, char *err, size_t errlen)
{
	const char *N = p->name;
	const cJSON *c, *from, *pattern, *maxlen, *def;
	char buf[80], why[64];
	const char *bad, *dv;
	enum ere_why ew;
	int seen = 0, rc, need, notallowed;
	size_t i;

	if (!cJSON_IsObject(decl)) {
		seterr(err, errlen, "params.%s: must be an object", N);
		return -EINVAL;
	}
	cJSON_ArrayForEach(c, decl) {
		int bit = 0;
		for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
			if (c->string && !strcmp(c->string, fields[i].key))
				bit = fields[i].bit;
		if (!bit) {
			seterr(err, errlen, "params.%s.%s: unknown field", N,
			    printable(c->string ? c->string : "", buf, 65));
			return -EINVAL;
		}
		if (seen & bit) {
			seterr(err, errlen, "params.%s.%s: given twice", N, c->string);
			return -EINVAL;
		}
		seen |= bit;
	}

	from = cJSON_GetObjectItemCaseSensitive(decl, "from");
	if (!cJSON_IsString(from) || !from->valuestring) {
		seterr(err, errlen, "params.%s.from: required, one of \"payload\", \"jwt\", \"header\"", N);
		return -EINVAL;
	}
	if (!strcmp(from->valuestring, "payload")) {
		p->from = SRC_PAYLOAD;
		need = F_PATH;
	} else if (!strcmp(from->valuestring, "jwt")) {
		p->from = SRC_JWT;
		need = F_CLAIM;
	} else if (!strcmp(from->valuestring, "header")) {
		p->from = SRC_HEADER;
		need = F_NAME;
	} else {
		seterr(err, errlen, "params.%s.from: unknown source \"%s\" (want \"payload\", "
		    "\"jwt\" or \"header\")", N, printable(from->valuestring, buf, 65));
		return -EINVAL;
	}
	notallowed = (F_PATH | F_CLAIM | F_NAME) & ~need & seen;
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (notallowed & fields[i].bit) {
			seterr(err, errlen, "params.%s.%s: not valid with from \"%s\"", N,
			    fields[i].key, from->valuestring);
			return -EINVAL;
		}
	c = cJSON_GetObjectItemCaseSensitive(decl, need == F_PATH ? "path" :
	    need == F_CLAIM ? "claim" : "name");
	if (!cJSON_IsString(c) || !c->valuestring) {
		seterr(err, errlen, "params.%s.%s: required string for from \"%s\"", N,
		    need == F_PATH ? "path" : need == F_CLAIM ? "claim" : "name",
		    from->valuestring);
		return -EINVAL;
	}
	if (p->from == SRC_PAYLOAD) {
		if ((rc = parse_path(p, c->valuestring, err, errlen)) < 0)
			return rc;
	} else if (p->from == SRC_JWT) {
		if (!c->valuestring[0] || strlen(c->valuestring) > TMPL_MAX_KEY ||
		    has_ctl(c->valuestring)) {
			seterr(err, errlen, "params.%s.claim: must be 1 to %d printable bytes",
			    N, TMPL_MAX_KEY);
			return -EINVAL;
		}
	} else {
		if (!valid_header_name(c->valuestring)) {
			seterr(err, errlen, "params.%s.name: not a valid header name", N);
			return -EINVAL;
		}
		/* Credentials and signatures have no business on a remote command
		 * line (and signatures are never stored, for async jobs). */
		if (!strcasecmp(c->valuestring, "authorization") ||
		    !strcasecmp(c->valuestring, "proxy-authorization") ||
		    !strcasecmp(c->valuestring, "cookie") || vhmac_is_signature_header(c->valuestring)) {
			seterr(err, errlen, "params.%s.name: header \"%s\" carries credentials "
			    "or a signature and cannot be used", N, c->valuestring);
			return -EINVAL;
		}
	}
	if (p->from != SRC_PAYLOAD && !(p->key = strdup(c->valuestring)))
		return -ENOMEM;

	pattern = cJSON_GetObjectItemCaseSensitive(decl, "pattern");
	if (!cJSON_IsString(pattern) || !pattern->valuestring || !pattern->valuestring[0] ||
	    strlen(pattern->valuestring) > TMPL_MAX_PATTERN) {
		seterr(err, errlen, "params.%s.pattern: required, a non-empty POSIX extended "
		    "regex the whole value must match", N);
		return -EINVAL;
	}
	if (ere_vet(pattern->valuestring, &ew) < 0) {
		if (ew == ERE_STACKED)
			seterr(err, errlen, "params.%s.pattern: a repetition (*, +, ? or {n,m}) "
			    "directly after another: undefined in POSIX, and costly to compile; "
			    "group it instead, as in (a+)*", N);
		else
			seterr(err, errlen, "params.%s.pattern: backreferences are not allowed: "
			    "matching them can take exponential time", N);
		return -EINVAL;
	}
	rc = regcomp(&p->re, pattern->valuestring, REG_EXTENDED);
	if (rc != 0) {
		char msg[128];
		regerror(rc, NULL, msg, sizeof msg);
		seterr(err, errlen, "params.%s.pattern: invalid regex: %s", N, msg);
		return -EINVAL;
	}
	p->have_re = 1;

	p->max_len = TMPL_DEFAULT_LEN;
	maxlen = cJSON_GetObjectItemCaseSensitive(decl, "max_len");
	if (maxlen) {
		double d = cJSON_IsNumber(maxlen) ? maxlen->valuedouble : 0;
		if (!(d >= 1 && d <= TMPL_MAX_LEN) || (double)(int)d != d) {
			seterr(err, errlen, "params.%s.max_len: must be an integer from 1 to %d",
			    N, TMPL_MAX_LEN);
			return -EINVAL;
		}
		p->max_len = (size_t)d;
	}

	def = cJSON_GetObjectItemCaseSensitive(decl, "default");
	if (def) {
		char num[64];
		const char *tw = NULL;
		if (!(dv = json_text(def, num, sizeof num, &tw))) {
			seterr(err, errlen, "params.%s.default: %s (want a string, number or "
			    "boolean)", N, tw);
			return -EINVAL;
		}
		if ((bad = check_value(p, dv, why, sizeof why))) {
			seterr(err, errlen, "params.%s.default: %s", N, bad);
			return -EINVAL;
		}
		if (!(p->def = strdup(dv)))
			return -ENOMEM;
	}
	return 0;
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
			seterr(err, errlen, "command: \"{{\" at byte %zu does not open a "
			    "placeholder {{name}}", i);
			return -EINVAL;
		}
		for (k = 0; k < t->np; k++)
			if (strlen(t->p[k].name) == ne - ns &&
			    !memcmp(t->p[k].name, s + ns, ne - ns))
				found = (int)k;
		if (found < 0) {
			seterr(err, errlen, "command: undeclared parameter \"%.*s\"",
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
	seterr(err, errlen, "command: placeholder {{%s}} at byte %zu is %s; a value may only "
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
		seterr(err, errlen, "command: the text ends %s, opened at byte %zu",
		    shlex_ctx_str(f.ctx), f.off);
	} else if (rc == -EINVAL) {
		seterr(err, errlen, "command: at byte %zu, %s", f.off, shlex_why_str(f.why));
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

	seterr(err, errlen, "%s", "");
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!template || !template[0]) {
		seterr(err, errlen, "command: required, a non-empty string");
		return -EINVAL;
	}
	if (strnlen(template, TMPL_MAX_CMD + 1) > TMPL_MAX_CMD) {
		seterr(err, errlen, "command: longer than %d bytes", TMPL_MAX_CMD);
		return -EINVAL;
	}
	if (params && !cJSON_IsObject(params)) {
		seterr(err, errlen, "params: must be an object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(c, params)
		n++;
	if (n > TMPL_MAX_PARAMS) {
		seterr(err, errlen, "params: more than %d parameters", TMPL_MAX_PARAMS);
		return -EINVAL;
	}
	rc = -ENOMEM;
	if (!(t = calloc(1, sizeof *t)) || !(t->text = strdup(template)))
		goto out;
	if (n && !(t->p = calloc(n, sizeof *t->p)))
		goto out;

	cJSON_ArrayForEach(c, params) {
		struct param *p = &t->p[t->np];
		rc = -EINVAL;
		if (!c->string || !valid_name(c->string)) {
			seterr(err, errlen, "params.%s: invalid parameter name (want "
			    "[A-Za-z_][A-Za-z0-9_]*, at most %d bytes)",
			    printable(c->string ? c->string : "", buf, 65), TMPL_MAX_NAME);
			goto out;
		}
		for (k = 0; k < t->np; k++)
			if (!strcmp(t->p[k].name, c->string)) {
				seterr(err, errlen, "params.%s: declared twice", c->string);
				goto out;
			}
		rc = -ENOMEM;
		if (!(p->name = strdup(c->string)))
			goto out;
		t->np++;
		if ((rc = parse_param(p, c, err, errlen)) < 0)
			goto out;
		if (p->from == SRC_PAYLOAD)
			t->needs_payload = 1;
		if (p->from == SRC_HEADER && !t->header_param)
			t->header_param = p->key;
	}

	if ((rc = parse_template(t, err, errlen)) < 0)
		goto out;
	rc = -EINVAL;
	for (i = 0; i < t->np; i++)
		if (!t->p[i].used) {
			seterr(err, errlen, "params.%s: declared but not used in command",
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
		seterr(err, errlen, "out of memory");
	tmpl_free(t);
	return rc;
}

/* The raw item for P from SRC, or NULL when the source lacks it. */
static const cJSON *lookup_json(const struct param *p, const struct tmpl_src *src)
{
	const cJSON *node;
	size_t i;

	if (p->from == SRC_JWT) {
		if (!src || !cJSON_IsObject(src->claims))
			return NULL;
		return cJSON_GetObjectItemCaseSensitive(src->claims, p->key);
	}
	node = src ? src->payload : NULL;
	for (i = 0; node && i < p->nseg; i++) {
		if (cJSON_IsArray(node))
			node = p->idx[i] < 0 ? NULL : cJSON_GetArrayItem(node, p->idx[i]);
		else if (cJSON_IsObject(node))
			node = cJSON_GetObjectItemCaseSensitive(node, p->seg[i]);
		else
			node = NULL;
	}
	return node;
}

static const char *const src_desc[] = {
	[SRC_PAYLOAD] = "missing from payload",
	[SRC_JWT] = "missing from JWT claims",
	[SRC_HEADER] = "missing header",
};

int tmpl_render(const struct tmpl *t, const struct tmpl_src *src, char **out,
    char *err, size_t errlen)
{
	char **q = NULL, *cmd = NULL, num[64], why[64];
	size_t i, total = 0, o = 0;
	int rc = -EINVAL;

	seterr(err, errlen, "%s", "");
	if (!t || !out) {
		seterr(err, errlen, "command: no template");
		return -EINVAL;
	}
	*out = NULL;
	if (t->np && !(q = calloc(t->np, sizeof *q))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < t->np; i++) {
		const struct param *p = &t->p[i];
		const char *v = NULL, *bad = NULL;

		if (p->from == SRC_HEADER) {
			v = hdr_get(src ? src->headers : NULL, p->key);
		} else {
			const cJSON *it = lookup_json(p, src);
			if (it && !(v = json_text(it, num, sizeof num, &bad))) {
				seterr(err, errlen, "parameter \"%s\": %s", p->name, bad);
				goto out;
			}
		}
		if (!v && !(v = p->def)) {
			seterr(err, errlen, "parameter \"%s\": %s", p->name, src_desc[p->from]);
			goto out;
		}
		if ((bad = check_value(p, v, why, sizeof why))) {
			seterr(err, errlen, "parameter \"%s\": %s", p->name, bad);
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
		seterr(err, errlen, "command: rendered command longer than %d bytes", TMPL_MAX_CMD);
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
		seterr(err, errlen, "out of memory");
	if (q)
		for (i = 0; i < t->np; i++)
			free(q[i]);
	free(q);
	free(cmd);
	return rc;
}
