/*
 * posixsh.c — the --posix-sh exec request and script (contract in posixsh.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posixsh.h"

static const char head[] = "{ exec /bin/sh -c '";
static const char tail[] = "' </dev/null; }\n";

int psh_script(const char *command, size_t len, char **out, size_t *outlen)
{
	size_t i, quotes = 0, n;
	char *s, *p;

	if (memchr(command, '\0', len))
		return -EINVAL;
	if (len > (SIZE_MAX - sizeof head - sizeof tail) / 4)
		return -EOVERFLOW;
	for (i = 0; i < len; i++)
		quotes += command[i] == '\'';
	/* Each ' becomes '\'' (close, escaped quote, reopen): 3 more bytes. */
	n = sizeof head - 1 + len + 3 * quotes + sizeof tail - 1;
	if (!(s = p = malloc(n + 1)))
		return -ENOMEM;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	for (i = 0; i < len; i++) {
		if (command[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = command[i];
		}
	}
	memcpy(p, tail, sizeof tail - 1);
	p += sizeof tail - 1;
	*p = '\0';
	*out = s;
	*outlen = n;
	return 0;
}
