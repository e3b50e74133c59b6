/*
 * jobstate.c — the job states' names and properties (contract in
 * jobstate.h).
 */
#include "jobstate.h"

#include <string.h>

static const char *const names[] = {
	[JOBSTATE_QUEUED] = "queued",
	[JOBSTATE_RUNNING] = "running",
	[JOBSTATE_SUCCEEDED] = "succeeded",
	[JOBSTATE_FAILED] = "failed",
	[JOBSTATE_TIMEOUT] = "timeout",
	[JOBSTATE_INTERRUPTED] = "interrupted",
	[JOBSTATE_PENDING_APPROVAL] = "pending_approval",
	[JOBSTATE_DENIED] = "denied",
	[JOBSTATE_EXPIRED] = "expired",
};
#define NSTATES ((int)(sizeof names / sizeof names[0]))

const char *jobstate_name(enum jobstate s)
{
	return (int)s > 0 && (int)s < NSTATES ? names[s] : "unknown";
}

enum jobstate jobstate_from_name(const char *name)
{
	int i;

	if (!name)
		return JOBSTATE_NONE;
	for (i = 1; i < NSTATES; i++)
		if (!strcmp(name, names[i]))
			return (enum jobstate)i;
	return JOBSTATE_NONE;
}

int jobstate_is_initial(enum jobstate s)
{
	return s == JOBSTATE_QUEUED || s == JOBSTATE_RUNNING || s == JOBSTATE_PENDING_APPROVAL;
}

int jobstate_is_active(enum jobstate s)
{
	return s == JOBSTATE_QUEUED || s == JOBSTATE_RUNNING || s == JOBSTATE_PENDING_APPROVAL;
}

int jobstate_is_final(enum jobstate s)
{
	return s == JOBSTATE_SUCCEEDED || jobstate_is_retryable(s) || jobstate_is_refused(s);
}

int jobstate_is_refused(enum jobstate s)
{
	return s == JOBSTATE_DENIED || s == JOBSTATE_EXPIRED;
}

int jobstate_is_retryable(enum jobstate s)
{
	return s == JOBSTATE_FAILED || s == JOBSTATE_TIMEOUT || s == JOBSTATE_INTERRUPTED;
}
