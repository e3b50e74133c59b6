/*
 * config.c — the daemon's configuration: one JSON file, read and validated
 * completely before anything starts (a bad file never half-starts). Owns
 * parsing (cJSON), defaults, strict validation with errors that name the
 * field (`hooks[0].jwt.algorithms: unknown algorithm "HS257"`), resolving
 * secret references (env:NAME, file:PATH, cred:NAME from
 * $CREDENTIALS_DIRECTORY; a literal secret is an error), and compiling each
 * hook's verifiers and command template. Unknown fields are errors, so a
 * typo is caught instead of silently ignored. Relative paths are taken from
 * the config file's directory. See config/README.md for every field.
 */
#ifndef CONFIG_H
#define CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "template.h"
#include "verify_hmac.h"
#include "verify_jwt.h"

enum cfg_token_from { TOKEN_BEARER = 0, TOKEN_HEADER, TOKEN_QUERY };

struct cfg_hook {
	char *id;
	enum vhmac_scheme scheme;
	struct vhmac_secret *secrets;
	size_t nsecrets;
	int tolerance_s;
	int has_jwt;
	struct vjwt_policy jwt;
	enum cfg_token_from token_from;
	char *token_name;           /* header or query parameter name */
	char **idem_headers;        /* standard-webhooks: only its signed webhook-id */
	size_t nidem;
	int dedupe_body;            /* the same body under a new key is the same delivery */
	/* job */
	char *destination;          /* user@host:port, as given to remote-executor */
	char *dest_key;             /* host:port, for the per-destination cap */
	char *identity, *known_hosts;
	char *passphrase;           /* resolved, or NULL */
	struct tmpl *tmpl;
	int64_t timeout_ms, connect_timeout_ms, handshake_timeout_ms;
	size_t max_output_bytes, output_tail_bytes;
	int response_output;        /* include the output tail in the answer */
	int async;                  /* mode "async": 202 + Location, run by the workers */
	int remote_timeout;         /* wrap the command in timeout(1) on the target */
};

struct config {
	char *path;
	char *listen_host;
	int port;
	char *ops_host;             /* server.ops_listen: /healthz and /metrics on their own
				     * threads; NULL when not set */
	int ops_port;
	char *tls_cert, *tls_key;
	size_t max_body_bytes;
	int request_timeout_ms;     /* a whole request, headers and body */
	int keepalive_timeout_ms;   /* idle before the next request on a kept-alive connection */
	int min_request_rate;       /* bytes/s a request must keep up after 1 s; 0: none */
	int threads;
	int drain_timeout_s;        /* SIGTERM: how long running jobs may finish */
	char *read_token;           /* resolved server.read_token, or NULL */
	char *metrics_token;        /* resolved server.metrics_token, or NULL: /metrics is open */
	char *store_path;
	int retention_days;
	char *executor_path;
	int max_jobs, max_per_destination;
	int max_queued;             /* async jobs waiting; beyond it 429 */
	enum log_level log_level;
	enum log_format log_format;
	struct cfg_hook *hooks;
	size_t nhooks;
	char **warnings;            /* "field: what weakens the promise", for the operator */
	size_t nwarnings;
};

/* Load and validate PATH. On error returns -EINVAL (or -errno for an
 * unreadable file) with a one-line message in ERR naming the field. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
/* Release C and everything it holds, wiping its secrets. NULL is fine. */
void config_free(struct config *c);
/* The hook whose id is ID, or NULL when C has none. */
const struct cfg_hook *config_hook(const struct config *c, const char *id);
#endif
