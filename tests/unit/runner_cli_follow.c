/*
 * runner_cli_follow.c — unit tests for runner/cli_follow.c's outcome → exit
 * status map (cli_follow_exit_code): the job's own exit status when it ran,
 * 128 + a signal's number, and the documented codes for the rest.
 */
#include <signal.h>

#include "t.h"
#include "../../runner/cli_follow.h"

static void exit_status_passes_through(void)
{
	T_EQ_INT(cli_follow_exit_code("succeeded", 1, 0, NULL), 0);
	T_EQ_INT(cli_follow_exit_code("failed", 1, 7, NULL), 7);
	T_EQ_INT(cli_follow_exit_code("failed", 1, 255, ""), 255);
	T_EQ_INT(cli_follow_exit_code("failed", 1, 1, "TERM"), 1); /* the exit code wins */
}

static void states_get_their_codes(void)
{
	T_EQ_INT(cli_follow_exit_code("timeout", 0, -1, "KILL"), CLI_FOLLOW_EXIT_TIMEOUT);
	T_EQ_INT(cli_follow_exit_code("timeout", 1, 0, NULL), CLI_FOLLOW_EXIT_TIMEOUT);
	T_EQ_INT(cli_follow_exit_code("interrupted", 0, -1, NULL), CLI_FOLLOW_EXIT_INTERRUPTED);
	T_EQ_INT(cli_follow_exit_code("denied", 0, -1, NULL), CLI_FOLLOW_EXIT_DENIED);
	T_EQ_INT(cli_follow_exit_code("expired", 0, -1, NULL), CLI_FOLLOW_EXIT_EXPIRED);
	T_EQ_INT(CLI_FOLLOW_EXIT_TIMEOUT, 124);
	T_EQ_INT(CLI_FOLLOW_EXIT_NOT_RUN, 125);
}

static void signals_are_128_plus(void)
{
	T_EQ_INT(cli_follow_exit_code("failed", 0, -1, "TERM"), 128 + SIGTERM);
	T_EQ_INT(cli_follow_exit_code("failed", 0, -1, "SIGKILL"), 128 + SIGKILL);
	T_EQ_INT(cli_follow_exit_code("failed", 0, -1, "SIGNOPE"), CLI_FOLLOW_EXIT_NOT_RUN);
}

static void not_run_and_unknown(void)
{
	T_EQ_INT(cli_follow_exit_code("failed", 0, -1, NULL), CLI_FOLLOW_EXIT_NOT_RUN);
	T_EQ_INT(cli_follow_exit_code("failed", 1, 256, NULL), CLI_FOLLOW_EXIT_NOT_RUN);
	T_EQ_INT(cli_follow_exit_code("failed", 1, -1, NULL), CLI_FOLLOW_EXIT_NOT_RUN);
	T_EQ_INT(cli_follow_exit_code(NULL, 1, 0, NULL), CLI_FOLLOW_EXIT_NOT_RUN);
	T_EQ_INT(cli_follow_exit_code("running", 1, 0, NULL), CLI_FOLLOW_EXIT_NOT_RUN);
	T_EQ_INT(cli_follow_exit_code("", 1, 0, NULL), CLI_FOLLOW_EXIT_NOT_RUN);
}

int main(void)
{
	T_RUN(exit_status_passes_through);
	T_RUN(states_get_their_codes);
	T_RUN(signals_are_128_plus);
	T_RUN(not_run_and_unknown);
	return T_EXIT();
}
