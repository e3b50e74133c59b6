/*
 * runner_slack_api.c — unit tests for runner/slack_api.c against the fake
 * Slack (tests/tools/fake_slack.py, started here on loopback and stopped
 * at exit): a call's headers and body as Slack checks them, ok:false with
 * Slack's error, a wrong token, 429 with Retry-After, 5xx, a hang past the
 * timeout, a closed port, a response_url, the group member cache; and
 * runner/slack_seen.c's bounded memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "../../common/clock.h"
#include "../../runner/slack_api.h"
#include "../../runner/slack_seen.h"

#define TOKEN "xoxb-unit-test-token"

static pid_t fake = -1;
static char dir[] = "/tmp/wr-slackapi-XXXXXX", base[128], logpath[160];
static int port;

static void stop_fake(void)
{
	char cmd[256];

	if (fake > 0) {
		kill(fake, SIGTERM);
		waitpid(fake, NULL, 0);
		fake = -1;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int start_fake(void)
{
	const char *top = getenv("TOP");
	char script[512], portfile[160];
	FILE *f;
	int i;

	if (!mkdtemp(dir))
		return -1;
	snprintf(script, sizeof script, "%s/tests/tools/fake_slack.py", top ? top : ".");
	snprintf(portfile, sizeof portfile, "%s/port", dir);
	snprintf(logpath, sizeof logpath, "%s/calls.jsonl", dir);
	atexit(stop_fake);
	if ((fake = fork()) == 0) {
		execlp("python3", "python3", script, portfile, logpath, TOKEN, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if ((f = fopen(portfile, "r"))) {
			int ok = fscanf(f, "%d", &port) == 1;
			fclose(f);
			if (ok) {
				snprintf(base, sizeof base, "http://127.0.0.1:%d/api", port);
				return 0;
			}
		}
		usleep(50 * 1000);
	}
	return -1;
}

static void control(const char *json)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -d '%s' http://127.0.0.1:%d/control", json, port);
	if (system(cmd) != 0)
		fprintf(stderr, "control failed\n");
}

/* Lines of the call log that contain every one of A and B. */
static int logged(const char *a, const char *b)
{
	char line[65536];
	FILE *f = fopen(logpath, "r");
	int n = 0;

	while (f && fgets(line, sizeof line, f))
		n += strstr(line, a) && (!b || strstr(line, b));
	if (f)
		fclose(f);
	return n;
}

static const char post[] = "{\"channel\":\"C0001\",\"text\":\"hi\",\"blocks\":[{\"type\":\"section\","
	"\"text\":{\"type\":\"plain_text\",\"text\":\"hello\"}}]}";

static void slackapi_post_ok(void)
{
	struct slackapi *c = NULL;
	struct slackapi_answer a;

	T_EQ_INT(slackapi_new(base, TOKEN, 3000, &c), 0);
	T_EQ_INT(slackapi_call(c, "chat.postMessage", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_OK);
	T_EQ_INT(a.http, 200);
	T_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a.json, "ts")));
	/* the fake saw the token and the content type Slack wants */
	T_EQ_INT(logged("\"method\": \"chat.postMessage\"", "\"auth\": true, \"content_type\": "
	    "\"application/json; charset=utf-8\""), 1);
	slackapi_answer_clear(&a);
	slackapi_free(c);
}

static void slackapi_wrong_token(void)
{
	struct slackapi *c = NULL;
	struct slackapi_answer a;

	T_EQ_INT(slackapi_new(base, "xoxb-wrong", 3000, &c), 0);
	T_EQ_INT(slackapi_call(c, "chat.postMessage", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_ERROR);
	T_EQ_STR(a.error, "invalid_auth");
	T_EQ_INT(slackapi_retryable(&a), 0);
	slackapi_answer_clear(&a);
	slackapi_free(c);
}

static void slackapi_slack_errors(void)
{
	struct slackapi *c = NULL;
	struct slackapi_answer a;

	T_EQ_INT(slackapi_new(base, TOKEN, 3000, &c), 0);
	control("{\"fault\":{\"method\":\"chat.postMessage\",\"kind\":\"error\",\"error\":\"channel_not_found\"}}");
	T_EQ_INT(slackapi_call(c, "chat.postMessage", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_ERROR);
	T_EQ_STR(a.error, "channel_not_found");
	slackapi_answer_clear(&a);
	control("{\"fault\":{\"method\":\"chat.postMessage\",\"kind\":\"429\",\"retry_after\":7}}");
	T_EQ_INT(slackapi_call(c, "chat.postMessage", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_RATELIMITED);
	T_EQ_INT(a.retry_after_s, 7);
	T_EQ_INT(slackapi_retryable(&a), 1);
	slackapi_answer_clear(&a);
	control("{\"fault\":{\"method\":\"chat.postMessage\",\"kind\":\"500\"}}");
	T_EQ_INT(slackapi_call(c, "chat.postMessage", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_SERVER);
	T_EQ_INT(slackapi_retryable(&a), 1);
	slackapi_answer_clear(&a);
	/* blocks over Block Kit's limit: Slack's invalid_blocks */
	T_EQ_INT(slackapi_call(c, "chat.postMessage", "{\"channel\":\"C1\",\"blocks\":[{\"type\":"
	    "\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\"\"}}]}", &a), 0);
	T_EQ_INT(a.result, SLACKAPI_ERROR);
	T_EQ_STR(a.error, "invalid_blocks");
	slackapi_answer_clear(&a);
	T_EQ_INT(slackapi_call(c, "chat/../x", post, &a), -EINVAL);
	slackapi_free(c);
}

static void slackapi_hang_times_out(void)
{
	struct slackapi *c = NULL;
	struct slackapi_answer a;
	int64_t t0;

	T_EQ_INT(slackapi_new(base, TOKEN, 500, &c), 0);
	control("{\"fault\":{\"method\":\"chat.update\",\"kind\":\"hang\",\"seconds\":3}}");
	t0 = clock_mono_ms();
	T_EQ_INT(slackapi_call(c, "chat.update", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_TRANSPORT);
	T_EQ_STR(a.error, "timeout");
	T_CHECK(clock_mono_ms() - t0 < 2500); /* bounded by the timeout, not the hang */
	T_EQ_INT(slackapi_retryable(&a), 1);
	slackapi_answer_clear(&a);
	slackapi_free(c);
}

static void slackapi_closed_port(void)
{
	struct slackapi *c = NULL;
	struct slackapi_answer a;

	/* port 1 on loopback: nobody listens (connection refused) */
	T_EQ_INT(slackapi_new("http://127.0.0.1:1/api", TOKEN, 1000, &c), 0);
	T_EQ_INT(slackapi_call(c, "chat.postMessage", post, &a), 0);
	T_EQ_INT(a.result, SLACKAPI_TRANSPORT);
	slackapi_answer_clear(&a);
	slackapi_free(c);
}

static void slackapi_response_url(void)
{
	struct slackapi *c = NULL;
	struct slackapi_answer a;
	char url[128];

	snprintf(url, sizeof url, "http://127.0.0.1:%d/response/T1/abc", port);
	T_EQ_INT(slackapi_new(base, TOKEN, 3000, &c), 0);
	T_EQ_INT(slackapi_post_url(c, url, "{\"response_type\":\"ephemeral\",\"text\":\"no\"}", &a), 0);
	T_EQ_INT(a.result, SLACKAPI_OK);
	/* no token goes to a response_url */
	T_EQ_INT(logged("\"method\": \"response_url\"", "\"auth\": false"), 1);
	slackapi_answer_clear(&a);
	slackapi_free(c);
}

static void slackapi_groups_cached(void)
{
	struct slackapi *c = NULL;
	int64_t now = 1700000000000;
	int before;

	control("{\"groups\":{\"S0001\":[\"U0AAA\",\"U0BBB\"]}}");
	T_EQ_INT(slackapi_new(base, TOKEN, 3000, &c), 0);
	T_EQ_INT(slackapi_in_group(c, "S0001", "U0AAA", now, NULL, 0), 1);
	T_EQ_INT(slackapi_in_group(c, "S0001", "U0ZZZ", now, NULL, 0), 0);
	before = logged("usergroups.users.list", "S0001");
	T_EQ_INT(before, 1); /* the second answer came from the cache */
	control("{\"groups\":{\"S0001\":[\"U0ZZZ\"]}}");
	T_EQ_INT(slackapi_in_group(c, "S0001", "U0ZZZ", now + 1000, NULL, 0), 0); /* still cached */
	T_EQ_INT(slackapi_in_group(c, "S0001", "U0ZZZ", now + SLACKAPI_GROUP_TTL_MS + 1, NULL, 0), 1);
	T_EQ_INT(slackapi_in_group(c, "S0404", "U0AAA", now, NULL, 0), -EAGAIN); /* no_such_subteam */
	T_EQ_INT(slackapi_in_group(c, "bad id", "U0AAA", now, NULL, 0), -EINVAL);
	slackapi_free(c);
}

static void slackseen_bounded(void)
{
	struct slackseen *s = NULL;
	char key[32];
	int i;

	T_EQ_INT(slackseen_new(300, &s), 0);
	T_EQ_INT(slackseen_add(s, "1700000000:v0=ab", 1700000000), 0);
	T_EQ_INT(slackseen_add(s, "1700000000:v0=ab", 1700000010), 1);
	T_EQ_INT(slackseen_add(s, "1700000000:v0=ab", 1700000400), 0); /* forgotten after 300 s */
	for (i = 0; i < SLACKSEEN_MAX; i++) {
		snprintf(key, sizeof key, "k%d", i);
		slackseen_add(s, key, 1700000500);
	}
	T_EQ_INT(slackseen_add(s, "k0", 1700000500), 1);
	T_EQ_INT(slackseen_add(s, "1700000000:v0=ab", 1700000500), 0); /* pushed out: bounded */
	T_EQ_INT(slackseen_add(s, "", 1), -EINVAL);
	slackseen_free(s);
}

int main(void)
{
	char err[256] = "";

	signal(SIGPIPE, SIG_IGN);
	if (slackapi_global_init(err, sizeof err) != 0) {
		printf("FAIL slackapi_global_init: %s\n", err);
		return 1;
	}
	if (start_fake() != 0) {
		printf("FAIL slackapi_fake_slack: cannot start tests/tools/fake_slack.py\n");
		return 1;
	}
	T_RUN(slackapi_post_ok);
	T_RUN(slackapi_wrong_token);
	T_RUN(slackapi_slack_errors);
	T_RUN(slackapi_hang_times_out);
	T_RUN(slackapi_closed_port);
	T_RUN(slackapi_response_url);
	T_RUN(slackapi_groups_cached);
	T_RUN(slackseen_bounded);
	return T_EXIT();
}
