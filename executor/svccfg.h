/*
 * svccfg.c — the executor service's configuration (`remote-executor serve
 * --config FILE`), a JSON object read with cJSON. Owns parsing and checking
 * it (unknown keys are refused, so a typo is an error, not a default), the
 * identity table, the destination patterns each identity may reach and
 * their matching, the allowed peer uids, and resolving the secrets
 * (key file `cred:NAME`, passphrase `env:`/`file:`/`cred:` through
 * common/secret.h) once the file is parsed.
 *
 * Destination patterns are `user@host:port` (port 22 when left out). User
 * and port are always exact: they choose the account and the service.
 * The host is exact (case-insensitive), or `*.suffix`, which matches a DNS
 * name ending in ".suffix" with at least one label before it, never an IP
 * address: "*.example.com" matches "web1.example.com" and
 * "a.b.example.com", not "example.com" nor "evil-example.com".
 */
#ifndef SVCCFG_H
#define SVCCFG_H
#include <stddef.h>
#include <sys/types.h>

#include "../common/xproto.h"

#define SVCCFG_MAX_FILE (1u << 20)

struct svccfg_dest {
	char *user, *host; /* host: exact, or the suffix after "*." when wild */
	int port;
	int wild;
};

struct svccfg_ident {
	char name[XPROTO_IDENTITY_MAX + 1];
	char *key;               /* as written: a path or cred:NAME */
	char *key_path;          /* resolved by svccfg_resolve */
	char *passphrase_ref;    /* NULL: the key has none */
	char *passphrase;        /* resolved by svccfg_resolve; wiped by svccfg_free */
	struct svccfg_dest *dests;
	size_t ndests;
};

struct svccfg {
	char *socket;            /* the Unix socket path */
	unsigned socket_mode;    /* its mode bits (default 0660) */
	uid_t *uids;             /* peers allowed (SO_PEERCRED) */
	size_t nuids;
	char *known_hosts;
	struct svccfg_ident *ids;
	size_t nids;
	int max_sessions;        /* pool.max_sessions_per_destination (default 4) */
	int idle_timeout_s;      /* pool.idle_timeout_s (default 300) */
	int keepalive_s;         /* pool.keepalive_s (default 15; 0: none) */
	int keepalive_max;       /* pool.keepalive_max (default 3) */
	int max_jobs;            /* jobs at once (default 64); more are answered busy */
	int drain_timeout_s;     /* SIGTERM: how long running jobs may finish (default 60) */
};

/* Parse the config text BUF (LEN bytes) into *OUT without touching any
 * file or variable it names. 0; -EINVAL with one line in ERR naming the
 * field; -ENOMEM. */
int svccfg_parse(const char *buf, size_t len, struct svccfg **out, char *err, size_t errlen);

/* Read PATH (at most SVCCFG_MAX_FILE), parse it, and resolve its secrets
 * (svccfg_resolve). 0, or a negative errno with ERR. */
int svccfg_load(const char *path, struct svccfg **out, char *err, size_t errlen);

/* Resolve every identity's key path (cred:NAME through
 * $CREDENTIALS_DIRECTORY) and passphrase reference. 0, or a negative errno
 * with ERR naming the identity. */
int svccfg_resolve(struct svccfg *c, char *err, size_t errlen);

/* Free C, wiping the passphrases. NULL is fine. */
void svccfg_free(struct svccfg *c);

/* The identity called NAME, or NULL. */
const struct svccfg_ident *svccfg_identity(const struct svccfg *c, const char *name);

/* 1 when ID may reach USER@HOST:PORT (see the header comment), else 0. */
int svccfg_allows(const struct svccfg_ident *id, const char *user, const char *host, int port);

/* 1 when a peer with UID may send jobs, else 0. */
int svccfg_uid_allowed(const struct svccfg *c, uid_t uid);
#endif
