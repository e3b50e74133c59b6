/*
 * fuzz_relay_event.c — libFuzzer harness for relay/event.c, where untrusted
 * request bytes (method, path, query, header names and values, body) become
 * the event's JSON. The input is split on 0x00 into fields: method, path,
 * query, then header name/value pairs, and the last field is the body.
 * The JSON must parse (cJSON) as one object with exactly the documented
 * keys, hold no raw control character or line break (it is one SSE data
 * line), give back every field (each byte of a string that is not
 * well-formed UTF-8 as U+00XX, the rest as it was), the headers in order,
 * and the body byte for byte through base64.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../common/b64.h"
#include "../../common/utf8.h"
#include "../../relay/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 40
/* Abort, saying which check failed (for the crash's log). */
#define BAD() do { fprintf(stderr, "fuzz_relay_event: check at line %d\n", __LINE__); abort(); } while (0)

/* What S should read as after JSON decoding, into OUT (room for 2*len+1):
 * well-formed UTF-8 kept, any other byte as the UTF-8 of U+00XX. */
static void expect(const char *s, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k, o = 0;

	while (n) {
		if ((k = utf8_seq(p, n)) == 0) {
			out[o++] = (char)(0xc0 | (*p >> 6));
			out[o++] = (char)(0x80 | (*p & 0x3f));
			k = 1;
		} else {
			memcpy(out + o, p, k);
			o += k;
		}
		p += k;
		n -= k;
	}
	out[o] = '\0';
}

static void same(const cJSON *v, const char *s)
{
	char *want = malloc(2 * strlen(s) + 1);

	if (!want)
		return;
	expect(s, want);
	if (!cJSON_IsString(v) || strcmp(v->valuestring, want))
		BAD();
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *f[MAXF], *tail = NULL, *decoded = NULL;
	struct event_hdr h[MAXF / 2];
	struct event_req rq = { 0 };
	struct event *ev = NULL;
	struct evid id = { 1700000000000ULL, 7 };
	size_t nf = 0, i, tlen, blen, dlen;
	const unsigned char *body;
	cJSON *root = NULL, *hs, *e;
	const char *last;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Fields up to the last NUL; the bytes after it are the body (any). */
	last = memrchr(buf, '\0', size) ? (const char *)memrchr(buf, '\0', size) + 1 : buf;
	body = (const unsigned char *)last;
	blen = size - (size_t)(last - buf);
	for (char *p = buf; p < last && nf < MAXF; p += strlen(p) + 1)
		f[nf++] = p;
	if (nf < 3)
		goto out;
	rq.channel = "fuzz";
	rq.method = f[0];
	rq.path = f[1];
	rq.query = f[2];
	for (i = 3; i + 1 < nf; i += 2) {
		h[(i - 3) / 2].name = f[i];
		h[(i - 3) / 2].value = f[i + 1];
	}
	rq.headers = h;
	rq.nheaders = (nf - 3) / 2;
	rq.body = body;
	rq.body_len = blen;
	rq.received_ms = 42;
	if (event_tail(&rq, &tail, &tlen) || event_new(&id, tail, tlen, &ev))
		goto out;
	if (strlen(ev->json) != ev->len || strpbrk(ev->json, "\r\n"))
		BAD();
	for (i = 0; i < ev->len; i++)
		if ((unsigned char)ev->json[i] < 0x20)
			BAD();
	if (!(root = cJSON_ParseWithLength(ev->json, ev->len)) || !cJSON_IsObject(root) ||
	    cJSON_GetArraySize(root) != 8)
		BAD();
	same(cJSON_GetObjectItemCaseSensitive(root, "id"), "1700000000000-7");
	same(cJSON_GetObjectItemCaseSensitive(root, "channel"), "fuzz");
	same(cJSON_GetObjectItemCaseSensitive(root, "method"), rq.method);
	same(cJSON_GetObjectItemCaseSensitive(root, "path"), rq.path);
	same(cJSON_GetObjectItemCaseSensitive(root, "query"), rq.query);
	hs = cJSON_GetObjectItemCaseSensitive(root, "headers");
	if (!cJSON_IsArray(hs) || (size_t)cJSON_GetArraySize(hs) != rq.nheaders)
		BAD();
	i = 0;
	cJSON_ArrayForEach(e, hs) {
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
			BAD();
		same(cJSON_GetArrayItem(e, 0), h[i].name);
		same(cJSON_GetArrayItem(e, 1), h[i].value);
		i++;
	}
	e = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (!cJSON_IsString(e) || !(decoded = malloc(strlen(e->valuestring) / 4 * 3 + 3)))
		BAD();
	/* b64_decode refuses the empty string: an empty body is "". */
	if (!e->valuestring[0])
		dlen = 0;
	else if (b64_decode(e->valuestring, strlen(e->valuestring), 0, (unsigned char *)decoded,
	    strlen(e->valuestring) / 4 * 3 + 3, &dlen))
		BAD();
	if (dlen != blen || memcmp(decoded, body, blen))
		BAD();
	e = cJSON_GetObjectItemCaseSensitive(root, "received_ms");
	if (!cJSON_IsNumber(e) || e->valuedouble != 42)
		BAD();
out:
	cJSON_Delete(root);
	event_unref(ev);
	free(tail);
	free(decoded);
	free(buf);
	return 0;
}
