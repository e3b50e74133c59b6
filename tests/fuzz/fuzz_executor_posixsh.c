/*
 * fuzz_executor_posixsh.c — libFuzzer harness for executor/posixsh.c.
 *
 * The input is a command as --command-fd would deliver it (any bytes). It
 * goes through posixsh_script, and the result is read back the way a POSIX
 * shell reads it, independently of the quoting code.
 *
 * Oracles, beyond crashes, leaks and undefined behaviour: an input holding
 * a NUL byte is refused (-EINVAL) and nothing else is; the script is
 * "{ exec /bin/sh -c '" + Q + "' </dev/null; }\n" with exactly one newline
 * (the last byte) unless the command holds some; inside Q every quote
 * comes as the sequence '\'' (close, escaped quote, reopen), so no byte of
 * the command is ever outside single quotes; undoing that gives the input
 * back byte for byte; the reported length is the string's. Any breach
 * aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../executor/posixsh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

static const char head[] = "{ exec /bin/sh -c '";
static const char tail[] = "' </dev/null; }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *cmd = (const char *)data;
	char *s = NULL, *back;
	size_t n = 0, i, k = 0, hl = sizeof head - 1, tl = sizeof tail - 1;
	int rc = posixsh_script(cmd, size, &s, &n);

	if (memchr(data, '\0', size)) {
		CHECK(rc == -EINVAL && s == NULL);
		return 0;
	}
	CHECK(rc == 0 && s != NULL);
	CHECK(strlen(s) == n);
	CHECK(n >= hl + tl && !memcmp(s, head, hl) && !memcmp(s + n - tl, tail, tl));
	CHECK((back = malloc(size + 1)) != NULL);
	/* Between head and tail, read as a shell does: inside '...' every
	 * byte is literal up to the next quote; outside, only \' may appear
	 * (and then the quote reopens at once). */
	for (i = hl; i < n - tl;) {
		if (s[i] == '\'') {
			CHECK(i + 3 < n - tl && s[i + 1] == '\\' && s[i + 2] == '\'' && s[i + 3] == '\'');
			back[k++] = '\'';
			i += 4;
		} else {
			back[k++] = s[i++];
		}
		CHECK(k <= size);
	}
	CHECK(k == size && !memcmp(back, data, size));
	free(back);
	free(s);
	return 0;
}
