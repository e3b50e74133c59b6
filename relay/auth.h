/*
 * auth.c — who may subscribe to and publish on which channel. Owns the
 * optional JSON channel file (--config), the global tokens and allow-list
 * from the command line, the start-up rule (a relay with no subscribe
 * token for some channel it serves refuses to start unless --open), and
 * the decisions: tokens are compared in constant time (common/bearer.c,
 * CRYPTO_memcmp), tokens are secret references (common/secret.c: env:NAME,
 * file:PATH, cred:NAME), never literals.
 *
 * The file:
 *   { "unknown_channels": false,
 *     "channels": { "<name>": { "token": "env:SUB_TOKEN",
 *                               "publish_token": "file:/run/keys/pub",
 *                               "publish_allow": ["192.0.2.0/24"] } } }
 * With a file, only its channels exist unless "unknown_channels" is true
 * (then the others use the global settings). A channel's own setting
 * replaces the global one.
 */
#ifndef RELAY_AUTH_H
#define RELAY_AUTH_H
#include <stddef.h>

#include "chan.h"
#include "cidr.h"

#define AUTH_MAX_CIDRS 64
#define AUTH_MAX_CHANNELS 1024

struct auth_rules {
	char *token;           /* subscribe token, or NULL */
	char *publish_token;   /* or NULL: no token asked of publishers */
	struct cidr allow[AUTH_MAX_CIDRS];
	size_t nallow;         /* 0: any address may publish */
};

struct auth_chan {
	char name[CHAN_NAME_MAX + 1];
	struct auth_rules r;
	int has_token, has_publish_token, has_allow;
};

struct auth {
	struct auth_rules global;
	struct auth_chan *chans;
	size_t nchans;
	int have_file, unknown_ok, open;
};

/* What the relay was started with: secret references and a comma-separated
 * list of blocks, each may be NULL. */
struct auth_args {
	const char *config_path, *token_ref, *publish_token_ref, *publish_allow;
	int open;
};

enum auth_verdict {
	AUTH_OK = 0,
	AUTH_UNKNOWN,      /* 404: no such channel */
	AUTH_MISSING,      /* 401: no token given */
	AUTH_WRONG,        /* 403: the token is not the channel's */
	AUTH_ADDRESS,      /* 403: the peer's address is not allowed to publish */
};

/* Load into A (zeroed by the caller). 0, or -EINVAL/-ENOENT/-ENOMEM with
 * ERR naming the file, field or flag; A is then freed. Refuses (-EPERM)
 * when some channel would have no subscribe token and ARGS->open is 0. */
int auth_load(struct auth *a, const struct auth_args *args, char *err, size_t errlen);

/* May a client with TOKEN (NULL: none) subscribe to CHANNEL? */
enum auth_verdict auth_subscribe(const struct auth *a, const char *channel, const char *token);

/* May PEER (the address as text) with TOKEN publish on CHANNEL? *USED_TOKEN
 * gets 1 when a publish token was required (the caller then keeps the
 * header that carried it out of the stored event). */
enum auth_verdict auth_publish(const struct auth *a, const char *channel, const char *token,
    const char *peer, int *used_token);

/* The JSON error text and status for a verdict. */
const char *auth_verdict_error(enum auth_verdict v);
int auth_verdict_status(enum auth_verdict v);

/* Wipe the tokens and free. */
void auth_free(struct auth *a);
#endif
