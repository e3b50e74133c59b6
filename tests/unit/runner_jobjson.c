/*
 * runner_jobjson.c — unit tests of runner/jobjson.c: the exact JSON of each
 * field set its callers use (GET /jobs/<id>, `jobs list|show --json`, the
 * answer of an attempt just run, a queued job that could not run), byte for
 * byte, for a finished job and for one still queued; and that the field
 * order is the same whatever the set.
 */
#include <stdlib.h>
#include <string.h>

#include "../../runner/jobjson.h"
#include "t.h"

static void finished(struct store_job *j)
{
	memset(j, 0, sizeof *j);
	j->id = 42;
	strcpy(j->hook, "deploy");
	strcpy(j->key, "k-1");
	j->attempt = 2;
	j->state = JOBSTATE_FAILED;
	j->exit_code = 3;
	strcpy(j->error, "");
	j->http_status = 500;
	j->created_ms = 1700000000000;
	j->started_ms = 1700000000100;
	j->finished_ms = 1700000001350;
	j->response = (char *)"{\"job_id\":42,\"status\":\"failed\"}";
	j->output_tail = (char *)"line \"1\"\n";
}

static void queued(struct store_job *j)
{
	memset(j, 0, sizeof *j);
	j->id = 7;
	strcpy(j->hook, "app");
	strcpy(j->key, "k-q");
	j->attempt = 1;
	j->state = JOBSTATE_QUEUED;
	j->exit_code = -1;
	j->created_ms = 1700000000000;
}

static char *print(const struct store_job *j, unsigned flags, const struct jobjson_outcome *oc)
{
	char *s = NULL;

	return jobjson_print(j, flags, oc, &s) == 0 ? s : NULL;
}

/* GET /jobs/<id>: what is there, nothing null; the tail only when asked. */
static void test_status_route(void)
{
	struct store_job j;
	char *s;

	finished(&j);
	s = print(&j, JOBJSON_RECORD, NULL);
	T_EQ_STR(s, "{\"job_id\":42,\"hook\":\"deploy\",\"attempt\":2,\"status\":\"failed\",\"exit_code\":3,"
		    "\"http_status\":500,\"created_ms\":1700000000000,\"started_ms\":1700000000100,"
		    "\"finished_ms\":1700000001350}");
	free(s);
	s = print(&j, JOBJSON_RECORD | JOBJSON_TAIL, NULL);
	T_CHECK(s && strstr(s, ",\"finished_ms\":1700000001350,\"output_tail\":\"line \\\"1\\\"\\n\"}"));
	free(s);
	queued(&j);
	s = print(&j, JOBJSON_RECORD | JOBJSON_TAIL, NULL);
	T_EQ_STR(s, "{\"job_id\":7,\"hook\":\"app\",\"attempt\":1,\"status\":\"queued\","
		    "\"created_ms\":1700000000000}");
	free(s);
	/* an exit code is only shown once the job finished */
	j.exit_code = 0;
	s = print(&j, JOBJSON_RECORD, NULL);
	T_CHECK(s && !strstr(s, "exit_code"));
	free(s);
}

/* jobs list|show --json: every column, null without a value. */
static void test_cli_rows(void)
{
	struct store_job j;
	const unsigned row = JOBJSON_KEY | JOBJSON_RECORD | JOBJSON_DURATION | JOBJSON_NULLS;
	char *s;

	queued(&j);
	s = print(&j, row, NULL);
	T_EQ_STR(s, "{\"job_id\":7,\"hook\":\"app\",\"key\":\"k-q\",\"attempt\":1,\"status\":\"queued\","
		    "\"exit_code\":null,\"signal\":null,\"error\":null,\"http_status\":null,"
		    "\"created_ms\":1700000000000,\"started_ms\":null,\"finished_ms\":null,"
		    "\"duration_ms\":null}");
	free(s);
	s = print(&j, row | JOBJSON_RESPONSE | JOBJSON_TAIL, NULL);
	T_CHECK(s && strstr(s, "\"duration_ms\":null,\"response\":null,\"output_tail\":null}"));
	free(s);
	finished(&j);
	strcpy(j.signal, "TERM");
	s = print(&j, row | JOBJSON_RESPONSE | JOBJSON_TAIL, NULL);
	T_EQ_STR(s, "{\"job_id\":42,\"hook\":\"deploy\",\"key\":\"k-1\",\"attempt\":2,\"status\":\"failed\","
		    "\"exit_code\":3,\"signal\":\"TERM\",\"error\":null,\"http_status\":500,"
		    "\"created_ms\":1700000000000,\"started_ms\":1700000000100,"
		    "\"finished_ms\":1700000001350,\"duration_ms\":1250,"
		    "\"response\":{\"job_id\":42,\"status\":\"failed\"},\"output_tail\":\"line \\\"1\\\"\\n\"}");
	free(s);
	/* a stored answer that is not JSON stays a string */
	j.response = (char *)"not json";
	s = print(&j, row | JOBJSON_RESPONSE, NULL);
	T_CHECK(s && strstr(s, "\"response\":\"not json\"}"));
	free(s);
}

/* The answer of an attempt just run: exit_code always (null without one),
 * its message, its measured duration, the request id last. */
static void test_answer(void)
{
	struct store_job j;
	struct jobjson_outcome oc = { "remote-executor ended without a status", 1, 0, "abcd" };
	char *s;

	memset(&j, 0, sizeof j);
	j.id = 9;
	strcpy(j.hook, "app");
	j.attempt = 1;
	j.state = JOBSTATE_FAILED;
	j.exit_code = -1;
	strcpy(j.error, "executor");
	s = print(&j, JOBJSON_EXIT | JOBJSON_TAIL, &oc);
	T_EQ_STR(s, "{\"job_id\":9,\"hook\":\"app\",\"attempt\":1,\"status\":\"failed\",\"exit_code\":null,"
		    "\"error\":\"executor\",\"message\":\"remote-executor ended without a status\","
		    "\"duration_ms\":0,\"request_id\":\"abcd\"}");
	free(s);
	j.state = JOBSTATE_SUCCEEDED;
	j.exit_code = 0;
	j.error[0] = '\0';
	j.started_ms = 1700000000000;
	j.finished_ms = 1700000000500;
	j.output_tail = (char *)"";
	oc.message = NULL;
	oc.duration_ms = 500;
	s = print(&j, JOBJSON_EXIT | JOBJSON_TAIL, &oc);
	T_EQ_STR(s, "{\"job_id\":9,\"hook\":\"app\",\"attempt\":1,\"status\":\"succeeded\",\"exit_code\":0,"
		    "\"duration_ms\":500,\"output_tail\":\"\",\"request_id\":\"abcd\"}");
	free(s);
}

/* A queued job that could not run (workers.c): the bare minimum. */
static void test_unrunnable(void)
{
	struct store_job j;
	char *s;

	memset(&j, 0, sizeof j);
	j.id = 3000000000;
	strcpy(j.hook, "app");
	j.attempt = 1;
	j.state = JOBSTATE_FAILED;
	j.exit_code = -1;
	strcpy(j.error, "hook_removed");
	s = print(&j, 0, NULL);
	T_EQ_STR(s, "{\"job_id\":3000000000,\"hook\":\"app\",\"attempt\":1,\"status\":\"failed\","
		    "\"error\":\"hook_removed\"}");
	free(s);
}

int main(void)
{
	T_RUN(test_status_route);
	T_RUN(test_cli_rows);
	T_RUN(test_answer);
	T_RUN(test_unrunnable);
	return T_EXIT();
}
