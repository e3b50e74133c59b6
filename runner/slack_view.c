/*
 * slack_view.c — an approval as its Slack message shows it (contract in
 * slack_view.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "slack_msg.h"
#include "slack_view.h"

static enum slackmsg_state state_of(enum store_approval_state s)
{
	switch (s) {
	case STORE_APPROVAL_APPROVED: return SLACKMSG_APPROVED;
	case STORE_APPROVAL_DENIED: return SLACKMSG_DENIED;
	case STORE_APPROVAL_EXPIRED: return SLACKMSG_EXPIRED;
	default: return SLACKMSG_PENDING;
	}
}

int slackview_message(const struct config *cfg, struct store *st, const struct store_approval *a,
    const char *outcome, char **out)
{
	struct slackmsg_approval m = { 0 };
	struct dispatch_meta dm = { 0 };
	struct tmpl_value *vals = NULL;
	struct slackmsg_kv *kv = NULL, *fields = NULL;
	const struct cfg_hook *h = NULL;
	const char **approvers = NULL;
	char *body = NULL, *meta = NULL, *cmd = NULL, err[300], failed[400];
	size_t len = 0, nvals = 0, i, k;
	int rc = -EINVAL, have_meta = 0;

	if (!a || !a->channel[0] || !out)
		return -EINVAL;
	rc = -ENOMEM;
	if (cfg)
		h = config_hook(cfg, a->hook);
	if (!h) {
		snprintf(failed, sizeof failed, "(the hook %s is no longer in the configuration)", a->hook);
	} else if (store_delivery_get(st, a->hook, a->key, &body, &len, &meta) != 0) {
		snprintf(failed, sizeof failed, "(the delivery is no longer in the store)");
	} else if (dispatch_meta_parse(meta ? meta : "{}", &dm) != 0) {
		snprintf(failed, sizeof failed, "(the delivery's metadata cannot be read)");
	} else {
		have_meta = 1;
		err[0] = '\0';
		if (dispatch_preview(h, body, len, dm.claims, &dm.headers, &cmd, &vals, &nvals, err,
			sizeof err) != 0)
			snprintf(failed, sizeof failed, "(it does not render: %s)", err);
	}
	if (nvals && !(kv = calloc(nvals, sizeof *kv)))
		goto out;
	for (i = 0; i < nvals; i++) {
		kv[i].name = vals[i].name;
		kv[i].value = vals[i].value;
	}
	if (h && h->approval.nfields && !(fields = calloc(h->approval.nfields, sizeof *fields)))
		goto out;
	for (i = 0; h && i < h->approval.nfields; i++) {
		fields[i].name = h->approval.fields[i].label;
		fields[i].value = h->approval.fields[i].text;
	}
	if (a->nvotes && !(approvers = calloc(a->nvotes, sizeof *approvers)))
		goto out;
	for (i = k = 0; i < a->nvotes; i++)
		if (a->votes[i].decision == STORE_VOTE_APPROVE && a->votes[i].source == STORE_VOTE_SLACK)
			approvers[k++] = a->votes[i].voter;
	m.id = a->id;
	m.hook = a->hook;
	m.command = cmd ? cmd : failed;
	m.params = kv;
	m.nparams = nvals;
	m.requester = a->requester[0] ? a->requester : "unknown";
	m.key = a->key;
	m.destination = h ? h->destination : "-";
	m.created_at = a->created_ms / 1000;
	m.expires_at = a->expires_ms / 1000;
	m.fields = fields;
	m.nfields = h ? h->approval.nfields : 0;
	m.required = a->required;
	m.approvers = approvers;
	m.napprovers = k;
	m.state = state_of(a->state);
	m.decided_by = a->decided_by[0] ? a->decided_by : NULL;
	/* a Slack voter's id is shown as a mention; a CLI operator's name as text */
	m.decided_in_slack = 0;
	for (i = 0; m.decided_by && i < a->nvotes; i++)
		if (!strcmp(a->votes[i].voter, a->decided_by) && a->votes[i].source == STORE_VOTE_SLACK)
			m.decided_in_slack = 1;
	m.decided_at = a->decided_ms / 1000;
	m.reason = a->reason[0] ? a->reason : NULL;
	m.outcome = outcome;
	rc = slackmsg_approval(&m, a->channel, a->message_ts[0] ? a->message_ts : NULL, out);
	if (rc == -EINVAL) { /* a voter id Slack would not mention: show it as text */
		m.decided_in_slack = 0;
		m.napprovers = 0;
		rc = slackmsg_approval(&m, a->channel, a->message_ts[0] ? a->message_ts : NULL, out);
	}
out:
	free(approvers);
	free(fields);
	free(kv);
	tmpl_values_free(vals, nvals);
	free(cmd);
	if (have_meta)
		dispatch_meta_clear(&dm);
	free(body);
	free(meta);
	return rc;
}
