/*
 * fuzz_runner_xproto.c — libFuzzer harness for the runner's side of
 * common/xproto.c: decoding the executor service's response.
 *
 * The first input byte picks a chunk size (1..256); the rest is the byte
 * stream the service sends. It is decoded whole and in chunks of that
 * size. Oracles, beyond crashes, leaks and undefined behaviour: both
 * decodings see the same frames (types, lengths, bytes) and end the same
 * way (result, reason); every frame is a response type within its cap;
 * only the last frame is final ('X' or 'S'), and it is one line ending in
 * its only newline; the header and the frames, encoded again with
 * xproto_frame_put, are exactly the bytes consumed. Any breach aborts.
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

struct seen {
	unsigned char *bytes; /* the frames re-encoded, after the header */
	size_t len, cap;
	size_t frames, used;
	int rc, final;
	enum xproto_why why;
};

static void add(struct seen *s, const struct xproto_frame *f)
{
	int n;

	if (s->len + XPROTO_FHDR_LEN + f->len > s->cap) {
		s->cap = (s->len + XPROTO_FHDR_LEN + f->len) * 2;
		CHECK((s->bytes = realloc(s->bytes, s->cap)) != NULL);
	}
	n = xproto_frame_put(XPROTO_RESPONSE, f->type, f->data, f->len, s->bytes + s->len,
	    s->cap - s->len);
	CHECK(n == (int)(XPROTO_FHDR_LEN + f->len));
	s->len += (size_t)n;
	s->frames++;
}

static void run(const uint8_t *p, size_t n, size_t step, struct seen *s)
{
	struct xproto_dec d;
	struct xproto_frame f;
	size_t used, off = 0;

	memset(s, 0, sizeof *s);
	xproto_dec_init(&d, XPROTO_RESPONSE, 0);
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		int rc = xproto_dec_feed(&d, p + off, k, &used, &f);

		CHECK(used <= k);
		off += used;
		if (rc < 0) {
			s->rc = rc;
			break;
		}
		if (rc == 0) {
			CHECK(used == k);
			continue;
		}
		CHECK(!s->final); /* nothing after the final frame */
		CHECK(xproto_type_cap(XPROTO_RESPONSE, f.type) >= (long)f.len);
		CHECK(f.data[f.len] == '\0');
		if (f.type == XPROTO_T_STATUS || f.type == XPROTO_T_STATSREPLY) {
			CHECK(f.len >= 2 && f.data[f.len - 1] == '\n');
			CHECK(!memchr(f.data, '\n', f.len - 1) && !memchr(f.data, '\0', f.len));
			s->final = 1;
		}
		add(s, &f);
	}
	if (s->rc == 0)
		s->rc = xproto_dec_eof(&d);
	CHECK(s->rc == 0 || s->rc == -EPROTO || s->rc == -ENOMEM);
	CHECK((s->rc == 0) == (s->final && off == n));
	s->why = d.why;
	s->used = off;
	xproto_dec_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a, b;
	size_t step;

	if (!size)
		return 0;
	step = (size_t)data[0] + 1;
	data++;
	size--;
	run(data, size, size ? size : 1, &a);
	run(data, size, step, &b);
	CHECK(a.rc == b.rc && a.why == b.why && a.frames == b.frames && a.len == b.len);
	CHECK(!a.len || !memcmp(a.bytes, b.bytes, a.len));
	/* Header plus re-encoded frames: a prefix of the input, all of it on success. */
	if (a.frames) {
		CHECK(size >= XPROTO_HDR_LEN + a.len);
		CHECK(!memcmp(data, "WRX\x01", XPROTO_HDR_LEN));
		CHECK(!memcmp(data + XPROTO_HDR_LEN, a.bytes, a.len));
	}
	if (a.rc == 0)
		CHECK(a.used == size && XPROTO_HDR_LEN + a.len == size);
	free(a.bytes);
	free(b.bytes);
	return 0;
}
