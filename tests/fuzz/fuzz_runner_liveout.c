/*
 * fuzz_runner_liveout.c — libFuzzer harness for runner/liveout.c's one
 * untrusted input, a Last-Event-ID (liveout_parse_offset), and the buffer
 * reads that offset drives. The parse is checked against an independent
 * one (strtoull on 1 to 20 plain digits, at most INT64_MAX); an accepted
 * offset is then read from a buffer fed with chunks the input also gives,
 * and what comes back must be exactly the bytes from that offset (or a gap
 * to the oldest kept, or -ERANGE past the end).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runner/liveout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BAD() do { fprintf(stderr, "fuzz_runner_liveout: check at line %d\n", __LINE__); abort(); } while (0)

/* The independent parse: 1..20 ASCII digits, value <= INT64_MAX. */
static int ref_parse(const char *s, uint64_t *v)
{
	size_t n = strlen(s), i;
	unsigned long long x;

	if (n < 1 || n > LIVEOUT_ID_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	errno = 0;
	x = strtoull(s, NULL, 10);
	if (errno || x > (unsigned long long)INT64_MAX)
		return -EINVAL;
	*v = x;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[64], buf[32];
	size_t idlen = size < 40 ? size : 40, i;
	uint64_t a = 0, b = 0, off;
	struct liveout *lo = NULL;
	struct liveout_job *j = NULL;
	struct liveout_chunk c;
	const uint8_t *body = data + idlen;
	size_t blen = size - idlen;
	int ra, rb;

	memcpy(id, data, idlen);
	id[idlen] = '\0';
	ra = liveout_parse_offset(id, &a);
	rb = ref_parse(id, &b);
	if (ra != rb || (ra == 0 && a != b))
		BAD();
	if (ra != 0 || liveout_new(1, &lo) != 0)
		return 0;
	/* The rest of the input as chunks of 1..16 bytes, in a buffer keeping 64. */
	if (liveout_begin(lo, 1, 64, 0, &j) != 0 || !j) {
		liveout_free(lo);
		return 0;
	}
	for (i = 0; i < blen;) {
		size_t k = 1 + (body[i] & 15);
		if (k > blen - i)
			k = blen - i;
		liveout_put(j, (body[i] & 16) ? LIVEOUT_STDERR : LIVEOUT_STDOUT, (const char *)body + i, k);
		i += k;
	}
	off = a % (blen + 2);
	for (;;) {
		int rc = liveout_next(j, off, 0, buf, sizeof buf, &c);
		if (rc == -ERANGE) {
			if (off <= blen)
				BAD();
			break;
		}
		if (rc != 0 || off > blen)
			BAD();
		if (c.got == LIVEOUT_IDLE) {
			if (off != blen)
				BAD();
			break;
		}
		if (c.got == LIVEOUT_DATA) {
			if (c.off != off || c.len == 0 || c.len > sizeof buf || off + c.len > blen ||
			    memcmp(buf, body + off, c.len) || blen - off > 64 + 16)
				BAD();
		} else if (c.got == LIVEOUT_GAP) {
			if (c.next <= off || c.next > blen)
				BAD();
		} else {
			BAD(); /* not ended: never END */
		}
		off = c.next;
	}
	liveout_end(lo, j);
	liveout_free(lo);
	return 0;
}
