/*
 * relay_auth.c — unit tests for relay/auth.c: the start-up refusal without
 * a subscribe token (and --open), literal tokens refused, the decisions for
 * subscribe and publish (missing, wrong, right token; the allow-list), and
 * the channel file (unknown channels, a channel's own settings, unknown
 * fields named).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../relay/auth.h"
#include "t.h"

static char dir[] = "/tmp/relay_auth.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	T_CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static void test_auth_refuses_without_token(void)
{
	struct auth a = { 0 };
	struct auth_args args = { 0 };
	char err[600] = "";

	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EPERM);
	T_CHECK(strstr(err, "--open") != NULL);
	args.open = 1;
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), 0);
	T_EQ_INT(auth_subscribe(&a, "any", NULL), AUTH_OK);
	auth_free(&a);
	args.open = 0;
	args.token_ref = "literal-token";
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "--token") != NULL);
}

static void test_auth_decisions(void)
{
	struct auth a = { 0 };
	struct auth_args args = { 0 };
	char err[600] = "";
	int used = -1;

	setenv("RELAY_UT_SUB", "s3cret-sub", 1);
	setenv("RELAY_UT_PUB", "s3cret-pub", 1);
	args.token_ref = "env:RELAY_UT_SUB";
	args.publish_token_ref = "env:RELAY_UT_PUB";
	args.publish_allow = "127.0.0.0/8,::1";
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), 0);
	T_EQ_INT(auth_subscribe(&a, "c", NULL), AUTH_MISSING);
	T_EQ_INT(auth_subscribe(&a, "c", ""), AUTH_MISSING);
	T_EQ_INT(auth_subscribe(&a, "c", "s3cret-su"), AUTH_WRONG);
	T_EQ_INT(auth_subscribe(&a, "c", "s3cret-subX"), AUTH_WRONG);
	T_EQ_INT(auth_subscribe(&a, "c", "s3cret-sub"), AUTH_OK);
	T_EQ_INT(auth_publish(&a, "c", "s3cret-pub", "192.0.2.1", &used), AUTH_ADDRESS);
	T_EQ_INT(auth_publish(&a, "c", NULL, "127.0.0.1", &used), AUTH_MISSING);
	T_EQ_INT(used, 1);
	T_EQ_INT(auth_publish(&a, "c", "s3cret-sub", "::1", &used), AUTH_WRONG);
	T_EQ_INT(auth_publish(&a, "c", "s3cret-pub", "::1", &used), AUTH_OK);
	T_EQ_INT(auth_verdict_status(AUTH_MISSING), 401);
	T_EQ_INT(auth_verdict_status(AUTH_WRONG), 403);
	T_EQ_INT(auth_verdict_status(AUTH_ADDRESS), 403);
	T_EQ_INT(auth_verdict_status(AUTH_UNKNOWN), 404);
	auth_free(&a);
	T_CHECK(a.global.token == NULL);
}

static void test_auth_channel_file(void)
{
	struct auth a = { 0 };
	struct auth_args args = { 0 };
	char err[600] = "";
	int used;

	setenv("RELAY_UT_CH", "chan-token", 1);
	args.config_path = write_file("ok.json", "{\"channels\": {"
	    "\"a\": {\"token\": \"env:RELAY_UT_CH\"},"
	    "\"b\": {\"token\": \"env:RELAY_UT_CH\", \"publish_allow\": [\"10.0.0.0/8\"]}}}");
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), 0);
	T_EQ_INT(auth_subscribe(&a, "a", "chan-token"), AUTH_OK);
	T_EQ_INT(auth_subscribe(&a, "zz", "chan-token"), AUTH_UNKNOWN);
	T_EQ_INT(auth_publish(&a, "zz", NULL, "127.0.0.1", &used), AUTH_UNKNOWN);
	T_EQ_INT(auth_publish(&a, "a", NULL, "127.0.0.1", &used), AUTH_OK);
	T_EQ_INT(used, 0);
	T_EQ_INT(auth_publish(&a, "b", NULL, "127.0.0.1", &used), AUTH_ADDRESS);
	T_EQ_INT(auth_publish(&a, "b", NULL, "10.1.2.3", &used), AUTH_OK);
	auth_free(&a);

	/* Unknown channels allowed: they need the global token. */
	args.config_path = write_file("unk.json", "{\"unknown_channels\": true, \"channels\": {"
	    "\"a\": {\"token\": \"env:RELAY_UT_CH\"}}}");
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EPERM);
	args.token_ref = "env:RELAY_UT_SUB";
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), 0);
	T_EQ_INT(auth_subscribe(&a, "zz", "s3cret-sub"), AUTH_OK);
	T_EQ_INT(auth_subscribe(&a, "a", "s3cret-sub"), AUTH_WRONG);
	auth_free(&a);
	args.token_ref = NULL;

	args.config_path = write_file("bad.json", "{\"channels\": {\"a\": {\"tokn\": \"env:X\"}}}");
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "channels.a.tokn: unknown field") != NULL);
	args.config_path = write_file("name.json", "{\"channels\": {\"a/b\": {}}}");
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "not a channel name") != NULL);
	args.config_path = write_file("cidr.json",
	    "{\"channels\": {\"a\": {\"token\": \"env:RELAY_UT_CH\", \"publish_allow\": [\"10.0.0.1/8\"]}}}");
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "publish_allow") != NULL);
	args.config_path = write_file("json.json", "{\"channels\": ");
	T_EQ_INT(auth_load(&a, &args, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "not a JSON object") != NULL);
}

int main(void)
{
	int rc;

	if (!mkdtemp(dir)) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	T_RUN(test_auth_refuses_without_token);
	T_RUN(test_auth_decisions);
	T_RUN(test_auth_channel_file);
	rc = T_EXIT();
	{
		static const char *const names[] = { "ok.json", "unk.json", "bad.json", "name.json",
			"cidr.json", "json.json" };
		char path[256];
		size_t i;

		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	return rc;
}
