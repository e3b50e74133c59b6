/*
 * common_xproto.c — unit tests of common/xproto.c: a request encoded and
 * decoded back (whole, byte by byte), a stats request, every refusal of the
 * request decoder (magic, version, type, frame cap, total cap, duplicate,
 * bad fields, missing field, trailing bytes, truncation), the encoder
 * refusing what the decoder would, and the response side (chunks, the
 * final status line, its one-line check).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/xproto.h"
#include "t.h"

static void sample(struct xproto_req *r)
{
	xproto_req_init(r);
	strcpy(r->dest, "deploy@127.0.0.1:2222");
	strcpy(r->identity, "deploy-key");
	strcpy(r->job_id, "j-42");
	r->command = strdup("echo 'hi'; exit 3");
	r->command_len = strlen(r->command);
	r->connect_ms = 5000;
	r->handshake_ms = 10000;
	r->run_ms = 60000;
	r->max_output = 1 << 20;
	r->flags = XPROTO_F_REUSE | XPROTO_F_POSIX_SH;
}

/* Decode BUF (LEN bytes) fed STEP bytes at a time into *R: the result of
 * xproto_req_feed at the end (1 complete), with *WHY. */
static int decode(const unsigned char *buf, size_t len, size_t step, struct xproto_req *r,
    enum xproto_why *why)
{
	struct xproto_dec d;
	size_t off = 0, used;
	int rc = 0;

	xproto_dec_init(&d, XPROTO_REQUEST, 0);
	xproto_req_init(r);
	while (off < len) {
		size_t n = len - off < step ? len - off : step;
		rc = xproto_req_feed(&d, r, buf + off, n, &used);
		off += used;
		if (rc != 0)
			break;
	}
	if (rc == 0 && xproto_dec_eof(&d) != 0)
		rc = -EPROTO;
	if (rc == 1 && off < len) {
		size_t u2;
		rc = xproto_req_feed(&d, r, buf + off, len - off, &u2);
		if (rc == 0)
			rc = 1;
	}
	*why = d.why;
	xproto_dec_free(&d);
	return rc;
}

static void test_xproto_roundtrip(void)
{
	struct xproto_req r, back;
	unsigned char *b = NULL;
	size_t len = 0, step;
	enum xproto_why why;

	sample(&r);
	T_EQ_INT(xproto_req_encode(&r, &b, &len, &why), 0);
	T_CHECK(b && len > 4 && !memcmp(b, "WRX\x01", 4));
	for (step = 1; b && step <= len; step = step * 3 + 1) {
		T_EQ_INT(decode(b, len, step, &back, &why), 1);
		T_EQ_INT(why, XPROTO_OK);
		T_CHECK(!strcmp(back.dest, r.dest));
		T_EQ_STR(back.identity, r.identity);
		T_EQ_STR(back.job_id, r.job_id);
		T_EQ_STR(back.command, r.command);
		T_EQ_INT(back.command_len, r.command_len);
		T_EQ_INT(back.connect_ms, 5000);
		T_EQ_INT(back.handshake_ms, 10000);
		T_EQ_INT(back.run_ms, 60000);
		T_EQ_INT(back.max_output, 1 << 20);
		T_EQ_INT(back.flags, XPROTO_F_REUSE | XPROTO_F_POSIX_SH);
		T_EQ_INT(back.stats, 0);
		xproto_req_free(&back);
	}
	free(b);
	xproto_req_free(&r);
}

static void test_xproto_stats_request(void)
{
	struct xproto_req r, back;
	unsigned char *b = NULL;
	size_t len = 0;
	enum xproto_why why;

	xproto_req_init(&r);
	r.stats = 1;
	T_EQ_INT(xproto_req_encode(&r, &b, &len, &why), 0);
	T_EQ_INT(len, 4 + 5 + 5);
	T_EQ_INT(decode(b, len, len, &back, &why), 1);
	T_EQ_INT(back.stats, 1);
	xproto_req_free(&back);
	free(b);
}

/* A request built by hand: header HDR (4 bytes) then frames. */
struct raw {
	unsigned char b[4096];
	size_t n;
};

static void raw_hdr(struct raw *w, const char *hdr)
{
	memcpy(w->b, hdr, 4);
	w->n = 4;
}

static void raw_frame(struct raw *w, uint8_t type, const void *p, uint32_t len)
{
	w->b[w->n++] = type;
	w->b[w->n++] = (unsigned char)(len >> 24);
	w->b[w->n++] = (unsigned char)(len >> 16);
	w->b[w->n++] = (unsigned char)(len >> 8);
	w->b[w->n++] = (unsigned char)len;
	if (p && len) {
		memcpy(w->b + w->n, p, len);
		w->n += len;
	}
}

/* Every run field but those in SKIP (frame types), in order. */
static void raw_fields(struct raw *w, const char *skip)
{
	static const unsigned char tmo[12] = { 0, 0, 0x13, 0x88, 0, 0, 0x27, 0x10, 0, 0, 0, 0 };
	static const unsigned char lim[8] = { 0 }, flg[4] = { 0, 0, 0, 1 };

	if (!strchr(skip, 'd'))
		raw_frame(w, 'd', "u@h:22", 6);
	if (!strchr(skip, 'i'))
		raw_frame(w, 'i', "k", 1);
	if (!strchr(skip, 't'))
		raw_frame(w, 't', tmo, 12);
	if (!strchr(skip, 'l'))
		raw_frame(w, 'l', lim, 8);
	if (!strchr(skip, 'f'))
		raw_frame(w, 'f', flg, 4);
	if (!strchr(skip, 'c'))
		raw_frame(w, 'c', "true", 4);
}

static void expect(const struct raw *w, int want_rc, enum xproto_why want_why)
{
	struct xproto_req r;
	enum xproto_why why;
	size_t step;

	/* Whole and byte by byte: the same verdict. */
	for (step = 1; step <= w->n; step = step == 1 ? w->n : w->n + 1) {
		T_EQ_INT(decode(w->b, w->n, step, &r, &why), want_rc);
		T_EQ_INT(why, want_why);
		xproto_req_free(&r);
	}
}

static void test_xproto_request_refusals(void)
{
	struct raw w;
	static const unsigned char big[4] = { 0x7f, 0xff, 0xff, 0xff };

	raw_hdr(&w, "WRX\x01");
	raw_fields(&w, "");
	raw_frame(&w, 'e', NULL, 0);
	expect(&w, 1, XPROTO_OK);

	raw_hdr(&w, "HTTP");
	expect(&w, -EPROTO, XPROTO_BAD_MAGIC);
	raw_hdr(&w, "WRX\x02");
	raw_fields(&w, "");
	raw_frame(&w, 'e', NULL, 0);
	expect(&w, -EPROTO, XPROTO_BAD_VERSION);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'O', "x", 1); /* a response type in a request */
	expect(&w, -EPROTO, XPROTO_BAD_TYPE);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'd', NULL, 0);
	memcpy(w.b + w.n - 4, big, 4); /* 2 GiB destination: refused at its header */
	expect(&w, -EPROTO, XPROTO_FRAME_BIG);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'i', "k", 1);
	raw_frame(&w, 'i', "k", 1);
	expect(&w, -EPROTO, XPROTO_DUPLICATE);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'i', "bad name", 8);
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'd', "nouser", 6);
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'c', "a\0b", 3);
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'f', "\0\0\0\x08", 4); /* unknown flag */
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 't', "\0\0\0\0\0\0\0\1\0\0\0\0", 12); /* connect timeout 0 */
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 't', "\0\0\0\1", 4); /* short timeouts frame */
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_fields(&w, "i");
	raw_frame(&w, 'e', NULL, 0);
	expect(&w, -EPROTO, XPROTO_MISSING);
	raw_hdr(&w, "WRX\x01");
	raw_frame(&w, 'q', NULL, 0);
	raw_frame(&w, 'i', "k", 1); /* nothing beside a stats request */
	expect(&w, -EPROTO, XPROTO_BAD_FIELD);
	raw_hdr(&w, "WRX\x01");
	raw_fields(&w, "");
	expect(&w, -EPROTO, XPROTO_TRUNCATED); /* no END */
	raw_hdr(&w, "WRX\x01");
	raw_fields(&w, "");
	w.n -= 2; /* cut inside the command */
	expect(&w, -EPROTO, XPROTO_TRUNCATED);
	w.n = 2; /* cut inside the header */
	expect(&w, -EPROTO, XPROTO_TRUNCATED);
}

static void test_xproto_trailing(void)
{
	struct raw w;
	struct xproto_dec d;
	struct xproto_req r;
	size_t used;

	raw_hdr(&w, "WRX\x01");
	raw_fields(&w, "");
	raw_frame(&w, 'e', NULL, 0);
	w.b[w.n++] = 'x';
	xproto_dec_init(&d, XPROTO_REQUEST, 0);
	xproto_req_init(&r);
	T_EQ_INT(xproto_req_feed(&d, &r, w.b, w.n, &used), 1);
	T_EQ_INT(used, w.n - 1);
	T_EQ_INT(xproto_req_feed(&d, &r, w.b + used, w.n - used, &used), -EPROTO);
	T_EQ_INT(d.why, XPROTO_TRAILING);
	/* The failure sticks. */
	T_EQ_INT(xproto_req_feed(&d, &r, "", 0, &used), -EPROTO);
	T_EQ_INT(xproto_dec_eof(&d), -EPROTO);
	xproto_dec_free(&d);
	xproto_req_free(&r);
}

static void test_xproto_total_cap(void)
{
	struct xproto_dec d;
	struct xproto_frame f;
	unsigned char buf[64];
	size_t used;

	/* A small total cap: a frame that fits its own cap but not the total. */
	xproto_dec_init(&d, XPROTO_REQUEST, 20);
	xproto_header(buf);
	T_EQ_INT(xproto_frame_put(XPROTO_REQUEST, 'c', "0123456789abcdef", 16, buf + 4, 60), 21);
	T_EQ_INT(xproto_dec_feed(&d, buf, 25, &used, &f), -EPROTO);
	T_EQ_INT(d.why, XPROTO_TOTAL_BIG);
	xproto_dec_free(&d);
}

static void test_xproto_encoder_refuses(void)
{
	struct xproto_req r;
	unsigned char *b = (unsigned char *)"x";
	size_t len = 1;
	enum xproto_why why;

	sample(&r);
	strcpy(r.identity, "../etc");
	T_EQ_INT(xproto_req_encode(&r, &b, &len, &why), -EINVAL);
	T_EQ_INT(why, XPROTO_BAD_FIELD);
	T_CHECK(b == NULL && len == 0);
	strcpy(r.identity, "ok");
	r.flags = 0x80;
	T_EQ_INT(xproto_req_encode(&r, &b, &len, &why), -EINVAL);
	r.flags = 0;
	r.connect_ms = 0;
	T_EQ_INT(xproto_req_encode(&r, &b, &len, &why), -EINVAL);
	xproto_req_free(&r);
	unsigned char buf[16];
	T_EQ_INT(xproto_frame_put(XPROTO_RESPONSE, 'c', "x", 1, buf, sizeof buf), -EMSGSIZE);
	T_EQ_INT(xproto_frame_put(XPROTO_REQUEST, 'e', NULL, 0, buf, 4), -ENOSPC);
}

static void test_xproto_response(void)
{
	static const char line[] = "{\"v\":1,\"phase\":\"done\",\"error\":null}\n";
	unsigned char buf[256];
	struct xproto_dec d;
	struct xproto_frame f;
	size_t off = 0, used, n;
	int rc;

	xproto_header(buf);
	n = 4;
	n += (size_t)xproto_frame_put(XPROTO_RESPONSE, 'O', "out", 3, buf + n, sizeof buf - n);
	n += (size_t)xproto_frame_put(XPROTO_RESPONSE, 'E', "err", 3, buf + n, sizeof buf - n);
	n += (size_t)xproto_frame_put(XPROTO_RESPONSE, 'X', line, sizeof line - 1, buf + n,
	    sizeof buf - n);
	xproto_dec_init(&d, XPROTO_RESPONSE, 0);
	rc = xproto_dec_feed(&d, buf, n, &used, &f);
	T_EQ_INT(rc, 1);
	T_CHECK(f.type == 'O' && f.len == 3 && !memcmp(f.data, "out", 3));
	off += used;
	rc = xproto_dec_feed(&d, buf + off, n - off, &used, &f);
	T_CHECK(rc == 1 && f.type == 'E' && f.len == 3);
	off += used;
	T_EQ_INT(xproto_dec_done(&d), 0);
	rc = xproto_dec_feed(&d, buf + off, n - off, &used, &f);
	T_CHECK(rc == 1 && f.type == 'X' && f.len == sizeof line - 1);
	T_EQ_STR((const char *)f.data, line);
	T_EQ_INT(xproto_dec_done(&d), 1);
	T_EQ_INT(xproto_dec_eof(&d), 0);
	xproto_dec_free(&d);

	/* A status of two lines, or without its newline, is refused. */
	n = 4;
	n += (size_t)xproto_frame_put(XPROTO_RESPONSE, 'X', "{}\n{}\n", 6, buf + n, sizeof buf - n);
	xproto_dec_init(&d, XPROTO_RESPONSE, 0);
	T_EQ_INT(xproto_dec_feed(&d, buf, n, &used, &f), -EPROTO);
	T_EQ_INT(d.why, XPROTO_BAD_FIELD);
	xproto_dec_free(&d);
	/* A request type in a response; an oversized chunk. */
	n = 4;
	n += (size_t)xproto_frame_put(XPROTO_REQUEST, 'c', "x", 1, buf + n, sizeof buf - n);
	xproto_dec_init(&d, XPROTO_RESPONSE, 0);
	T_EQ_INT(xproto_dec_feed(&d, buf, n, &used, &f), -EPROTO);
	T_EQ_INT(d.why, XPROTO_BAD_TYPE);
	xproto_dec_free(&d);
	memcpy(buf + 4, "O\x00\x00\x80\x01", 5);
	xproto_dec_init(&d, XPROTO_RESPONSE, 0);
	T_EQ_INT(xproto_dec_feed(&d, buf, 9, &used, &f), -EPROTO);
	T_EQ_INT(d.why, XPROTO_FRAME_BIG);
	xproto_dec_free(&d);
	T_EQ_STR(xproto_why_text(XPROTO_BAD_VERSION), "wrong protocol version");
	T_EQ_STR(xproto_why_text(XPROTO_NWHY), "unknown error");
}

int main(void)
{
	T_RUN(test_xproto_roundtrip);
	T_RUN(test_xproto_stats_request);
	T_RUN(test_xproto_request_refusals);
	T_RUN(test_xproto_trailing);
	T_RUN(test_xproto_total_cap);
	T_RUN(test_xproto_encoder_refuses);
	T_RUN(test_xproto_response);
	return T_EXIT();
}
