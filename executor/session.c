/*
 * session.c — one-shot mode: one connection, one run, teardown (contract
 * in session.h).
 */
#include "../common/clock.h"
#include "chan.h"
#include "conn.h"
#include "session.h"

#define EXIT_LOCAL 255

int session_run(const struct args *a, char *passphrase, struct status *st, volatile sig_atomic_t *stop)
{
	struct conn c;

	conn_init(&c, a, passphrase, st, stop);
	if (conn_open(&c) == 0)
		(void)chan_exec(&c);
	conn_teardown(&c);
	st->t_end = clock_mono_ms();
	if (st->error != EXSTATUS_OK || !st->has_exit)
		return EXIT_LOCAL;
	return st->exit_code;
}
