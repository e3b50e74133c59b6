/*
 * fuzz_executor_xproto.c — libFuzzer harness for the executor service's
 * side of common/xproto.c: decoding a client's request.
 *
 * The first input byte picks a chunk size (1..256); the rest is the byte
 * stream a client sends. It is decoded twice, whole and in chunks of that
 * size. Oracles, beyond crashes, leaks and undefined behaviour: both
 * decodings agree (result, reason, consumed bytes, every field); a
 * complete request has its fields within their limits (the command holds
 * no NUL and is command_len bytes long); it encodes again without error and
 * that encoding decodes to the same request. Any breach aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/xproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

struct result {
	int rc;
	enum xproto_why why;
	size_t used;
};

static struct result run(const uint8_t *p, size_t n, size_t step, struct xproto_req *r)
{
	struct xproto_dec d;
	struct result res = { 0, XPROTO_OK, 0 };
	size_t used;

	xproto_dec_init(&d, XPROTO_REQUEST, 0);
	xproto_req_init(r);
	while (res.used < n) {
		size_t k = n - res.used < step ? n - res.used : step;
		res.rc = xproto_req_feed(&d, r, p + res.used, k, &used);
		CHECK(used <= k);
		res.used += used;
		if (res.rc != 0)
			break;
		CHECK(used == k);
	}
	if (res.rc == 0)
		res.rc = xproto_dec_eof(&d);
	CHECK(res.rc == 1 || res.rc == -EPROTO || res.rc == -ENOMEM);
	res.why = d.why;
	xproto_dec_free(&d);
	return res;
}

static void same(const struct xproto_req *a, const struct xproto_req *b)
{
	CHECK(a->stats == b->stats);
	CHECK(!strcmp(a->dest, b->dest) && !strcmp(a->identity, b->identity));
	CHECK(!strcmp(a->job_id, b->job_id));
	CHECK(a->command_len == b->command_len);
	CHECK((!a->command && !b->command) ||
	    (a->command && b->command && !memcmp(a->command, b->command, a->command_len)));
	CHECK(a->connect_ms == b->connect_ms && a->handshake_ms == b->handshake_ms &&
	    a->run_ms == b->run_ms && a->max_output == b->max_output && a->flags == b->flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xproto_req whole, chunked, again;
	struct result a, b, c;
	unsigned char *enc = NULL;
	size_t enclen = 0, step;
	enum xproto_why why;

	if (!size)
		return 0;
	step = (size_t)data[0] + 1;
	data++;
	size--;
	a = run(data, size, size ? size : 1, &whole);
	b = run(data, size, step, &chunked);
	CHECK(a.rc == b.rc && a.why == b.why);
	if (a.rc == 1) {
		CHECK(a.used == b.used);
		same(&whole, &chunked);
		if (!whole.stats) {
			CHECK(whole.command && whole.command_len >= 1 &&
			    whole.command_len <= XPROTO_COMMAND_MAX);
			CHECK(!memchr(whole.command, '\0', whole.command_len));
			CHECK(whole.command[whole.command_len] == '\0');
			CHECK(whole.connect_ms >= 1 && whole.handshake_ms >= 1);
			CHECK((whole.flags & ~XPROTO_F_ALL) == 0);
			CHECK(strchr(whole.dest, '@') && whole.identity[0]);
		}
		CHECK(xproto_req_encode(&whole, &enc, &enclen, &why) == 0);
		c = run(enc, enclen, enclen, &again);
		CHECK(c.rc == 1 && c.used == enclen);
		same(&whole, &again);
		xproto_req_free(&again);
		free(enc);
	} else if (a.rc == -EPROTO) {
		CHECK(a.why != XPROTO_OK);
	}
	xproto_req_free(&whole);
	xproto_req_free(&chunked);
	return 0;
}
