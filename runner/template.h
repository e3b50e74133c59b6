/*
 * template.c — command templates with named, validated, shell-quoted
 * parameters. Owns: compiling a hook's template and parameter declarations
 * (from config), fetching each value from its source (JSON payload path, JWT
 * claim, request header), validating it, and rendering the command string.
 *
 * Template syntax: literal text with {{name}} placeholders (name: [A-Za-z_]
 * [A-Za-z0-9_]*, optional spaces inside the braces). The literal text is the
 * operator's and is used as written; every placeholder is replaced by the
 * value in POSIX single quotes ('…', with ' written as '\''). That word is
 * literal only where the shell reads plain unquoted word text, so a
 * placeholder anywhere else is a compile error naming its byte offset and
 * context: inside '…', "…", `…`, $(…), ${…}, $((…)), $'…', [[…]], ((…)), a
 * comment or here-document, after \ or $, and more (shlex.h); so is text
 * that dash and bash read differently. The command reaches a POSIX sh -c on
 * the target (dash or bash). A value meant inside double quotes goes through
 * a variable: ref={{ref}}; echo "deploying $ref". A literal "{{" not forming
 * a placeholder is a compile error.
 *
 * Parameter declaration (config object "params": { "<name>": {...} }):
 *   "from":    "payload" | "jwt" | "header"              (required)
 *   "path":    payload: dot path, array indexes as numbers ("commits.0.id")
 *   "claim":   jwt: claim name
 *   "name":    header: header name
 *   "pattern": POSIX extended regex the WHOLE value must match (required;
 *              no repetition directly after another, no backreference)
 *   "max_len": maximum bytes, default 256, at most 4096
 *   "default": value used when the source lacks it (still validated);
 *              without a default a missing value is an error.
 * Payload/claim values may be strings, numbers (their JSON text) or booleans
 * ("true"/"false"); objects, arrays and null are invalid. Values containing
 * bytes below 0x20 (newline, NUL…) or 0x7f are always invalid.
 * Every placeholder must be declared and every declared parameter used.
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "tmplsrc.h"

struct tmpl;


/* Compile TEMPLATE with PARAMS (the "params" object, may be NULL). On error
 * returns -EINVAL and writes into ERR a message that starts with the
 * offending field relative to the job, e.g. `params.ref.pattern: ...` or
 * `command: undeclared parameter "x"`. */
int tmpl_compile(const char *template, const cJSON *params, struct tmpl **out,
    char *err, size_t errlen);
void tmpl_free(struct tmpl *t);

/* 1 when some parameter reads the JSON payload (the body must parse). */
int tmpl_needs_payload(const struct tmpl *t);

/* The header the first header-sourced parameter reads, or NULL when none
 * does (the config warns: a header is not covered by a body signature). */
const char *tmpl_header_param(const struct tmpl *t);

/* Render the command. On a missing or invalid value returns -EINVAL and
 * writes `parameter "ref": does not match pattern` (never the value itself)
 * into ERR. *out is malloc'ed. */
int tmpl_render(const struct tmpl *t, const struct tmpl_src *src, char **out,
    char *err, size_t errlen);

/* One parameter's name and the value the command gets (unquoted). */
struct tmpl_value {
	char *name, *value;
};
/* Every parameter of T with its value in SRC, in declaration order: what an
 * approver is shown beside the command. 0 with *OUT (malloc'ed, *N items;
 * tmpl_values_free), -EINVAL when a value is missing or invalid (as
 * tmpl_render would refuse), -ENOMEM. */
int tmpl_values(const struct tmpl *t, const struct tmpl_src *src, struct tmpl_value **out,
    size_t *n);
void tmpl_values_free(struct tmpl_value *v, size_t n);
#endif
