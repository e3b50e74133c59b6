/*
 * evid.c — event ids (contract in evid.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "evid.h"

/* One decimal of 1..20 digits at *S, no overflow; *S moves past it. */
static int number(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int n = 0;

	for (; *p >= '0' && *p <= '9'; p++, n++) {
		unsigned d = (unsigned)(*p - '0');

		if (n >= 20 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (n == 0)
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}

int evid_parse(const char *s, struct evid *out)
{
	struct evid id;

	if (number(&s, &id.ms) || *s++ != '-' || number(&s, &id.seq) || *s != '\0')
		return -EINVAL;
	*out = id;
	return 0;
}

void evid_format(const struct evid *id, char out[EVID_STR_MAX])
{
	snprintf(out, EVID_STR_MAX, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

int evid_cmp(const struct evid *a, const struct evid *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

struct evid evid_next(const struct evid *last, uint64_t now_ms)
{
	struct evid id = *last;

	if (now_ms > last->ms) {
		id.ms = now_ms;
		id.seq = 0;
	} else if (last->seq == UINT64_MAX) {
		id.ms++;
		id.seq = 0;
	} else {
		id.seq++;
	}
	return id;
}
