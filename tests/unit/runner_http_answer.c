/*
 * runner_http_answer.c — the refusal body intake_answer_fail builds by hand:
 * byte for byte what cJSON prints for the same two strings (the JSON every
 * client of the old code parsed), for messages with quotes, backslashes,
 * control bytes and UTF-8; and the status and extra headers it sets.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../runner/intake.h"
#include "t.h"

/* What cJSON_PrintUnformatted gives for {"error":MSG,"request_id":ID}. */
static char *reference(const char *msg, const char *id)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "error", msg);
	cJSON_AddStringToObject(o, "request_id", id);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void one(const char *msg, const char *id)
{
	struct intake_req rq;
	struct intake_answer a;
	char *want = reference(msg, id);

	memset(&rq, 0, sizeof rq);
	rq.id = id;
	intake_answer_init(&a);
	intake_answer_fail(&a, &rq, 401, "WWW-Authenticate: x\r\n", msg);
	T_EQ_STR(a.body, want);
	T_EQ_INT((long long)a.len, (long long)(want ? strlen(want) : 0));
	T_EQ_INT(a.status, 401);
	T_EQ_STR(a.extra, "WWW-Authenticate: x\r\n");
	/* valid JSON with the same strings back */
	{
		cJSON *o = cJSON_Parse(a.body);
		T_CHECK(o != NULL);
		T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")), msg);
		T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "request_id")), id);
		cJSON_Delete(o);
	}
	intake_answer_clear(&a);
	free(want);
}

static void test_fail_body_matches_cjson(void)
{
	char ctl[40];
	int i;

	one("signature verification failed: mismatch", "d20647111748a7ce");
	one("", "0000000000000000");
	one("quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f", "abc");
	one("caf\xc3\xa9 \xe2\x9c\x93 del \x7f", "id");
	for (i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	ctl[31] = '\0';
	one(ctl, "ctl");
}

/* A second answer replaces the first body and its extra headers. */
static void test_fail_replaces(void)
{
	struct intake_req rq;
	struct intake_answer a;

	memset(&rq, 0, sizeof rq);
	rq.id = "r1";
	intake_answer_init(&a);
	intake_answer_fail(&a, &rq, 413, "Connection: close\r\n", "too big");
	intake_answer_fail(&a, &rq, 400, NULL, "bad");
	T_EQ_STR(a.body, "{\"error\":\"bad\",\"request_id\":\"r1\"}");
	T_EQ_INT(a.status, 400);
	T_EQ_STR(a.extra, "");
	intake_answer_clear(&a);
}

int main(void)
{
	T_RUN(test_fail_body_matches_cjson);
	T_RUN(test_fail_replaces);
	return T_EXIT();
}
