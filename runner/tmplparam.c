/*
 * tmplparam.c — one parameter of a command template (contract: tmplparam.h):
 * its declaration in "params", checked field by field at config time
 * (`params.ref.pattern: ...`), and its value at request time, fetched from
 * its source (JSON payload path, JWT claim, request header) and checked.
 *
 * The checks, in the order they are applied to an untrusted value:
 *  1. only strings, finite numbers (canonical JSON text) and booleans;
 *  2. length cap (max_len) before anything else looks at the bytes;
 *  3. no byte below 0x20 and no 0x7f, whatever the pattern says, and well-
 *     formed UTF-8 (no stray continuation byte, no overlong form, no UTF-16
 *     surrogate, nothing past U+10FFFF): a JSON body may carry any bytes
 *     in its strings, and a header or claim any bytes at all;
 *  4. the operator's POSIX ERE must match the WHOLE value: pmatch[0] has to
 *     span [0, len) — an unanchored or badly anchored pattern cannot let a
 *     partial match through.
 * Every pattern passes ere_vet (no stacked repetition, no backreference).
 * Reasons name the parameter's field, never the value. Nothing here logs.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ere.h"
#include "tmplparam.h"
#include "utf8.h"
#include "verify_hmac.h"

#define TMPL_MAX_PATH     1024   /* payload path bytes */
#define TMPL_MAX_KEY      256    /* claim / header name bytes */
#define TMPL_MAX_PATTERN  4096
#define TMPL_MAX_INDEX_DIGITS 6  /* array index < 1000000 */
#define TMPL_DEFAULT_LEN  256
#define TMPL_MAX_LEN      4096

void tmplparam_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *tmplparam_printable(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	buf[i] = 0;
	return buf;
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

/* "0" or [1-9][0-9]{0,5}: 0 with the index in *OUT; anything else is
 * -EINVAL with *OUT = -1 (the segment names an object member). */
static int parse_index(const char *s, int *out)
{
	size_t i, n = strlen(s);
	int v = 0;

	*out = -1;
	if (n == 0 || n > TMPL_MAX_INDEX_DIGITS || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
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
static const char *check_value(const struct tmplparam *p, const char *v, char *why, size_t whylen)
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

void tmplparam_clear(struct tmplparam *p)
{
	free(p->name);
	free(p->key);
	free(p->pathbuf);
	if (p->have_re)
		regfree(&p->re);
	free(p->def);
	memset(p, 0, sizeof *p);
}

static int parse_path(struct tmplparam *p, const char *path, char *err, size_t errlen)
{
	char *s, *dot;
	size_t n = 0;

	if (!path[0] || strlen(path) > TMPL_MAX_PATH || has_ctl(path)) {
		tmplparam_seterr(err, errlen, "params.%s.path: must be 1 to %d printable bytes",
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
			tmplparam_seterr(err, errlen, "params.%s.path: empty segment", p->name);
			return -EINVAL;
		}
		if (n == TMPLPARAM_MAX_DEPTH) {
			tmplparam_seterr(err, errlen, "params.%s.path: more than %d segments",
			    p->name, TMPLPARAM_MAX_DEPTH);
			return -EINVAL;
		}
		p->seg[n] = s;
		(void)parse_index(s, &p->idx[n]);
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

int tmplparam_parse(struct tmplparam *p, const cJSON *decl, char *err, size_t errlen)
{
	const char *N = p->name;
	const cJSON *c, *from, *pattern, *maxlen, *def;
	char buf[80], why[64];
	const char *bad, *dv;
	enum ere_why ew;
	int seen = 0, rc, need, notallowed;
	size_t i;

	if (!cJSON_IsObject(decl)) {
		tmplparam_seterr(err, errlen, "params.%s: must be an object", N);
		return -EINVAL;
	}
	cJSON_ArrayForEach(c, decl) {
		int bit = 0;
		for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
			if (c->string && !strcmp(c->string, fields[i].key))
				bit = fields[i].bit;
		if (!bit) {
			tmplparam_seterr(err, errlen, "params.%s.%s: unknown field", N,
			    tmplparam_printable(c->string ? c->string : "", buf, 65));
			return -EINVAL;
		}
		if (seen & bit) {
			tmplparam_seterr(err, errlen, "params.%s.%s: given twice", N, c->string);
			return -EINVAL;
		}
		seen |= bit;
	}

	from = cJSON_GetObjectItemCaseSensitive(decl, "from");
	if (!cJSON_IsString(from) || !from->valuestring) {
		tmplparam_seterr(err, errlen, "params.%s.from: required, one of \"payload\", \"jwt\", \"header\"", N);
		return -EINVAL;
	}
	if (!strcmp(from->valuestring, "payload")) {
		p->from = TMPLPARAM_PAYLOAD;
		need = F_PATH;
	} else if (!strcmp(from->valuestring, "jwt")) {
		p->from = TMPLPARAM_JWT;
		need = F_CLAIM;
	} else if (!strcmp(from->valuestring, "header")) {
		p->from = TMPLPARAM_HEADER;
		need = F_NAME;
	} else {
		tmplparam_seterr(err, errlen, "params.%s.from: unknown source \"%s\" (want \"payload\", "
		    "\"jwt\" or \"header\")", N, tmplparam_printable(from->valuestring, buf, 65));
		return -EINVAL;
	}
	notallowed = (F_PATH | F_CLAIM | F_NAME) & ~need & seen;
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (notallowed & fields[i].bit) {
			tmplparam_seterr(err, errlen, "params.%s.%s: not valid with from \"%s\"", N,
			    fields[i].key, from->valuestring);
			return -EINVAL;
		}
	c = cJSON_GetObjectItemCaseSensitive(decl, need == F_PATH ? "path" :
	    need == F_CLAIM ? "claim" : "name");
	if (!cJSON_IsString(c) || !c->valuestring) {
		tmplparam_seterr(err, errlen, "params.%s.%s: required string for from \"%s\"", N,
		    need == F_PATH ? "path" : need == F_CLAIM ? "claim" : "name",
		    from->valuestring);
		return -EINVAL;
	}
	if (p->from == TMPLPARAM_PAYLOAD) {
		if ((rc = parse_path(p, c->valuestring, err, errlen)) < 0)
			return rc;
	} else if (p->from == TMPLPARAM_JWT) {
		if (!c->valuestring[0] || strlen(c->valuestring) > TMPL_MAX_KEY ||
		    has_ctl(c->valuestring)) {
			tmplparam_seterr(err, errlen, "params.%s.claim: must be 1 to %d printable bytes",
			    N, TMPL_MAX_KEY);
			return -EINVAL;
		}
	} else {
		if (!valid_header_name(c->valuestring)) {
			tmplparam_seterr(err, errlen, "params.%s.name: not a valid header name", N);
			return -EINVAL;
		}
		/* Credentials and signatures have no business on a remote command
		 * line (and signatures are never stored, for async jobs). */
		if (!strcasecmp(c->valuestring, "authorization") ||
		    !strcasecmp(c->valuestring, "proxy-authorization") ||
		    !strcasecmp(c->valuestring, "cookie") || vhmac_is_signature_header(c->valuestring)) {
			tmplparam_seterr(err, errlen, "params.%s.name: header \"%s\" carries credentials "
			    "or a signature and cannot be used", N, c->valuestring);
			return -EINVAL;
		}
	}
	if (p->from != TMPLPARAM_PAYLOAD && !(p->key = strdup(c->valuestring)))
		return -ENOMEM;

	pattern = cJSON_GetObjectItemCaseSensitive(decl, "pattern");
	if (!cJSON_IsString(pattern) || !pattern->valuestring || !pattern->valuestring[0] ||
	    strlen(pattern->valuestring) > TMPL_MAX_PATTERN) {
		tmplparam_seterr(err, errlen, "params.%s.pattern: required, a non-empty POSIX extended "
		    "regex the whole value must match", N);
		return -EINVAL;
	}
	if (ere_vet(pattern->valuestring, &ew) < 0) {
		if (ew == ERE_STACKED)
			tmplparam_seterr(err, errlen, "params.%s.pattern: a repetition (*, +, ? or {n,m}) "
			    "directly after another: undefined in POSIX, and costly to compile; "
			    "group it instead, as in (a+)*", N);
		else
			tmplparam_seterr(err, errlen, "params.%s.pattern: backreferences are not allowed: "
			    "matching them can take exponential time", N);
		return -EINVAL;
	}
	rc = regcomp(&p->re, pattern->valuestring, REG_EXTENDED);
	if (rc != 0) {
		char msg[128];
		regerror(rc, NULL, msg, sizeof msg);
		tmplparam_seterr(err, errlen, "params.%s.pattern: invalid regex: %s", N, msg);
		return -EINVAL;
	}
	p->have_re = 1;

	p->max_len = TMPL_DEFAULT_LEN;
	maxlen = cJSON_GetObjectItemCaseSensitive(decl, "max_len");
	if (maxlen) {
		double d = cJSON_IsNumber(maxlen) ? maxlen->valuedouble : 0;
		if (!(d >= 1 && d <= TMPL_MAX_LEN) || (double)(int)d != d) {
			tmplparam_seterr(err, errlen, "params.%s.max_len: must be an integer from 1 to %d",
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
			tmplparam_seterr(err, errlen, "params.%s.default: %s (want a string, number or "
			    "boolean)", N, tw);
			return -EINVAL;
		}
		if ((bad = check_value(p, dv, why, sizeof why))) {
			tmplparam_seterr(err, errlen, "params.%s.default: %s", N, bad);
			return -EINVAL;
		}
		if (!(p->def = strdup(dv)))
			return -ENOMEM;
	}
	return 0;
}

/* The raw item for P from SRC, or NULL when the source lacks it. */
static const cJSON *lookup_json(const struct tmplparam *p, const struct tmpl_src *src)
{
	const cJSON *node;
	size_t i;

	if (p->from == TMPLPARAM_JWT) {
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
	[TMPLPARAM_PAYLOAD] = "missing from payload",
	[TMPLPARAM_JWT] = "missing from JWT claims",
	[TMPLPARAM_HEADER] = "missing header",
};

int tmplparam_value(const struct tmplparam *p, const struct tmpl_src *src,
    struct tmplparam_buf *b, const char **value, const char **why)
{
	const char *v = NULL;

	*value = NULL;
	*why = NULL;
	if (p->from == TMPLPARAM_HEADER) {
		v = hdr_get(src ? src->headers : NULL, p->key);
	} else {
		const cJSON *it = lookup_json(p, src);
		if (it && !(v = json_text(it, b->num, sizeof b->num, why)))
			return -EINVAL;
	}
	if (!v && !(v = p->def)) {
		*why = src_desc[p->from];
		return -EINVAL;
	}
	if ((*why = check_value(p, v, b->why, sizeof b->why)))
		return -EINVAL;
	*value = v;
	return 0;
}
