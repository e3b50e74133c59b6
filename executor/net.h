/*
 * net.c — the TCP connection to the target: resolution and a non-blocking
 * connect bounded by a deadline, so a blackholed address costs at most the
 * connect timeout, never the kernel's minutes of SYN retries.
 */
#ifndef NET_H
#define NET_H
#include <stdint.h>

/* Connect to HOST:PORT, trying each resolved address until DEADLINE_MS
 * (clock_mono_ms time). Returns a non-blocking, close-on-exec socket, or
 * -EAI_ERROR-style codes: -ENOENT (does not resolve), -ECONNREFUSED,
 * -ETIMEDOUT, or another -errno of the last address tried. */
int net_connect(const char *host, int port, int64_t deadline_ms);
#endif
