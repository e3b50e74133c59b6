/*
 * relay_connect_state.c — unit tests for relay/connect_state.c (the state
 * file: first start, round trip, replace, every malformed file refused and
 * left as it was, no temporary file left behind, id order) and the retry
 * policy of relay/connect_fwd.c (verdict per status, backoff with its cap
 * and jitter, Retry-After).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "../../relay/connect_fwd.h"
#include "../../relay/connect_state.h"

static char dir[] = "/tmp/relay_state_test.XXXXXX";
static char path[256];

static void put_file(const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(s, 1, n, f);
		fclose(f);
	}
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void state_first_start(void)
{
	char id[CONNECT_STATE_ID_MAX + 1] = "x", err[256];

	unlink(path);
	T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), 0);
	T_EQ_STR(id, "");
}

static void state_round_trip(void)
{
	char id[CONNECT_STATE_ID_MAX + 1], err[256];
	struct stat st;

	T_EQ_INT(connect_state_save(path, "1700000000000-4", err, sizeof err), 0);
	T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), 0);
	T_EQ_STR(id, "1700000000000-4");
	T_EQ_INT(connect_state_save(path, "1700000000001-0", err, sizeof err), 0);
	T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), 0);
	T_EQ_STR(id, "1700000000001-0");
	T_EQ_INT(entries(), 1);          /* no temporary file left */
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 077, 0);   /* private: mkostemp's 0600 */
}

static void state_refusals(void)
{
	static const char *bad[] = {"", "last_event_id \n", "last_event_id 1-0", "1-0\n",
	                            "last_event_id 1 0\n", "last_event_id 1-0\nextra\n",
	                            "last_event_id \x01\n"};
	char id[CONNECT_STATE_ID_MAX + 1], err[256], big[CONNECT_STATE_ID_MAX + 40];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put_file(bad[i], strlen(bad[i]));
		err[0] = 0;
		T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), -EINVAL);
		T_CHECK(strstr(err, path) != NULL);
		T_EQ_STR(id, "");
	}
	put_file("last_event_id 1\0002\n", 18);
	T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), -EINVAL);
	memset(big, 'a', sizeof big);
	memcpy(big, "last_event_id ", 14);
	big[sizeof big - 1] = '\n';
	put_file(big, sizeof big);
	T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), -EINVAL);
	/* An id that cannot be stored is refused and the file left as it was. */
	T_EQ_INT(connect_state_save(path, "has space", err, sizeof err), -EINVAL);
	T_EQ_INT(connect_state_save(path, "", err, sizeof err), -EINVAL);
	T_EQ_INT(connect_state_load(path, id, sizeof id, err, sizeof err), -EINVAL);
	/* A directory that does not exist: an error naming the step. */
	err[0] = 0;
	T_EQ_INT(connect_state_save("/nonexistent-dir-relay/state", "1-0", err, sizeof err), -ENOENT);
	T_CHECK(strstr(err, "create") != NULL);
}

static void id_order(void)
{
	T_EQ_INT(connect_state_id_cmp("1-0", "1-1"), -1);
	T_EQ_INT(connect_state_id_cmp("2-0", "1-9"), 1);
	T_EQ_INT(connect_state_id_cmp("10-0", "9-0"), 1);
	T_EQ_INT(connect_state_id_cmp("5-5", "5-5"), 0);
	T_EQ_INT(connect_state_id_cmp("abc", "1-0"), 2);
	T_EQ_INT(connect_state_id_cmp("1-0", "1-"), 2);
	T_EQ_INT(connect_state_id_cmp("1-0x", "1-0"), 2);
	T_EQ_INT(connect_state_id_cmp("-1-0", "1-0"), 2);
}

static void verdicts(void)
{
	T_EQ_INT(connect_fwd_verdict_for(200), CONNECT_FWD_DELIVERED);
	T_EQ_INT(connect_fwd_verdict_for(204), CONNECT_FWD_DELIVERED);
	T_EQ_INT(connect_fwd_verdict_for(202), CONNECT_FWD_DELIVERED);
	T_EQ_INT(connect_fwd_verdict_for(0), CONNECT_FWD_RETRY);
	T_EQ_INT(connect_fwd_verdict_for(408), CONNECT_FWD_RETRY);
	T_EQ_INT(connect_fwd_verdict_for(429), CONNECT_FWD_RETRY);
	T_EQ_INT(connect_fwd_verdict_for(500), CONNECT_FWD_RETRY);
	T_EQ_INT(connect_fwd_verdict_for(503), CONNECT_FWD_RETRY);
	T_EQ_INT(connect_fwd_verdict_for(400), CONNECT_FWD_PERMANENT);
	T_EQ_INT(connect_fwd_verdict_for(401), CONNECT_FWD_PERMANENT);
	T_EQ_INT(connect_fwd_verdict_for(404), CONNECT_FWD_PERMANENT);
	T_EQ_INT(connect_fwd_verdict_for(409), CONNECT_FWD_PERMANENT);
	T_EQ_INT(connect_fwd_verdict_for(302), CONNECT_FWD_PERMANENT);
}

static void delays(void)
{
	long long d;
	int i;

	for (i = 0; i < 50; i++) {
		d = connect_fwd_delay_ms(1, 500, 30000, -1);
		T_CHECK(d >= 375 && d <= 500);
		d = connect_fwd_delay_ms(3, 500, 30000, -1);
		T_CHECK(d >= 1500 && d <= 2000);
		d = connect_fwd_delay_ms(40, 500, 30000, -1);   /* capped, no overflow */
		T_CHECK(d >= 22500 && d <= 30000);
	}
	T_EQ_INT(connect_fwd_delay_ms(1, 500, 30000, 7000), 7000);
	T_EQ_INT(connect_fwd_delay_ms(9, 500, 30000, 0), 0);
	T_EQ_INT(connect_fwd_delay_ms(1, 500, 30000, 99999999999LL), CONNECT_FWD_RETRY_AFTER_MAX_MS);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/state", dir);
	T_RUN(state_first_start);
	T_RUN(state_round_trip);
	T_RUN(state_refusals);
	T_RUN(id_order);
	T_RUN(verdicts);
	T_RUN(delays);
	unlink(path);
	rmdir(dir);
	return T_EXIT();
}
