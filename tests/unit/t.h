/*
 * t.h — the unit test harness: a test is a function; T_CHECK records a failure
 * with file:line and goes on; T_RUN runs one test and prints "ok NAME" or
 * "FAIL NAME: file:line: expr" for tests/run.sh to count. Header-only.
 */
#ifndef T_H
#define T_H
#include <stdio.h>
#include <string.h>

static int t_failed_;
static char t_why_[512];
static int t_any_failed_;

#define T_CHECK(c) do { if (!(c)) { if (!t_failed_) snprintf(t_why_, sizeof t_why_, \
	"%s:%d: %s", __FILE__, __LINE__, #c); t_failed_ = 1; } } while (0)
#define T_EQ_INT(a, b) do { long long a_ = (a), b_ = (b); if (a_ != b_) { if (!t_failed_) \
	snprintf(t_why_, sizeof t_why_, "%s:%d: %s == %lld, want %lld", __FILE__, __LINE__, \
	#a, a_, b_); t_failed_ = 1; } } while (0)
#define T_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); if (!a_ || !b_ || strcmp(a_, b_)) { \
	if (!t_failed_) snprintf(t_why_, sizeof t_why_, "%s:%d: %s == \"%s\", want \"%s\"", \
	__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); t_failed_ = 1; } } while (0)
#define T_RUN(fn) do { t_failed_ = 0; t_why_[0] = 0; fn(); if (t_failed_) { \
	printf("FAIL %s: %s\n", #fn, t_why_); t_any_failed_ = 1; } else printf("ok %s\n", #fn); \
	fflush(stdout); } while (0)
#define T_EXIT() (t_any_failed_ ? 1 : 0)
#endif
