/*
 * randid.c — random hex identifiers (contract in randid.h).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "randid.h"

int randid_hex(char *out, size_t bytes, unsigned char fallback)
{
	unsigned char b[32];
	size_t i;
	ssize_t k;
	int rc = 0;

	if (bytes > sizeof b)
		rc = -EINVAL;
	else if ((k = getrandom(b, bytes, 0)) < 0)
		rc = -errno;
	else if ((size_t)k != bytes)
		rc = -EIO;
	out[0] = '\0';
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", rc ? fallback : b[i]);
	return rc;
}
