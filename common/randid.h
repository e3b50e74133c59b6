/*
 * randid.h — random identifiers in lower-case hex (request ids, JWT ids,
 * idempotency keys), drawn from getrandom(2).
 */
#ifndef COMMON_RANDID_H
#define COMMON_RANDID_H
#include <stddef.h>

/* Write BYTES random bytes (at most 32) as 2*BYTES lower-case hex digits and
 * a NUL at OUT (room for 2*BYTES+1). 0, or -errno (-EINVAL when BYTES is
 * over 32) when the kernel gave no randomness: every byte is then FALLBACK,
 * so OUT still has its full length and format. */
int randid_hex(char *out, size_t bytes, unsigned char fallback);
#endif
