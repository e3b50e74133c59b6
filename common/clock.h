/*
 * clock.h — the two clocks both programs read, in milliseconds: the
 * monotonic one for deadlines and durations, the wall clock for timestamps
 * that are stored or shown. Callers that need finer units or a timespec
 * (log timestamps, sd_notify's MONOTONIC_USEC, pthread_cond_timedwait) read
 * clock_gettime themselves.
 */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (arbitrary origin, never goes back):
 * for deadlines and elapsed times only. */
int64_t clock_mono_ms(void);

/* Milliseconds since the Unix epoch on CLOCK_REALTIME (may jump when the
 * system time is set): for timestamps. */
int64_t clock_wall_ms(void);
#endif
