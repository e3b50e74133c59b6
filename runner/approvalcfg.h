/*
 * approvalcfg.c — the configuration of approvals: the top-level "slack"
 * section (the Slack app's bot token and signing secret as secret
 * references, the Web API base URL, the call timeout) and a hook's
 * "approval" (channel, approvers and groups, N of M, expiry,
 * self-approval and the JWT claim naming the requester, extra fields of
 * the message), parsed and checked with errors that name the field, and
 * the checks across the whole config. Private to config.c and hookcfg.c.
 */
#ifndef APPROVALCFG_H
#define APPROVALCFG_H
#include <cjson/cJSON.h>

#include "cfgfield.h"
#include "cfgtypes.h"

#define APPROVALCFG_MAX_IDS 100     /* approvers, and groups */
#define APPROVALCFG_MAX_FIELDS 10
#define APPROVALCFG_FIELD_TEXT_MAX 500

/* The "slack" section O (NULL: absent, out->present = 0) into OUT. 0,
 * -ENOMEM, or -EINVAL with the error naming the field. */
int approvalcfg_slack(struct cfgfield_ctx *c, const cJSON *o, struct cfg_slack *out);

/* Hook H's "approval" O (at HP, e.g. "hooks[0]"; NULL: none), after its
 * jwt and job were parsed (the checks need them). 0, -ENOMEM, or -EINVAL. */
int approvalcfg_hook(struct cfgfield_ctx *c, const cJSON *o, const char *hp, struct cfg_hook *h);

/* What only the whole config shows: a hook's channel without a "slack"
 * section (a warning: approvals only with the CLI), a "slack" section
 * with an approval hook that has no channel (an error). 0 or -EINVAL. */
int approvalcfg_check(struct cfgfield_ctx *c, const struct config *cfg);

/* Release what they hold, wiping the secrets. Safe on zeroed ones. */
void approvalcfg_clear_hook(struct cfg_approval *ap);
void approvalcfg_clear_slack(struct cfg_slack *sl);
#endif
