/*
 * tmplparam.h — one parameter of a command template: its declaration (an
 * entry of the job's "params", see template.h for the fields) parsed and
 * checked, and its value for one request fetched from its source and
 * checked against the declaration. Private to template.c.
 */
#ifndef TMPLPARAM_H
#define TMPLPARAM_H
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "tmplsrc.h"

#define TMPLPARAM_MAX_DEPTH 32  /* payload path segments */

enum tmplparam_src { TMPLPARAM_PAYLOAD, TMPLPARAM_JWT, TMPLPARAM_HEADER };

struct tmplparam {
	char *name;
	enum tmplparam_src from;
	char *key;                     /* claim or header name */
	char *pathbuf;                 /* payload path, '.' replaced by NUL */
	const char *seg[TMPLPARAM_MAX_DEPTH];
	int idx[TMPLPARAM_MAX_DEPTH];  /* array index of seg[i], -1 if not one */
	size_t nseg;
	regex_t re;
	int have_re;
	size_t max_len;
	char *def;                     /* default as text, NULL when none */
	int used;                      /* template.c: a placeholder names it */
};

/* Room for a value's text (a JSON number) and a reason, owned by the caller
 * of tmplparam_value for as long as it uses the answer. */
struct tmplparam_buf {
	char num[64];
	char why[64];
};

/* Parse DECL, the declaration of parameter P->name (set by the caller; the
 * rest of P zeroed), into P: source, key or path, pattern, max_len, default
 * (checked like a value). 0, -ENOMEM, or -EINVAL with ERR set to
 * `params.NAME.FIELD: why`. On error P may be half filled: tmplparam_clear. */
int tmplparam_parse(struct tmplparam *p, const cJSON *decl, char *err, size_t errlen);

/* Release what P holds and zero it. */
void tmplparam_clear(struct tmplparam *p);

/* P's value in SRC (SRC or its parts may be NULL: the value is missing),
 * or its default. 0 with *VALUE pointing into SRC, P or B; or -EINVAL with
 * *WHY a reason that never contains the value ("does not match pattern",
 * "missing header"), pointing to static text or into B. */
int tmplparam_value(const struct tmplparam *p, const struct tmpl_src *src,
    struct tmplparam_buf *b, const char **value, const char **why);
/* Write the message FMT into ERR (ERRLEN bytes; nothing when ERR is NULL
 * or ERRLEN 0): the compiler's and the renderer's error texts. */
void tmplparam_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* S as operator text for an error message in BUF (N bytes): printable
 * ASCII only, '"' and the rest as '?', truncated. Returns BUF. */
const char *tmplparam_printable(const char *s, char *buf, size_t n);
#endif
