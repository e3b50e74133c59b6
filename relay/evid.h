/*
 * evid.c — event ids. Owns the one id form both stores use, Redis Streams'
 * "<ms>-<seq>" (two unsigned 64-bit decimals): parsing it strictly from
 * untrusted text (a Last-Event-ID header), printing it, ordering ids, and
 * the next id a store gives (the later of the clock and the last id's
 * millisecond; the sequence counts up within one millisecond), exactly as
 * Redis assigns them, so that ids from either store compare the same way.
 */
#ifndef RELAY_EVID_H
#define RELAY_EVID_H
#include <stdint.h>

#define EVID_STR_MAX 48 /* "18446744073709551615-18446744073709551615" and NUL */

struct evid {
	uint64_t ms, seq;
};

/* Parse "<ms>-<seq>" (1..20 digits each, no sign, no space, no overflow)
 * from S. 0, or -EINVAL. */
int evid_parse(const char *s, struct evid *out);

/* Print ID into OUT. */
void evid_format(const struct evid *id, char out[EVID_STR_MAX]);

/* <0, 0, >0 as A is before, the same as, or after B. */
int evid_cmp(const struct evid *a, const struct evid *b);

/* The id after LAST at wall-clock NOW_MS: NOW_MS-0 when NOW_MS is later
 * than LAST's millisecond, else LAST's millisecond with the next sequence
 * (the millisecond after when the sequence is full). */
struct evid evid_next(const struct evid *last, uint64_t now_ms);
#endif
