/*
 * runner_jobstate.c — unit tests of runner/jobstate.c: every state's name
 * both ways (the approval states too), names that are not states, and which
 * state has which property.
 */
#include "../../runner/jobstate.h"
#include "t.h"

static void test_names(void)
{
	static const char *const want[] = { "queued", "running", "succeeded", "failed", "timeout",
		"interrupted", "pending_approval", "denied", "expired" };
	int i;

	for (i = 0; i < 9; i++) {
		T_EQ_STR(jobstate_name((enum jobstate)(JOBSTATE_QUEUED + i)), want[i]);
		T_EQ_INT(jobstate_from_name(want[i]), JOBSTATE_QUEUED + i);
	}
	T_EQ_STR(jobstate_name(JOBSTATE_NONE), "unknown");
	T_EQ_STR(jobstate_name((enum jobstate)99), "unknown");
	T_EQ_STR(jobstate_name((enum jobstate)-1), "unknown");
	T_EQ_INT(jobstate_from_name(NULL), JOBSTATE_NONE);
	T_EQ_INT(jobstate_from_name(""), JOBSTATE_NONE);
	T_EQ_INT(jobstate_from_name("Queued"), JOBSTATE_NONE);
	T_EQ_INT(jobstate_from_name("queued "), JOBSTATE_NONE);
	T_EQ_INT(jobstate_from_name("unknown"), JOBSTATE_NONE);
}

static void test_properties(void)
{
	/* initial, active, final, retryable, refused */
	static const struct {
		enum jobstate s;
		int initial, active, final, retryable, refused;
	} want[] = {
		{ JOBSTATE_NONE, 0, 0, 0, 0, 0 },
		{ JOBSTATE_QUEUED, 1, 1, 0, 0, 0 },
		{ JOBSTATE_RUNNING, 1, 1, 0, 0, 0 },
		{ JOBSTATE_SUCCEEDED, 0, 0, 1, 0, 0 },
		{ JOBSTATE_FAILED, 0, 0, 1, 1, 0 },
		{ JOBSTATE_TIMEOUT, 0, 0, 1, 1, 0 },
		{ JOBSTATE_INTERRUPTED, 0, 0, 1, 1, 0 },
		{ JOBSTATE_PENDING_APPROVAL, 1, 1, 0, 0, 0 },
		{ JOBSTATE_DENIED, 0, 0, 1, 0, 1 },
		{ JOBSTATE_EXPIRED, 0, 0, 1, 0, 1 },
		{ (enum jobstate)99, 0, 0, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		T_EQ_INT(jobstate_is_initial(want[i].s), want[i].initial);
		T_EQ_INT(jobstate_is_active(want[i].s), want[i].active);
		T_EQ_INT(jobstate_is_final(want[i].s), want[i].final);
		T_EQ_INT(jobstate_is_retryable(want[i].s), want[i].retryable);
		T_EQ_INT(jobstate_is_refused(want[i].s), want[i].refused);
	}
}

int main(void)
{
	T_RUN(test_names);
	T_RUN(test_properties);
	return T_EXIT();
}
