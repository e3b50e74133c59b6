/*
 * slack_payload.c — what Slack sends the runner, parsed (prefix slackpl_).
 * Owns the bounded decoding of untrusted bytes from Slack, after the
 * signature verified:
 *  - an interaction (POST /slack/interactions): the form body
 *    "payload=<urlencoded JSON>" (decoded with query.c, as CivetWeb decodes
 *    form data), then the JSON (cJSON) into struct slackpl: its type
 *    (block_actions, view_submission, or another we acknowledge and ignore),
 *    who clicked, the button (action_id, value = the approval id), where to
 *    answer (response_url, trigger_id), the message (channel, ts), and for
 *    the deny-reason modal its private_metadata and the reason typed;
 *  - an event (POST /slack/events): JSON with url_verification's challenge,
 *    or an event_callback's event_id.
 * Every field is length-capped and checked for the characters Slack uses;
 * anything else is refused with a reason, never truncated.
 */
#ifndef SLACK_PAYLOAD_H
#define SLACK_PAYLOAD_H
#include <stddef.h>

#define SLACKPL_BODY_MAX (256 * 1024) /* an interaction or event body, raw */
#define SLACKPL_REASON_MAX 500        /* the deny reason, bytes: the store's STORE_REASON_MAX (the modal caps it too) */
#define SLACKPL_REASON_BLOCK "deny_reason" /* block_id and action_id of the modal's input */
#define SLACKPL_VIEW_CALLBACK "deny_reason" /* callback_id of the deny modal */

enum slackpl_type {
	SLACKPL_OTHER = 0,         /* a type we acknowledge and ignore */
	SLACKPL_BLOCK_ACTIONS,     /* a button was clicked */
	SLACKPL_VIEW_SUBMISSION,   /* a modal was submitted */
};

enum slackpl_reason {
	SLACKPL_OK = 0,
	SLACKPL_NO_PAYLOAD,    /* no "payload" form field */
	SLACKPL_TOO_LONG,      /* the body, or a field, is over its cap */
	SLACKPL_BAD_JSON,      /* not a JSON object (or not UTF-8, or a NUL inside) */
	SLACKPL_BAD_FIELD,     /* a field we need is absent, of the wrong type or characters */
	SLACKPL_BAD_URL,       /* response_url is not one we may post to */
	SLACKPL_ERROR,         /* no memory or a caller error */
	SLACKPL_NREASONS
};

/* One interaction. Strings are "" when Slack did not send them. */
struct slackpl {
	enum slackpl_type type;
	char type_name[32];         /* the "type" as sent */
	char user_id[32];           /* who clicked or submitted (U…, W…) */
	char team_id[32];
	char action_id[64];         /* block_actions: the first action's action_id */
	char value[64];             /* block_actions: its value (the approval id) */
	char response_url[512];     /* block_actions: where ephemeral replies go */
	char trigger_id[128];       /* for views.open */
	char channel_id[32];        /* block_actions: the message's channel */
	char message_ts[32];        /* block_actions: the message's ts */
	char callback_id[64];       /* view_submission */
	char private_metadata[128]; /* view_submission: what we put there (the approval id) */
	char reason[SLACKPL_REASON_MAX + 1]; /* view_submission: the reason typed, or "" */
};

/* Parse the interaction body BODY (LEN raw bytes, LEN <= SLACKPL_BODY_MAX)
 * into *OUT. A response_url must pass slackpl_response_url_ok with
 * API_URL. For block_actions, user, action_id and value are required; for
 * view_submission, user and private_metadata. Returns 0, -EINVAL when the
 * body is refused (*WHY says why; *OUT is then zeroed), -ENOMEM. */
int slackpl_parse(const char *body, size_t len, const char *api_url, struct slackpl *out,
    enum slackpl_reason *why);

/* 1 when URL is one the runner may POST an ephemeral reply to: under
 * "https://hooks.slack.com/", or under the origin (scheme://host[:port]/)
 * of the configured API_URL. The second is for a Slack that is not
 * slack.com (tests' fake Slack on loopback): the operator already trusts
 * that host with the bot token, so it adds no new destination. 0
 * otherwise, and for any URL with characters outside printable ASCII, or
 * with a '@' or '\' (which could move the host). */
int slackpl_response_url_ok(const char *url, const char *api_url);

enum slackpl_event_type {
	SLACKPL_EV_OTHER = 0,       /* any other type: acknowledged */
	SLACKPL_EV_URL_VERIFICATION,
	SLACKPL_EV_CALLBACK,        /* event_callback */
};

struct slackpl_event {
	enum slackpl_event_type type;
	char challenge[256];        /* url_verification */
	char event_id[64];          /* event_callback (Ev…) */
	char event_type[64];        /* event_callback: event.type */
};

/* Parse an Events API body (JSON, LEN <= SLACKPL_BODY_MAX) into *OUT. 0,
 * -EINVAL (refused, *WHY), -ENOMEM. url_verification needs a challenge of
 * printable ASCII; event_callback an event_id. */
int slackpl_event_parse(const char *body, size_t len, struct slackpl_event *out,
    enum slackpl_reason *why);

/* Stable name of a reason: "ok", "no_payload", "too_long", "bad_json",
 * "bad_field", "bad_url", "error". */
const char *slackpl_reason_name(enum slackpl_reason why);
#endif
