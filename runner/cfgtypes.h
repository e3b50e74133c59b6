/*
 * cfgtypes.h — the configuration as the daemon holds it once loaded: the
 * server, store and executor settings (struct config) and each hook
 * (struct cfg_hook). The types alone, so that the loader's parts
 * (config.c, hookcfg.c, cfgfield.c) and every reader share them without
 * including each other. config.h is the interface that loads them.
 */
#ifndef CFGTYPES_H
#define CFGTYPES_H
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "template.h"
#include "verify_hmac.h"
#include "verify_jwt.h"

enum cfg_token_from { TOKEN_BEARER = 0, TOKEN_HEADER, TOKEN_QUERY };

/* One of approval.fields: a label and the text shown beside it. */
struct cfg_approval_field {
	char *label, *text;
};

/* A hook's "approval" (approvalcfg.c): who must approve before it runs. */
struct cfg_approval {
	int enabled;                /* the hook has an "approval" section */
	char *channel;              /* Slack channel id to post in, or NULL (CLI only) */
	char **users;               /* approvers: Slack user ids */
	size_t nusers;
	char **groups;              /* Slack user group ids (members resolved by the Slack side) */
	size_t ngroups;
	int required;               /* approve votes needed (N of M), >= 1 */
	int timeout_s;              /* pending longer than this: expired (denied, never run) */
	int allow_self;             /* the requester may approve their own request */
	char *requester_claim;      /* JWT claim holding the requester's Slack user id, or NULL */
	struct cfg_approval_field *fields; /* shown in the message */
	size_t nfields;
};

/* The top-level "slack" section (approvalcfg.c); present == 0 without one. */
struct cfg_slack {
	int present;
	char *bot_token;            /* resolved secret (xoxb-…) */
	char *signing_secret;       /* resolved secret: v0 request signatures */
	char *api_url;              /* Web API base, no trailing '/' (https://slack.com/api) */
	int timeout_ms;             /* one Web API call */
};

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
	struct cfg_approval approval; /* approval.enabled: held for people's approval first */
	/* executor.socket set: the service holds the keys and known_hosts */
	char *identity_name;        /* the service's identity to use (NULL in spawn mode) */
	int reuse;                  /* may share the service's warm session (default 1) */
};

/* store.url and the fields that go with it (storecfg.c): the shared
 * PostgreSQL store. */
struct cfg_store_pg {
	char *url;                  /* postgresql://..., without a password */
	char *password;             /* resolved store.password, or NULL */
	char *schema;
	int pool, lease_ms, heartbeat_ms, connect_timeout_s;
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
	int max_followers;          /* GET /jobs/<id>/output streams at a time (restart-only) */
	int follow_heartbeat_ms;    /* a comment line on a silent output stream this often */
	char *read_token;           /* resolved server.read_token, or NULL */
	char *metrics_token;        /* resolved server.metrics_token, or NULL: /metrics is open */
	char *store_path;
	struct cfg_store_pg *store_pg; /* store.url: PostgreSQL; NULL: the SQLite file store_path */
	int retention_days;
	char *executor_path;
	char *executor_socket;      /* executor.socket: jobs go through the remote-executor
				     * service there instead of a spawn; NULL: spawn mode */
	int max_jobs, max_per_destination;
	int max_queued;             /* async jobs waiting; beyond it 429 */
	int paused;                 /* executor.paused: async deliveries are queued, none started */
	enum log_level log_level;
	enum log_format log_format;
	struct cfg_slack slack;     /* the Slack app, for approvals */
	struct cfg_hook *hooks;
	size_t nhooks;
	char **warnings;            /* "field: what weakens the promise", for the operator */
	size_t nwarnings;
};
#endif
