/*
 * bearer.c — bearer tokens (contract in bearer.h).
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "bearer.h"

const char *bearer_token(const char *auth)
{
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	for (auth += 7; *auth == ' '; auth++)
		;
	return auth;
}

int bearer_equal(const char *tok, const char *want)
{
	size_t n = strlen(tok);

	return want && n == strlen(want) && CRYPTO_memcmp(tok, want, n) == 0;
}
