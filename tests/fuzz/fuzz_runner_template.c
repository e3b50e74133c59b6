/*
 * fuzz_runner_template.c — libFuzzer harness for runner/template.c (with
 * tmplparam.c).
 *
 * The input is an untrusted JSON payload. It feeds a fixed template whose
 * parameters read the payload (top-level key, nested array/object path, key
 * with a default), the JWT claims (the same JSON, as a claims object) and a
 * header (the payload's "h" string, when there is one), all with permissive
 * patterns so that hostile bytes get as far as the quoting.
 *
 * Oracle, independent of the module's own quoting: a successful render must
 * parse as exactly the template's literal text with one well-formed POSIX
 * single-quoted word ('…' runs joined by \') in place of each placeholder;
 * each word decodes to a value free of control bytes, within max_len, and
 * equal to what an independent lookup in the payload finds. When every value
 * is predictable, success or refusal must be the predicted one. Any breach
 * aborts.
 *
 * Second, if the input is an object with a string "command", that is
 * compiled with its "params" and rendered against the input, for crashes and
 * leaks in the compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runner/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

static const char TEMPLATE[] =
    "deploy --ref={{ref}} --n {{ n }}{{flag}} x{{sub}}y {{req}} ; {{ref}}";
static const char PARAMS[] =
    "{\"ref\":{\"from\":\"payload\",\"path\":\"ref\",\"pattern\":\".*\",\"max_len\":4096},"
    " \"n\":{\"from\":\"payload\",\"path\":\"a.0.b\",\"pattern\":\"(.*)\"},"
    " \"flag\":{\"from\":\"payload\",\"path\":\"flag\",\"pattern\":\"[a-z]*|.*\","
    "   \"default\":\"none\",\"max_len\":64},"
    " \"sub\":{\"from\":\"jwt\",\"claim\":\"sub\",\"pattern\":\".*\"},"
    " \"req\":{\"from\":\"header\",\"name\":\"X-Req\",\"pattern\":\"[^x]*(x.*)?\"}}";

/* Literal text around the placeholders, and which parameter comes after each. */
enum { P_REF, P_N, P_FLAG, P_SUB, P_REQ, NP };
static const char *const lits[] = { "deploy --ref=", " --n ", "", " x", "y ", " ; ", "" };
static const int slots[] = { P_REF, P_N, P_FLAG, P_SUB, P_REQ, P_REF };
static const size_t maxlen[NP] = { 4096, 256, 64, 256, 256 };
static const char *const dflt[NP] = { NULL, NULL, "none", NULL, NULL };

static const char *hdr_from_payload(void *ctx, const char *name)
{
	const cJSON *h;

	if (strcmp(name, "X-Req") != 0 || !cJSON_IsObject((const cJSON *)ctx))
		return NULL;
	h = cJSON_GetObjectItemCaseSensitive((const cJSON *)ctx, "h");
	return cJSON_IsString(h) ? h->valuestring : NULL;
}

/*
 * Expected value of a parameter, independently of template.c:
 * 1 = known text in *txt (a string, boolean or default), 0 = must be refused,
 * -1 = a number (checked by round-trip instead).
 */
/* RFC 3629's grammar of byte ranges, independent of template.c's decoding:
 * 1 when S is well-formed UTF-8. */
static int utf8_by_ranges(const unsigned char *s)
{
	while (*s) {
		unsigned char c = *s, lo = 0x80, hi = 0xbf;
		int tail;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			tail = 1;
		else if (c >= 0xe0 && c <= 0xef)
			tail = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			tail = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return 0;
		if (s[1] < lo || s[1] > hi)
			return 0;
		for (int i = 2; i <= tail; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		s += tail + 1;
	}
	return 1;
}

static int expect(const cJSON *it, const char *def, const char **txt, size_t max)
{
	const char *s;

	if (!it) {
		if (!def)
			return 0;
		s = def;
	} else if (cJSON_IsTrue(it)) {
		s = "true";
	} else if (cJSON_IsFalse(it)) {
		s = "false";
	} else if (cJSON_IsNumber(it)) {
		return -1;
	} else if (cJSON_IsString(it)) {
		s = it->valuestring;
	} else {
		return 0;
	}
	*txt = s;
	if (strlen(s) > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return utf8_by_ranges((const unsigned char *)*txt);
}

/* Independent walk of "a.0.b". */
static const cJSON *lookup_n(const cJSON *root)
{
	const cJSON *a, *z;

	if (!cJSON_IsObject(root) || !(a = cJSON_GetObjectItemCaseSensitive(root, "a")))
		return NULL;
	if (cJSON_IsArray(a))
		z = cJSON_GetArrayItem(a, 0);
	else if (cJSON_IsObject(a))
		z = cJSON_GetObjectItemCaseSensitive(a, "0");
	else
		return NULL;
	return cJSON_IsObject(z) ? cJSON_GetObjectItemCaseSensitive(z, "b") : NULL;
}

/* Parse one single-quoted word at *pp into DST (malloc'ed); 0 or -1. */
static int take_word(const char **pp, char **dst)
{
	const char *p = *pp;
	size_t n = 0, cap = strlen(p) + 1;
	char *v = malloc(cap);

	CHECK(v);
	if (*p != '\'')
		goto bad;
	for (;;) {
		p++; /* opening quote */
		while (*p && *p != '\'')
			v[n++] = *p++;
		if (*p != '\'')
			goto bad; /* unterminated */
		p++; /* closing quote */
		if (p[0] == '\\' && p[1] == '\'' && p[2] == '\'') {
			v[n++] = '\'';
			p += 2; /* now at the next opening quote */
			continue;
		}
		break;
	}
	v[n] = 0;
	*pp = p;
	*dst = v;
	return 0;
bad:
	free(v);
	return -1;
}

static void check_rendered(const char *cmd, const cJSON *root)
{
	const cJSON *items[NP];
	char *got[NP] = { NULL };
	const char *p = cmd;
	size_t i;

	items[P_REF] = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ref") : NULL;
	items[P_N] = lookup_n(root);
	items[P_FLAG] = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "flag") : NULL;
	items[P_SUB] = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "sub") : NULL;

	for (i = 0; i < sizeof slots / sizeof slots[0]; i++) {
		char *w = NULL;
		const char *c;
		int k = slots[i];

		CHECK(strncmp(p, lits[i], strlen(lits[i])) == 0);
		p += strlen(lits[i]);
		CHECK(take_word(&p, &w) == 0);
		CHECK(strlen(w) <= maxlen[k]);
		for (c = w; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c != 0x7f);
		CHECK(utf8_by_ranges((const unsigned char *)w));
		if (got[k]) {
			CHECK(strcmp(got[k], w) == 0);
			free(w);
		} else {
			got[k] = w;
		}
	}
	CHECK(strcmp(p, lits[i]) == 0);

	for (i = 0; i < NP; i++) {
		const char *want = NULL;
		int e;

		if (i == P_REQ) {
			want = hdr_from_payload((void *)root, "X-Req");
			CHECK(want && strcmp(want, got[i]) == 0);
			continue;
		}
		e = expect(items[i], dflt[i], &want, maxlen[i]);
		CHECK(e != 0);
		if (e == 1)
			CHECK(strcmp(want, got[i]) == 0);
		else
			CHECK(strtod(got[i], NULL) == items[i]->valuedouble);
	}
	for (i = 0; i < NP; i++)
		free(got[i]);
}

static void fixed_template(const cJSON *root)
{
	static struct tmpl *t;
	struct hdr_src hs = { hdr_from_payload, (void *)root };
	struct tmpl_src src = { root, root, &hs };
	const cJSON *items[NP];
	char err[256], *out = NULL;
	int rc, predicted = 1, i;

	if (!t) {
		cJSON *params = cJSON_Parse(PARAMS);
		CHECK(params);
		CHECK(tmpl_compile(TEMPLATE, params, &t, err, sizeof err) == 0);
		cJSON_Delete(params);
		CHECK(tmpl_needs_payload(t));
	}
	rc = tmpl_render(t, &src, &out, err, sizeof err);
	if (rc == 0) {
		CHECK(out);
		check_rendered(out, root);
		free(out);
		return;
	}
	CHECK(out == NULL);
	CHECK(strncmp(err, "parameter \"", 11) == 0);

	/* When every value is predictably fine, refusal is a bug. */
	items[P_REF] = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ref") : NULL;
	items[P_N] = lookup_n(root);
	items[P_FLAG] = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "flag") : NULL;
	items[P_SUB] = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "sub") : NULL;
	items[P_REQ] = NULL;
	for (i = 0; i < NP; i++) {
		const char *w = NULL;
		if (i == P_REQ) {
			const char *h = hdr_from_payload((void *)root, "X-Req");
			cJSON tmp;
			memset(&tmp, 0, sizeof tmp);
			tmp.type = cJSON_String;
			tmp.valuestring = (char *)h;
			if (!h || expect(&tmp, NULL, &w, maxlen[i]) != 1)
				predicted = 0;
		} else if (expect(items[i], dflt[i], &w, maxlen[i]) != 1) {
			predicted = 0;
		}
	}
	CHECK(!predicted);
}

static void compiled_from_input(const cJSON *root)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "command");
	struct tmpl *t = NULL;
	struct tmpl_src src = { root, root, NULL };
	char err[256], *out = NULL;

	if (!cJSON_IsString(cmd))
		return;
	if (tmpl_compile(cmd->valuestring, cJSON_GetObjectItemCaseSensitive(root, "params"),
	    &t, err, sizeof err) != 0) {
		CHECK(t == NULL);
		CHECK(strchr(err, ':') != NULL);
		return;
	}
	if (tmpl_render(t, &src, &out, err, sizeof err) == 0)
		CHECK(out && strlen(out) <= 65536);
	free(out);
	tmpl_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root;

	if (size > 1 << 16)
		return 0;
	root = cJSON_ParseWithLength((const char *)data, size);
	fixed_template(root);
	if (root)
		compiled_from_input(root);
	cJSON_Delete(root);
	return 0;
}
