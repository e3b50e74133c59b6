/*
 * common_small.c — unit tests for the small common/ modules: shquote.c (the
 * single-quoted word, checked by sh itself), randid.c (length, alphabet,
 * freshness), exstatus.c (names and classes round-trip, out-of-range
 * values), readfile.c (the size limit at its edge, a directory, a missing
 * file) and clock.c (the monotonic clock moves forward).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../common/exstatus.h"
#include "../../common/randid.h"
#include "../../common/readfile.h"
#include "../../common/shquote.h"
#include "t.h"

static void test_shquote(void)
{
	static const char *const vals[] = { "", "'", "a'b", "''", "$(id) `id` \\ \"x\" *", "\n\t" };
	char cmd[512], got[256], *q;
	size_t i;

	for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		FILE *p;
		size_t n;

		q = shquote_dup(vals[i]);
		T_CHECK(q != NULL);
		if (!q)
			continue;
		T_EQ_INT(strlen(q), shquote_len(vals[i], strlen(vals[i])));
		snprintf(cmd, sizeof cmd, "printf %%s %s", q);
		T_CHECK((p = popen(cmd, "r")) != NULL);
		n = p ? fread(got, 1, sizeof got - 1, p) : 0;
		got[n] = '\0';
		if (p)
			T_EQ_INT(pclose(p), 0);
		T_EQ_STR(got, vals[i]);
		free(q);
	}
	q = shquote_dup("a'b");
	T_EQ_STR(q, "'a'\\''b'");
	free(q);
	errno = 0;
	T_CHECK(shquote_dup(NULL) == NULL && errno == EINVAL);
}

static void test_randid(void)
{
	char a[33], b[33];
	size_t i;

	memset(a, 'x', sizeof a);
	T_EQ_INT(randid_hex(a, 16, 0), 0);
	T_EQ_INT(strlen(a), 32);
	for (i = 0; i < 32; i++)
		T_CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
	T_EQ_INT(randid_hex(b, 16, 0), 0);
	T_CHECK(strcmp(a, b) != 0);
	T_EQ_INT(randid_hex(b, 8, 0), 0);
	T_EQ_INT(strlen(b), 16);
	T_EQ_INT(randid_hex(b, 0, 0), 0);
	T_EQ_STR(b, "");
}

static void test_exstatus(void)
{
	enum exstatus_error e;
	unsigned i;

	T_CHECK(exstatus_error_name(EXSTATUS_OK) == NULL);
	T_EQ_INT(exstatus_error_class(EXSTATUS_OK), EXSTATUS_CLASS_NONE);
	for (i = 1; i < EXSTATUS_NERRORS; i++) {
		const char *n = exstatus_error_name((enum exstatus_error)i);
		T_CHECK(n != NULL);
		T_EQ_INT(exstatus_error_parse(n ? n : "", &e), 0);
		T_EQ_INT(e, i);
		T_CHECK(exstatus_error_class(e) != EXSTATUS_CLASS_NONE);
	}
	T_EQ_INT(exstatus_error_parse("", &e), -ENOENT);
	T_EQ_INT(exstatus_error_parse("Timeout", &e), -ENOENT);
	T_EQ_STR(exstatus_error_name(EXSTATUS_NERRORS), "internal");
	T_EQ_INT(exstatus_error_class(EXSTATUS_ETIMEOUT), EXSTATUS_CLASS_TIMEOUT);
	T_EQ_INT(exstatus_error_class(EXSTATUS_EIO), EXSTATUS_CLASS_TRANSIENT);
	T_EQ_INT(exstatus_error_class(EXSTATUS_EAUTH), EXSTATUS_CLASS_SETUP);
	T_EQ_INT(exstatus_error_class(EXSTATUS_EINTERNAL), EXSTATUS_CLASS_LOCAL);
	T_EQ_STR(exstatus_phase_name(EXSTATUS_PH_START), "start");
	T_EQ_STR(exstatus_phase_name(EXSTATUS_PH_DONE), "done");
}

static void test_readfile(void)
{
	char dir[] = "/tmp/common_small.XXXXXX", path[64], *buf = NULL;
	size_t len = 0;
	FILE *f;

	T_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/f", dir);
	T_CHECK((f = fopen(path, "w")) != NULL);
	if (f) {
		fputs("0123456789", f);
		fclose(f);
	}
	T_EQ_INT(readfile_read(path, 10, &buf, &len), 0);
	T_EQ_INT(len, 10);
	T_EQ_STR(buf, "0123456789");
	free(buf);
	buf = NULL;
	T_EQ_INT(readfile_read(path, 9, &buf, &len), -EFBIG);
	T_CHECK(buf == NULL);
	T_EQ_INT(readfile_read(dir, 100, &buf, &len), -EISDIR);
	unlink(path);
	T_EQ_INT(readfile_read(path, 100, &buf, &len), -ENOENT);
	rmdir(dir);
}

static void test_clock(void)
{
	int64_t a = clock_mono_ms();

	usleep(20000);
	T_CHECK(clock_mono_ms() - a >= 20);
	T_CHECK(clock_wall_ms() > 1600000000000LL); /* after 2020 */
}

int main(void)
{
	T_RUN(test_shquote);
	T_RUN(test_randid);
	T_RUN(test_exstatus);
	T_RUN(test_readfile);
	T_RUN(test_clock);
	return T_EXIT();
}
