/*
 * posixsh.c — the --posix-sh exec request and script (contract in posixsh.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posixsh.h"
#include "../common/shquote.h"

static const char head[] = "{ exec /bin/sh -c ";
static const char tail[] = " </dev/null; }\n";

int posixsh_script(const char *command, size_t len, char **out, size_t *outlen)
{
	size_t q, n;
	char *s, *p;

	if (memchr(command, '\0', len))
		return -EINVAL;
	if (len > (SIZE_MAX - sizeof head - sizeof tail - 2) / 4 || !(q = shquote_len(command, len)))
		return -EOVERFLOW;
	n = sizeof head - 1 + q + sizeof tail - 1;
	if (!(s = p = malloc(n + 1)))
		return -ENOMEM;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	p += shquote_write(p, command, len);
	memcpy(p, tail, sizeof tail - 1);
	p += sizeof tail - 1;
	*p = '\0';
	*out = s;
	*outlen = n;
	return 0;
}
