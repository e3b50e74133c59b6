/*
 * slack_msg.c — the Slack messages of an approval, as Web API request
 * bodies (JSON text, prefix slackmsg_). Owns their Block Kit shape and
 * keeping them within Block Kit's limits whatever the values: section text
 * at most SLACKMSG_TEXT_MAX bytes, at most SLACKMSG_BLOCKS_MAX blocks,
 * header text 150, button value 2000, ten fields a section of 2000 each; a
 * value that does not fit is cut at a UTF-8 boundary and ends with
 * SLACKMSG_CUT. Values from requests are shown as plain_text (never
 * mrkdwn: nothing a sender writes can format, link or mention) and made
 * valid UTF-8 (a bad byte becomes U+FFFD, a control character '?').
 *  - the approval message (chat.postMessage, then chat.update for each
 *    change): hook, rendered command, each parameter, requester,
 *    idempotency key, destination, expiry, the hook's extra fields, votes
 *    so far, and Approve / Deny buttons (action_id "approve" / "deny",
 *    value the approval id) while pending; after a decision who decided,
 *    how and when, and no buttons;
 *  - the job's outcome as a reply in the message's thread;
 *  - the deny-reason modal (views.open);
 *  - an ephemeral reply (response_url) telling a clicker why nothing
 *    changed.
 */
#ifndef SLACK_MSG_H
#define SLACK_MSG_H
#include <stddef.h>
#include <stdint.h>

#define SLACKMSG_TEXT_MAX 3000   /* a section's text */
#define SLACKMSG_FIELD_MAX 2000  /* one field of a section */
#define SLACKMSG_BLOCKS_MAX 50
#define SLACKMSG_VALUE_MAX 2000  /* a button's value */
#define SLACKMSG_HEADER_MAX 150
#define SLACKMSG_OUTPUT_MAX 2800 /* the output tail in the outcome reply */
#define SLACKMSG_CUT "\xe2\x80\xa6 (truncated)"

enum slackmsg_state {
	SLACKMSG_PENDING = 0,
	SLACKMSG_APPROVED,
	SLACKMSG_DENIED,
	SLACKMSG_EXPIRED,
};

struct slackmsg_kv {
	const char *name, *value;
};

/* An approval as the message shows it. NULL strings are shown as "-". */
struct slackmsg_approval {
	const char *id;              /* the approval id: the buttons' value */
	const char *hook;
	const char *command;         /* rendered, exactly as it will run */
	const struct slackmsg_kv *params;
	size_t nparams;
	const char *requester;
	const char *key;             /* idempotency key */
	const char *destination;     /* user@host */
	int64_t created_at, expires_at; /* unix s; 0: not shown */
	const struct slackmsg_kv *fields; /* the hook's extra fields */
	size_t nfields;
	int required;                /* approvals needed (N) */
	const char *const *approvers; /* Slack user ids who approved so far */
	size_t napprovers;
	enum slackmsg_state state;
	const char *decided_by;      /* who decided: a Slack user id, or an operator name */
	int decided_in_slack;        /* DECIDED_BY is a Slack user id (shown as a mention) */
	int64_t decided_at;
	const char *reason;          /* the deny reason, or NULL */
	const char *outcome;         /* the job's outcome once it ran ("succeeded, exit code 0"), or NULL */
};

/* The chat.postMessage body (TS NULL) or the chat.update body (TS the
 * message's ts) for approval A in CHANNEL: malloc'ed JSON text in *OUT.
 * 0, -EINVAL (no id, hook or channel; an id over SLACKMSG_VALUE_MAX),
 * -ENOMEM. */
int slackmsg_approval(const struct slackmsg_approval *a, const char *channel, const char *ts,
    char **out);

/* The outcome reply in the thread THREAD_TS of CHANNEL: STATUS (a job
 * state's name), EXIT_CODE (< 0: none), DURATION_MS (< 0: none), and the
 * last bytes of OUTPUT (LEN bytes, may be NULL). 0, -EINVAL, -ENOMEM. */
int slackmsg_outcome(const char *channel, const char *thread_ts, const char *hook,
    const char *status, int exit_code, int64_t duration_ms, const char *output, size_t len,
    char **out);

/* The views.open body of the deny-reason modal for approval ID, opened with
 * TRIGGER_ID. Its input's block_id and action_id are
 * SLACKPL_REASON_BLOCK, its callback_id SLACKPL_VIEW_CALLBACK,
 * private_metadata ID. 0, -EINVAL, -ENOMEM. */
int slackmsg_deny_modal(const char *trigger_id, const char *id, const char *hook, char **out);

/* An ephemeral reply with TEXT (plain, cut to SLACKMSG_TEXT_MAX) that
 * leaves the original message as it is. 0, -EINVAL, -ENOMEM. */
int slackmsg_ephemeral(const char *text, char **out);

/* A copy of S (LEN bytes) as valid UTF-8 without control characters but
 * '\n' and '\t', at most MAX bytes: when it is longer, cut at a character
 * boundary and ended with SLACKMSG_CUT (TAIL: the last bytes are kept and
 * the marker leads instead). NULL on no memory. MAX must exceed the
 * marker's length. */
char *slackmsg_fit(const char *s, size_t len, size_t max, int tail);
#endif
