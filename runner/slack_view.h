/*
 * slack_view.c — an approval as its Slack message shows it (prefix
 * slackview_). Owns gathering what the message says from where it lives:
 * the approval and its votes (store), the hook (config: destination,
 * required, extra fields), and the delivery (store) rendered exactly as
 * the job will run it (dispatch_preview: the command and each parameter's
 * value), then slack_msg.c's JSON.
 */
#ifndef SLACK_VIEW_H
#define SLACK_VIEW_H
#include "config.h"
#include "store.h"

/* The chat.postMessage body (A has no message_ts yet) or the chat.update
 * body for approval A (with its votes) under CFG, reading its delivery from
 * ST. OUTCOME (or NULL): the job's outcome, once it ran. A hook gone from
 * the config, or a delivery that no longer renders, is shown as such, never
 * refused. 0 with *OUT malloc'ed, -EINVAL (A has no channel), -ENOMEM. */
int slackview_message(const struct config *cfg, struct store *st, const struct store_approval *a,
    const char *outcome, char **out);
#endif
