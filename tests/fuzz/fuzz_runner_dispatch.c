/*
 * fuzz_runner_dispatch.c — libFuzzer harness for runner/dispatch.c's
 * request side: dispatch_prepare on the RAW body bytes exactly as the
 * server hands them over (its own NUL / \u0000 refusal, the strict
 * whole-body JSON parse, then the template), and dispatch_meta_parse, the
 * stored delivery metadata a replay renders the command from again.
 * fuzz_runner_template covers the template on already-parsed JSON; this one
 * covers the bytes before that and the replay path after it.
 *
 * Input layout (sections split on the first two "\n\n"):
 *   header lines "Name: value" ("\n"-separated)  \n\n
 *   JWT claims as JSON text (may be empty: no claims)  \n\n
 *   the body (raw bytes, NULs included)
 *
 * Two hooks: one whose command reads the payload (the body must parse), one
 * whose command reads only a header and a claim (the body is never parsed).
 *
 * Oracles (any breach aborts):
 *  - a body holding a raw NUL, or a string with a \u0000 escape (found by an
 *    independent, string-aware scan), is refused when the payload is needed;
 *    so is any body that is not one complete JSON value;
 *  - a body that is refused as JSON never matters to the hook that does not
 *    need it: same answer as with an empty body;
 *  - a success renders the template's literal text with well-formed POSIX
 *    single-quoted words free of control bytes;
 *  - the replay path gives the same answer: the metadata the server stores
 *    (headers minus credentials, claims), printed and parsed back through
 *    dispatch_meta_parse, renders the same command or the same refusal.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../runner/dispatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

#define MAXH 32

static const char T_PAYLOAD[] = "deploy {{ref}} {{id}} --env={{env}} --r={{r}}";
static const char P_PAYLOAD[] =
    "{\"ref\":{\"from\":\"payload\",\"path\":\"ref\",\"pattern\":\".*\",\"max_len\":4096},"
    " \"id\":{\"from\":\"payload\",\"path\":\"commits.0.id\",\"pattern\":\"[0-9a-f]*|.*\","
    "   \"default\":\"none\"},"
    " \"env\":{\"from\":\"jwt\",\"claim\":\"env\",\"pattern\":\".*\",\"default\":\"-\"},"
    " \"r\":{\"from\":\"header\",\"name\":\"X-Ref\",\"pattern\":\".*\",\"default\":\"-\"}}";
static const char *const L_PAYLOAD[] = { "deploy ", " ", " --env=", " --r=", "" };
static const char T_NOBODY[] = "echo {{env}}:{{r}}";
static const char P_NOBODY[] =
    "{\"env\":{\"from\":\"jwt\",\"claim\":\"env\",\"pattern\":\".*\",\"default\":\"-\"},"
    " \"r\":{\"from\":\"header\",\"name\":\"x-ref\",\"pattern\":\"[^;]*\",\"default\":\"-\"}}";
static const char *const L_NOBODY[] = { "echo ", ":", "" };

struct hdrs {
	char *name[MAXH], *value[MAXH];
	int n;
};

/* Like mg_get_header: case-insensitive, the first one wins. */
static const char *live_header(void *ctx, const char *name)
{
	struct hdrs *h = ctx;
	int i;

	for (i = 0; i < h->n; i++)
		if (!strcasecmp(h->name[i], name))
			return h->value[i];
	return NULL;
}

/* Independent: 1 when the body holds a raw NUL, or a \u0000 inside a string. */
static int has_nul(const uint8_t *b, size_t n)
{
	size_t i;
	int in = 0;

	for (i = 0; i < n; i++) {
		if (b[i] == 0)
			return 1;
		if (!in) {
			in = b[i] == '"';
			continue;
		}
		if (b[i] == '"') {
			in = 0;
		} else if (b[i] == '\\' && i + 1 < n) {
			if (b[i + 1] == 'u' && n - i >= 6 && !memcmp(b + i + 2, "0000", 4))
				return 1;
			i++;
		}
	}
	return 0;
}

/* The command must be LITS joined by well-formed single-quoted words. */
static void check_shape(const char *cmd, const char *const *lits, size_t nlits)
{
	const char *p = cmd;
	size_t i;

	for (i = 0; i < nlits; i++) {
		size_t l = strlen(lits[i]);
		CHECK(strncmp(p, lits[i], l) == 0);
		p += l;
		if (i + 1 == nlits)
			break;
		for (;;) {
			CHECK(*p == '\'');
			for (p++; *p && *p != '\''; p++)
				CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
			CHECK(*p == '\'');
			p++;
			if (p[0] == '\\' && p[1] == '\'' && p[2] == '\'') {
				p += 2;
				continue;
			}
			break;
		}
	}
	CHECK(*p == '\0');
}

/* The metadata the server stores with a delivery (intake.c delivery_meta:
 * the same header filter, the claims through dispatch_meta_claims). */
static char *meta_of(const struct hdrs *h, const cJSON *claims)
{
	cJSON *o = cJSON_CreateObject(), *hd = cJSON_AddObjectToObject(o, "headers");
	char *s;
	int i;

	CHECK(o && hd);
	for (i = 0; i < h->n; i++) {
		if (!strcasecmp(h->name[i], "Authorization") || !strcasecmp(h->name[i], "Cookie") ||
		    !strcasecmp(h->name[i], "Proxy-Authorization"))
			continue;
		cJSON_AddStringToObject(hd, h->name[i], h->value[i]);
	}
	if (claims) {
		cJSON *c = NULL;
		CHECK(dispatch_meta_claims(claims, &c) == 0);
		cJSON_AddItemToObject(o, "claims", c);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void one_hook(const struct cfg_hook *h, const char *const *lits, size_t nlits,
    const char *body, size_t blen, const cJSON *claims, struct hdrs *hd)
{
	struct hdr_src hs = { live_header, hd };
	struct dispatch_meta m;
	char err[300], err2[300], *cmd = NULL, *cmd2 = NULL, *meta;
	int rc, rc2, needs = tmpl_needs_payload(h->tmpl);

	rc = dispatch_prepare(h, body, blen, claims, &hs, &cmd, err, sizeof err);
	CHECK(rc == 0 || rc == -EINVAL);
	CHECK((rc == 0) == (cmd != NULL));
	if (needs && has_nul((const uint8_t *)body, blen))
		CHECK(rc == -EINVAL);
	if (rc == 0) {
		check_shape(cmd, lits, nlits);
		if (needs) { /* the whole body is one JSON value, nothing after it */
			const char *end = NULL;
			cJSON *j = cJSON_ParseWithLengthOpts(body, blen + 1, &end, 1);
			CHECK(j != NULL);
			cJSON_Delete(j);
		}
	} else {
		CHECK(err[0] != '\0');
	}
	if (!needs) { /* the body is not looked at */
		char *c3 = NULL;
		int rc3 = dispatch_prepare(h, "", 0, claims, &hs, &c3, err2, sizeof err2);
		CHECK(rc3 == rc);
		CHECK(rc != 0 || strcmp(c3, cmd) == 0);
		free(c3);
	}

	/* The replay renders from the stored metadata: the same answer. */
	meta = meta_of(hd, claims);
	CHECK(meta);
	CHECK(dispatch_meta_parse(meta, &m) == 0);
	rc2 = dispatch_prepare(h, body, blen, m.claims, &m.headers, &cmd2, err2, sizeof err2);
	CHECK(rc2 == rc);
	if (rc == 0)
		CHECK(strcmp(cmd, cmd2) == 0);
	else
		CHECK(strcmp(err, err2) == 0);
	dispatch_meta_clear(&m);
	free(meta);
	free(cmd);
	free(cmd2);
}

static struct tmpl *compile(const char *t, const char *params)
{
	struct tmpl *out = NULL;
	cJSON *p = cJSON_Parse(params);
	char err[256];

	CHECK(p);
	CHECK(tmpl_compile(t, p, &out, err, sizeof err) == 0);
	cJSON_Delete(p);
	return out;
}

/* The first "\n\n" in [P, END), or END. */
static const uint8_t *blank_line(const uint8_t *p, const uint8_t *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n')
			return p;
	return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_hook hp, hn;
	const uint8_t *end = data + size, *p = data, *s1, *s2;
	struct hdrs hd;
	cJSON *claims = NULL;
	char *hbuf = NULL, *cbuf = NULL, *body = NULL;
	size_t blen;
	int i;

	if (!hp.tmpl) {
		hp.tmpl = compile(T_PAYLOAD, P_PAYLOAD);
		hn.tmpl = compile(T_NOBODY, P_NOBODY);
		CHECK(tmpl_needs_payload(hp.tmpl) && !tmpl_needs_payload(hn.tmpl));
	}
	if (size > 1 << 16)
		return 0;
	memset(&hd, 0, sizeof hd);
	s1 = blank_line(p, end);
	s2 = s1 < end ? blank_line(s1 + 2, end) : end;

	/* Headers: NUL-free lines "Name: value" (as CivetWeb hands them over). */
	CHECK(hbuf = malloc((size_t)(s1 - p) + 1));
	memcpy(hbuf, p, (size_t)(s1 - p));
	hbuf[s1 - p] = '\0';
	for (char *line = hbuf, *nl; line && hd.n < MAXH; line = nl) {
		char *colon;
		if ((nl = strchr(line, '\n')))
			*nl++ = '\0';
		if (!(colon = strchr(line, ':')) || colon == line)
			continue;
		*colon = '\0';
		for (colon++; *colon == ' '; colon++)
			;
		hd.name[hd.n] = line;
		hd.value[hd.n++] = colon;
	}
	/* Claims: an object, as a verified token's payload always is. */
	if (s1 < end) {
		const uint8_t *c = s1 + 2;
		CHECK(cbuf = malloc((size_t)(s2 - c) + 1));
		memcpy(cbuf, c, (size_t)(s2 - c));
		cbuf[s2 - c] = '\0';
		claims = cJSON_Parse(cbuf);
		if (!cJSON_IsObject(claims)) {
			cJSON_Delete(claims);
			claims = NULL;
		}
	}
	/* The body, NUL-terminated at its length as read_body leaves it. */
	p = s2 < end ? s2 + 2 : end;
	blen = (size_t)(end - p);
	CHECK(body = malloc(blen + 1));
	memcpy(body, p, blen);
	body[blen] = '\0';

	one_hook(&hp, L_PAYLOAD, sizeof L_PAYLOAD / sizeof L_PAYLOAD[0], body, blen, claims, &hd);
	one_hook(&hn, L_NOBODY, sizeof L_NOBODY / sizeof L_NOBODY[0], body, blen, claims, &hd);

	for (i = 0; i < hd.n; i++)
		hd.name[i] = hd.value[i] = NULL;
	cJSON_Delete(claims);
	free(body);
	free(cbuf);
	free(hbuf);
	return 0;
}
