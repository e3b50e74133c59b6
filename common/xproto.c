/*
 * xproto.c — the runner ↔ executor-service framing: limits, the
 * incremental decoder, request assembly and checks, the encoder (contract
 * and wire format in xproto.h). The bytes are untrusted in both
 * directions; every length is checked against its cap before anything is
 * allocated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xproto.h"

static const unsigned char magic[3] = { 'W', 'R', 'X' };

enum { ST_HDR, ST_FHDR, ST_PAYLOAD, ST_DONE, ST_ERROR };

/* Request field bits in xproto_req.seen. */
enum {
	SEEN_DEST = 1 << 0, SEEN_IDENTITY = 1 << 1, SEEN_COMMAND = 1 << 2, SEEN_TIMEOUTS = 1 << 3,
	SEEN_LIMITS = 1 << 4, SEEN_FLAGS = 1 << 5, SEEN_JOBID = 1 << 6, SEEN_STATS = 1 << 7,
};
#define SEEN_RUN (SEEN_DEST | SEEN_IDENTITY | SEEN_COMMAND | SEEN_TIMEOUTS | SEEN_LIMITS | SEEN_FLAGS)
#define LIMIT_MAX (1ull << 48)

static const char *const whys[XPROTO_NWHY] = {
	[XPROTO_OK] = "no error",
	[XPROTO_BAD_MAGIC] = "not the executor protocol (bad magic)",
	[XPROTO_BAD_VERSION] = "wrong protocol version",
	[XPROTO_BAD_TYPE] = "unknown frame type",
	[XPROTO_FRAME_BIG] = "frame over its size limit",
	[XPROTO_TOTAL_BIG] = "message over its size limit",
	[XPROTO_DUPLICATE] = "a field given twice",
	[XPROTO_BAD_FIELD] = "a field with a bad value",
	[XPROTO_MISSING] = "a required field is missing",
	[XPROTO_TRAILING] = "bytes after the final frame",
	[XPROTO_TRUNCATED] = "stream ended mid-frame",
};

const char *xproto_why_text(enum xproto_why why)
{
	if ((unsigned)why >= XPROTO_NWHY)
		return "unknown error";
	return whys[why];
}

long xproto_type_cap(enum xproto_side side, uint8_t type)
{
	if (side == XPROTO_REQUEST) {
		switch (type) {
		case XPROTO_T_DEST: return XPROTO_DEST_MAX;
		case XPROTO_T_IDENTITY: return XPROTO_IDENTITY_MAX;
		case XPROTO_T_COMMAND: return XPROTO_COMMAND_MAX;
		case XPROTO_T_TIMEOUTS: return 12;
		case XPROTO_T_LIMITS: return 8;
		case XPROTO_T_FLAGS: return 4;
		case XPROTO_T_JOBID: return XPROTO_JOBID_MAX;
		case XPROTO_T_STATS: return 0;
		case XPROTO_T_END: return 0;
		default: return -1;
		}
	}
	switch (type) {
	case XPROTO_T_STDOUT: return XPROTO_CHUNK_MAX;
	case XPROTO_T_STDERR: return XPROTO_CHUNK_MAX;
	case XPROTO_T_STATUS: return XPROTO_STATUS_MAX;
	case XPROTO_T_STATSREPLY: return XPROTO_STATUS_MAX;
	default: return -1;
	}
}

static int is_final(enum xproto_side side, uint8_t type)
{
	if (side == XPROTO_REQUEST)
		return type == XPROTO_T_END;
	return type == XPROTO_T_STATUS || type == XPROTO_T_STATSREPLY;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

void xproto_dec_init(struct xproto_dec *d, enum xproto_side side, uint64_t total_max)
{
	memset(d, 0, sizeof *d);
	d->side = side;
	d->state = ST_HDR;
	d->total_max = total_max ? total_max : (side == XPROTO_REQUEST ? XPROTO_REQ_MAX : 0);
}

void xproto_dec_free(struct xproto_dec *d)
{
	if (d->buf) {
		explicit_bzero(d->buf, d->len + 1);
		free(d->buf);
	}
	d->buf = NULL;
}

static int fail(struct xproto_dec *d, enum xproto_why why)
{
	d->state = ST_ERROR;
	d->why = why;
	return -EPROTO;
}

/* A response's final payload: one line, no NUL, ending in its only "\n". */
static int one_line(const unsigned char *p, size_t len)
{
	return len >= 2 && p[len - 1] == '\n' && !memchr(p, '\n', len - 1) && !memchr(p, '\0', len);
}

/* The frame header in d->hb is complete: check it, make room. */
static int start_frame(struct xproto_dec *d)
{
	uint32_t len = get32(d->hb + 1);
	long cap = xproto_type_cap(d->side, d->hb[0]);

	if (cap < 0)
		return fail(d, XPROTO_BAD_TYPE);
	if (len > (unsigned long)cap)
		return fail(d, XPROTO_FRAME_BIG);
	if (d->total_max && d->total + len > d->total_max)
		return fail(d, XPROTO_TOTAL_BIG);
	d->type = d->hb[0];
	d->len = len;
	d->got = 0;
	if (!(d->buf = malloc((size_t)len + 1)))
		return -ENOMEM;
	d->state = ST_PAYLOAD;
	return 0;
}

int xproto_dec_feed(struct xproto_dec *d, const void *buf, size_t len, size_t *used,
    struct xproto_frame *f)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int rc;

	*used = 0;
	if (d->state == ST_ERROR)
		return -EPROTO;
	/* The previous frame's bytes are the caller's no more (a frame still
	 * arriving keeps its buffer). */
	if (d->state != ST_PAYLOAD)
		xproto_dec_free(d);
	while (off < len) {
		size_t n;

		switch (d->state) {
		case ST_DONE:
			*used = off;
			return fail(d, XPROTO_TRAILING);
		case ST_HDR:
			if (d->hgot < sizeof magic && p[off] != magic[d->hgot]) {
				*used = off;
				return fail(d, XPROTO_BAD_MAGIC);
			}
			if (d->hgot == sizeof magic && p[off] != XPROTO_VERSION) {
				*used = off;
				return fail(d, XPROTO_BAD_VERSION);
			}
			off++;
			d->total++;
			if (++d->hgot == XPROTO_HDR_LEN) {
				d->hgot = 0;
				d->state = ST_FHDR;
			}
			break;
		case ST_FHDR:
			n = XPROTO_FHDR_LEN - d->hgot;
			if (n > len - off)
				n = len - off;
			if (d->total_max && d->total + n > d->total_max) {
				*used = off;
				return fail(d, XPROTO_TOTAL_BIG);
			}
			memcpy(d->hb + d->hgot, p + off, n);
			d->hgot += n;
			d->total += n;
			off += n;
			if (d->hgot < XPROTO_FHDR_LEN)
				break;
			d->hgot = 0;
			if ((rc = start_frame(d)) != 0) {
				*used = off;
				return rc;
			}
			if (d->len)
				break;
			/* An empty frame is complete at once. */
			__attribute__((fallthrough));
		case ST_PAYLOAD:
			n = d->len - d->got;
			if (n > len - off)
				n = len - off;
			memcpy(d->buf + d->got, p + off, n);
			d->got += n;
			d->total += n;
			off += n;
			if (d->got < d->len)
				break;
			d->buf[d->len] = '\0';
			*used = off;
			if (d->side == XPROTO_RESPONSE && is_final(d->side, d->type) &&
			    !one_line(d->buf, d->len))
				return fail(d, XPROTO_BAD_FIELD);
			d->state = is_final(d->side, d->type) ? ST_DONE : ST_FHDR;
			f->type = d->type;
			f->data = d->buf;
			f->len = d->len;
			return 1;
		default:
			return -EPROTO;
		}
	}
	*used = off;
	return 0;
}

int xproto_dec_eof(struct xproto_dec *d)
{
	if (d->state == ST_ERROR)
		return -EPROTO;
	if (d->state == ST_DONE)
		return 0;
	return fail(d, XPROTO_TRUNCATED);
}

int xproto_dec_done(const struct xproto_dec *d)
{
	return d->state == ST_DONE;
}

void xproto_req_init(struct xproto_req *r)
{
	memset(r, 0, sizeof *r);
}

void xproto_req_free(struct xproto_req *r)
{
	if (r->command) {
		explicit_bzero(r->command, r->command_len);
		free(r->command);
	}
	xproto_req_init(r);
}

static int printable(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return 0;
	return 1;
}

static int dest_ok(const unsigned char *p, size_t len)
{
	const unsigned char *at = len ? memchr(p, '@', len) : NULL;

	return len >= 3 && len <= XPROTO_DEST_MAX && printable(p, len) && at && at != p &&
	    at != p + len - 1;
}

static int identity_ok(const unsigned char *p, size_t len)
{
	size_t i;

	if (!len || len > XPROTO_IDENTITY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
			(p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '_' || p[i] == '-'))
			return 0;
	return 1;
}

static int jobid_ok(const unsigned char *p, size_t len)
{
	return len <= XPROTO_JOBID_MAX && printable(p, len);
}

static int command_ok(const unsigned char *p, size_t len)
{
	return len && len <= XPROTO_COMMAND_MAX && !memchr(p, '\0', len);
}

static int timeouts_ok(uint32_t c, uint32_t h, uint32_t r)
{
	return c && h && c <= XPROTO_TIMEOUT_MAX && h <= XPROTO_TIMEOUT_MAX && r <= XPROTO_TIMEOUT_MAX;
}

static unsigned seen_bit(uint8_t type)
{
	switch (type) {
	case XPROTO_T_DEST: return SEEN_DEST;
	case XPROTO_T_IDENTITY: return SEEN_IDENTITY;
	case XPROTO_T_COMMAND: return SEEN_COMMAND;
	case XPROTO_T_TIMEOUTS: return SEEN_TIMEOUTS;
	case XPROTO_T_LIMITS: return SEEN_LIMITS;
	case XPROTO_T_FLAGS: return SEEN_FLAGS;
	case XPROTO_T_JOBID: return SEEN_JOBID;
	case XPROTO_T_STATS: return SEEN_STATS;
	default: return 0;
	}
}

int xproto_req_add(struct xproto_req *r, const struct xproto_frame *f, enum xproto_why *why)
{
	const unsigned char *p = f->data;
	unsigned bit = seen_bit(f->type);
	uint64_t v;

	*why = XPROTO_OK;
	if (f->type == XPROTO_T_END) {
		if (r->seen & SEEN_STATS)
			return 1;
		if ((r->seen & SEEN_RUN) != SEEN_RUN) {
			*why = XPROTO_MISSING;
			return -EPROTO;
		}
		return 1;
	}
	if (!bit || xproto_type_cap(XPROTO_REQUEST, f->type) < (long)f->len) {
		*why = XPROTO_BAD_TYPE;
		return -EPROTO;
	}
	if (r->seen & bit) {
		*why = XPROTO_DUPLICATE;
		return -EPROTO;
	}
	/* A stats request holds nothing else. */
	if ((bit == SEEN_STATS && r->seen) || (r->seen & SEEN_STATS)) {
		*why = XPROTO_BAD_FIELD;
		return -EPROTO;
	}
	*why = XPROTO_BAD_FIELD;
	switch (f->type) {
	case XPROTO_T_DEST:
		if (!dest_ok(p, f->len))
			return -EPROTO;
		memcpy(r->dest, p, f->len);
		r->dest[f->len] = '\0';
		break;
	case XPROTO_T_IDENTITY:
		if (!identity_ok(p, f->len))
			return -EPROTO;
		memcpy(r->identity, p, f->len);
		r->identity[f->len] = '\0';
		break;
	case XPROTO_T_JOBID:
		if (!jobid_ok(p, f->len))
			return -EPROTO;
		memcpy(r->job_id, p, f->len);
		r->job_id[f->len] = '\0';
		break;
	case XPROTO_T_COMMAND:
		if (!command_ok(p, f->len))
			return -EPROTO;
		if (!(r->command = malloc(f->len + 1))) {
			*why = XPROTO_OK;
			return -ENOMEM;
		}
		memcpy(r->command, p, f->len);
		r->command[f->len] = '\0';
		r->command_len = f->len;
		break;
	case XPROTO_T_TIMEOUTS:
		if (f->len != 12 || !timeouts_ok(get32(p), get32(p + 4), get32(p + 8)))
			return -EPROTO;
		r->connect_ms = get32(p);
		r->handshake_ms = get32(p + 4);
		r->run_ms = get32(p + 8);
		break;
	case XPROTO_T_LIMITS:
		if (f->len != 8 || (v = get64(p)) > LIMIT_MAX)
			return -EPROTO;
		r->max_output = v;
		break;
	case XPROTO_T_FLAGS:
		if (f->len != 4 || (get32(p) & ~XPROTO_F_ALL))
			return -EPROTO;
		r->flags = get32(p);
		break;
	case XPROTO_T_STATS:
		r->stats = 1;
		break;
	}
	*why = XPROTO_OK;
	r->seen |= bit;
	return 0;
}

int xproto_req_feed(struct xproto_dec *d, struct xproto_req *r, const void *buf, size_t len,
    size_t *used)
{
	const unsigned char *p = buf;
	struct xproto_frame f;
	size_t off = 0, n;
	int rc;

	*used = 0;
	for (;;) {
		rc = xproto_dec_feed(d, p + off, len - off, &n, &f);
		off += n;
		*used = off;
		if (rc <= 0)
			return rc;
		rc = xproto_req_add(r, &f, &d->why);
		if (rc < 0) {
			if (rc == -EPROTO)
				d->state = ST_ERROR;
			return rc;
		}
		if (rc == 1)
			return 1;
	}
}

void xproto_header(unsigned char out[XPROTO_HDR_LEN])
{
	memcpy(out, magic, sizeof magic);
	out[3] = XPROTO_VERSION;
}

int xproto_frame_put(enum xproto_side side, uint8_t type, const void *p, size_t len,
    unsigned char *buf, size_t cap)
{
	long tcap = xproto_type_cap(side, type);

	if (tcap < 0 || len > (unsigned long)tcap)
		return -EMSGSIZE;
	if (cap < XPROTO_FHDR_LEN + len)
		return -ENOSPC;
	buf[0] = type;
	put32(buf + 1, (uint32_t)len);
	if (len)
		memcpy(buf + XPROTO_FHDR_LEN, p, len);
	return (int)(XPROTO_FHDR_LEN + len);
}

int xproto_req_encode(const struct xproto_req *r, unsigned char **out, size_t *len,
    enum xproto_why *why)
{
	unsigned char *b = NULL, num[12];
	size_t cap, off = XPROTO_HDR_LEN, dl = strlen(r->dest), il = strlen(r->identity),
	    jl = strlen(r->job_id);
	int rc, n;

	*why = XPROTO_BAD_FIELD;
	*out = NULL;
	*len = 0;
	if (!r->stats &&
	    (!dest_ok((const unsigned char *)r->dest, dl) ||
		!identity_ok((const unsigned char *)r->identity, il) ||
		!jobid_ok((const unsigned char *)r->job_id, jl) || !r->command ||
		!command_ok((const unsigned char *)r->command, r->command_len) ||
		!timeouts_ok(r->connect_ms, r->handshake_ms, r->run_ms) ||
		r->max_output > LIMIT_MAX || (r->flags & ~XPROTO_F_ALL)))
		return -EINVAL;
	*why = XPROTO_OK;
	cap = XPROTO_HDR_LEN + 9 * XPROTO_FHDR_LEN + dl + il + jl + r->command_len + 24;
	if (!(b = malloc(cap)))
		return -ENOMEM;
	xproto_header(b);
#define PUT(t, p, l)                                                                      \
	do {                                                                              \
		if ((n = xproto_frame_put(XPROTO_REQUEST, (t), (p), (l), b + off, cap - off)) < 0) { \
			rc = n;                                                           \
			goto out;                                                         \
		}                                                                         \
		off += (size_t)n;                                                         \
	} while (0)
	if (r->stats) {
		PUT(XPROTO_T_STATS, NULL, 0);
	} else {
		PUT(XPROTO_T_DEST, r->dest, dl);
		PUT(XPROTO_T_IDENTITY, r->identity, il);
		if (jl)
			PUT(XPROTO_T_JOBID, r->job_id, jl);
		put32(num, r->connect_ms);
		put32(num + 4, r->handshake_ms);
		put32(num + 8, r->run_ms);
		PUT(XPROTO_T_TIMEOUTS, num, 12);
		put64(num, r->max_output);
		PUT(XPROTO_T_LIMITS, num, 8);
		put32(num, r->flags);
		PUT(XPROTO_T_FLAGS, num, 4);
		PUT(XPROTO_T_COMMAND, r->command, r->command_len);
	}
	PUT(XPROTO_T_END, NULL, 0);
#undef PUT
	*out = b;
	*len = off;
	b = NULL;
	rc = 0;
out:
	if (b) {
		explicit_bzero(b, cap);
		free(b);
	}
	return rc;
}
