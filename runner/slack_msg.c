/*
 * slack_msg.c — the Slack messages of an approval (contract in slack_msg.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "slack_msg.h"
#include "slack_payload.h"

#define FIELDS_PER_SECTION 10

/* Length of the well-formed UTF-8 sequence at P (N bytes left), or 0. */
static size_t seq_len(const unsigned char *p, size_t n)
{
	size_t k, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

/* S made clean (see slackmsg_fit), without a length cap. */
static char *clean(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, j = 0, k;
	char *d;

	if (len > (SIZE_MAX - 1) / 3 || !(d = malloc(3 * len + 1)))
		return NULL;
	while (i < len) {
		k = seq_len(p + i, len - i);
		if (k == 0) {
			memcpy(d + j, "\xef\xbf\xbd", 3);
			j += 3;
			i++;
		} else if (k == 1 && ((p[i] < ' ' && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)) {
			d[j++] = '?';
			i++;
		} else {
			memcpy(d + j, p + i, k);
			j += k;
			i += k;
		}
	}
	d[j] = '\0';
	*outlen = j;
	return d;
}

/* The first boundary at or after I in the clean string D. */
static size_t boundary_up(const char *d, size_t i)
{
	while (((unsigned char)d[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/* The last boundary at or before I. */
static size_t boundary_down(const char *d, size_t i)
{
	while (i > 0 && ((unsigned char)d[i] & 0xc0) == 0x80)
		i--;
	return i;
}

char *slackmsg_fit(const char *s, size_t len, size_t max, int tail)
{
	static const char cut[] = SLACKMSG_CUT;
	size_t n = 0, keep, from;
	char *d, *r;

	if (max < sizeof cut)
		return NULL;
	if (!s)
		s = "", len = 0;
	if (!(d = clean(s, len, &n)))
		return NULL;
	if (n <= max)
		return d;
	keep = max - (sizeof cut - 1) - (tail ? 1 : 0);
	if (!(r = malloc(max + 1))) {
		free(d);
		return NULL;
	}
	if (tail) {
		from = boundary_up(d, n - keep);
		memcpy(r, cut, sizeof cut - 1);
		r[sizeof cut - 1] = '\n';
		memcpy(r + sizeof cut, d + from, n - from + 1);
	} else {
		keep = boundary_down(d, keep);
		memcpy(r, d, keep);
		memcpy(r + keep, cut, sizeof cut);
	}
	free(d);
	return r;
}

static char *fit_str(const char *s, size_t max)
{
	return slackmsg_fit(s ? s : "-", strlen(s ? s : "-"), max, 0);
}

/* A text object {"type": TYPE, "text": S cut to MAX} added to OBJ as KEY
 * (or to the array OBJ when KEY is NULL). */
static int add_text(cJSON *obj, const char *key, const char *type, const char *s, size_t max)
{
	cJSON *t = cJSON_CreateObject();
	char *f = fit_str(s, max);
	int ok;

	ok = t && f && cJSON_AddStringToObject(t, "type", type) &&
	    cJSON_AddStringToObject(t, "text", f) &&
	    (!strcmp(type, "mrkdwn") || cJSON_AddFalseToObject(t, "emoji"));
	free(f);
	if (ok && (key ? cJSON_AddItemToObject(obj, key, t) : cJSON_AddItemToArray(obj, t)))
		return 0;
	cJSON_Delete(t);
	return -ENOMEM;
}

static cJSON *block(cJSON *blocks, const char *type)
{
	cJSON *b;

	if (cJSON_GetArraySize(blocks) >= SLACKMSG_BLOCKS_MAX)
		return NULL;
	if (!(b = cJSON_CreateObject()) || !cJSON_AddStringToObject(b, "type", type) ||
	    !cJSON_AddItemToArray(blocks, b)) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* A section with plain TEXT. */
static int section(cJSON *blocks, const char *type, const char *text)
{
	cJSON *b = block(blocks, "section");

	return b ? add_text(b, "text", type, text, SLACKMSG_TEXT_MAX) : -ENOMEM;
}

static void when(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "-");
}

/* Growable text for a section, cut at the end by slackmsg_fit. */
struct buf {
	char *p;
	size_t n, cap;
	int oom;
};

static void put(struct buf *b, const char *s)
{
	size_t k = strlen(s ? s : "-");

	if (b->oom)
		return;
	if (b->n + k + 1 > b->cap) {
		size_t cap = (b->n + k + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s ? s : "-", k + 1);
	b->n += k;
}

/* A section of plain text from B (consumed). */
static int section_buf(cJSON *blocks, struct buf *b)
{
	int rc = b->oom ? -ENOMEM : section(blocks, "plain_text", b->p ? b->p : "-");

	free(b->p);
	memset(b, 0, sizeof *b);
	return rc;
}

/* "Name: value" fields, ten to a section. */
static int field_sections(cJSON *blocks, const struct slackmsg_kv *kv, size_t n)
{
	cJSON *b = NULL, *fields = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		struct buf t = { 0 };
		int rc;
		if (i % FIELDS_PER_SECTION == 0) {
			if (!(b = block(blocks, "section")) ||
			    !(fields = cJSON_AddArrayToObject(b, "fields")))
				return -ENOMEM;
		}
		put(&t, kv[i].name);
		put(&t, ": ");
		put(&t, kv[i].value);
		rc = t.oom ? -ENOMEM : add_text(fields, NULL, "plain_text", t.p, SLACKMSG_FIELD_MAX);
		free(t.p);
		if (rc)
			return rc;
	}
	return 0;
}

static int button(cJSON *els, const char *action, const char *label, const char *style,
    const char *value)
{
	cJSON *b = cJSON_CreateObject();

	if (!b || !cJSON_AddItemToArray(els, b))
		goto fail;
	if (!cJSON_AddStringToObject(b, "type", "button") ||
	    !cJSON_AddStringToObject(b, "action_id", action) ||
	    add_text(b, "text", "plain_text", label, 75) ||
	    !cJSON_AddStringToObject(b, "style", style) ||
	    !cJSON_AddStringToObject(b, "value", value))
		return -ENOMEM;
	return 0;
fail:
	cJSON_Delete(b);
	return -ENOMEM;
}

static const char *state_word(enum slackmsg_state s)
{
	switch (s) {
	case SLACKMSG_APPROVED: return "Approved";
	case SLACKMSG_DENIED: return "Denied";
	case SLACKMSG_EXPIRED: return "Expired";
	default: return "Approval needed";
	}
}

/* Who approved so far and who decided, as mrkdwn (only ids we checked and
 * our own words: Slack user ids are [A-Z0-9], mentions are <@id>). */
static int decision_block(cJSON *blocks, const struct slackmsg_approval *a)
{
	struct buf t = { 0 };
	char at[40], num[64];
	size_t i;
	int rc;

	snprintf(num, sizeof num, "%zu of %d approval%s", a->napprovers, a->required,
	    a->required == 1 ? "" : "s");
	put(&t, num);
	for (i = 0; i < a->napprovers; i++) {
		put(&t, i ? ", " : ": ");
		put(&t, "<@");
		put(&t, a->approvers[i]);
		put(&t, ">");
	}
	if (a->state != SLACKMSG_PENDING) {
		when(a->decided_at, at, sizeof at);
		put(&t, "\n*");
		put(&t, state_word(a->state));
		put(&t, "*");
		if (a->state == SLACKMSG_EXPIRED) {
			put(&t, " (nobody decided in time)");
		} else if (a->decided_by && a->decided_in_slack) {
			put(&t, " by <@");
			put(&t, a->decided_by);
			put(&t, ">");
		} else {
			put(&t, " from the command line");
		}
		put(&t, " at ");
		put(&t, at);
	}
	rc = t.oom ? -ENOMEM : section(blocks, "mrkdwn", t.p);
	free(t.p);
	if (rc || a->state == SLACKMSG_PENDING)
		return rc;
	memset(&t, 0, sizeof t);
	if (!a->decided_in_slack && a->decided_by) { /* an operator's name: plain text */
		put(&t, "Decided by ");
		put(&t, a->decided_by);
	}
	if (a->state == SLACKMSG_DENIED && a->reason && a->reason[0]) {
		put(&t, t.n ? "\nReason: " : "Reason: ");
		put(&t, a->reason);
	}
	if (a->state == SLACKMSG_APPROVED && a->outcome && a->outcome[0]) {
		put(&t, t.n ? "\nJob " : "Job ");
		put(&t, a->outcome);
	}
	if (!t.n && !t.oom)
		return 0;
	return section_buf(blocks, &t);
}

static int plain_id(const char *s)
{
	for (; s && *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int approval_blocks(cJSON *blocks, const struct slackmsg_approval *a)
{
	struct buf t = { 0 };
	char exp[40], made[40], head[SLACKMSG_HEADER_MAX + 1];
	cJSON *b, *els;
	size_t i;
	int rc;

	snprintf(head, sizeof head, "%s: %s", state_word(a->state), a->hook);
	if (!(b = block(blocks, "header")) ||
	    add_text(b, "text", "plain_text", head, SLACKMSG_HEADER_MAX))
		return -ENOMEM;
	when(a->expires_at, exp, sizeof exp);
	when(a->created_at, made, sizeof made);
	put(&t, "Hook: "); put(&t, a->hook);
	put(&t, "\nRequester: "); put(&t, a->requester);
	put(&t, "\nDestination: "); put(&t, a->destination);
	put(&t, "\nIdempotency key: "); put(&t, a->key);
	put(&t, "\nRequested: "); put(&t, made);
	put(&t, "\nExpires: "); put(&t, exp);
	put(&t, "\nApproval id: "); put(&t, a->id);
	if ((rc = section_buf(blocks, &t)))
		return rc;
	put(&t, "Command:\n");
	put(&t, a->command);
	if ((rc = section_buf(blocks, &t)))
		return rc;
	if (a->nparams) {
		put(&t, "Parameters:");
		for (i = 0; i < a->nparams; i++) {
			put(&t, "\n");
			put(&t, a->params[i].name);
			put(&t, " = ");
			put(&t, a->params[i].value);
		}
		if ((rc = section_buf(blocks, &t)))
			return rc;
	}
	/* the extra fields may use the blocks left but the two below */
	if (a->nfields) {
		size_t room = (size_t)(SLACKMSG_BLOCKS_MAX - 2 - cJSON_GetArraySize(blocks));
		size_t n = a->nfields;
		if (n > room * FIELDS_PER_SECTION)
			n = room * FIELDS_PER_SECTION;
		if ((rc = field_sections(blocks, a->fields, n)))
			return rc;
	}
	if ((rc = decision_block(blocks, a)))
		return rc;
	if (a->state != SLACKMSG_PENDING)
		return 0;
	if (!(b = block(blocks, "actions")) || !cJSON_AddStringToObject(b, "block_id", "decide") ||
	    !(els = cJSON_AddArrayToObject(b, "elements")))
		return -ENOMEM;
	if ((rc = button(els, "approve", "Approve", "primary", a->id)) ||
	    (rc = button(els, "deny", "Deny", "danger", a->id)))
		return rc;
	return 0;
}

/* Print J into *OUT and free it. */
static int finish(cJSON *j, int rc, char **out)
{
	char *s = NULL;

	if (!rc && !(s = cJSON_PrintUnformatted(j)))
		rc = -ENOMEM;
	cJSON_Delete(j);
	if (!rc)
		*out = s;
	return rc;
}

int slackmsg_approval(const struct slackmsg_approval *a, const char *channel, const char *ts,
    char **out)
{
	char fallback[256];
	cJSON *j = NULL, *blocks;
	size_t i;
	int rc = -EINVAL;

	if (!a || !a->id || !a->hook || !channel || !out || strlen(a->id) > SLACKMSG_VALUE_MAX ||
	    (a->decided_in_slack && !plain_id(a->decided_by)))
		return -EINVAL;
	for (i = 0; i < a->napprovers; i++)
		if (!plain_id(a->approvers[i]))
			return -EINVAL;
	rc = -ENOMEM;
	snprintf(fallback, sizeof fallback, "%s: %.100s (approval %.64s)", state_word(a->state),
	    a->hook, a->id);
	if (!(j = cJSON_CreateObject()) || !cJSON_AddStringToObject(j, "channel", channel) ||
	    (ts && !cJSON_AddStringToObject(j, "ts", ts)) ||
	    !(blocks = cJSON_AddArrayToObject(j, "blocks")))
		goto out;
	{
		char *f = fit_str(fallback, sizeof fallback);
		int ok = f && cJSON_AddStringToObject(j, "text", f);
		free(f);
		if (!ok)
			goto out;
	}
	rc = approval_blocks(blocks, a);
out:
	return finish(j, rc, out);
}

int slackmsg_outcome(const char *channel, const char *thread_ts, const char *hook,
    const char *status, int exit_code, int64_t duration_ms, const char *output, size_t len,
    char **out)
{
	struct buf t = { 0 };
	cJSON *j = NULL, *blocks;
	char num[96];
	int rc = -EINVAL;

	if (!channel || !thread_ts || !status || !out)
		return -EINVAL;
	rc = -ENOMEM;
	put(&t, "Job ");
	put(&t, status);
	if (exit_code >= 0) {
		snprintf(num, sizeof num, ", exit code %d", exit_code);
		put(&t, num);
	}
	if (duration_ms >= 0) {
		snprintf(num, sizeof num, ", %" PRId64 ".%03" PRId64 " s", duration_ms / 1000,
		    duration_ms % 1000);
		put(&t, num);
	}
	put(&t, " (");
	put(&t, hook);
	put(&t, ")");
	if (t.oom || !(j = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(j, "channel", channel) ||
	    !cJSON_AddStringToObject(j, "thread_ts", thread_ts) ||
	    !(blocks = cJSON_AddArrayToObject(j, "blocks")))
		goto out;
	{
		char *f = fit_str(t.p, SLACKMSG_TEXT_MAX);
		int ok = f && cJSON_AddStringToObject(j, "text", f);
		free(f);
		if (!ok || section(blocks, "plain_text", t.p))
			goto out;
	}
	if (output && len) {
		char *tail = slackmsg_fit(output, len, SLACKMSG_OUTPUT_MAX, 1);
		struct buf o = { 0 };
		put(&o, "Output (last lines):\n");
		put(&o, tail);
		free(tail);
		if (!tail || section_buf(blocks, &o))
			goto out;
	}
	rc = 0;
out:
	free(t.p);
	return finish(j, rc, out);
}

int slackmsg_deny_modal(const char *trigger_id, const char *id, const char *hook, char **out)
{
	cJSON *j = NULL, *v, *blocks, *in, *el;
	char label[200];
	int rc = -EINVAL;

	if (!trigger_id || !id || !out || strlen(id) >= sizeof ((struct slackpl *)0)->private_metadata)
		return -EINVAL;
	rc = -ENOMEM;
	snprintf(label, sizeof label, "Why deny %.150s? (optional)", hook ? hook : "this job");
	if (!(j = cJSON_CreateObject()) || !cJSON_AddStringToObject(j, "trigger_id", trigger_id) ||
	    !(v = cJSON_AddObjectToObject(j, "view")) ||
	    !cJSON_AddStringToObject(v, "type", "modal") ||
	    !cJSON_AddStringToObject(v, "callback_id", SLACKPL_VIEW_CALLBACK) ||
	    !cJSON_AddStringToObject(v, "private_metadata", id) ||
	    add_text(v, "title", "plain_text", "Deny the job", 24) ||
	    add_text(v, "submit", "plain_text", "Deny", 24) ||
	    add_text(v, "close", "plain_text", "Cancel", 24) ||
	    !(blocks = cJSON_AddArrayToObject(v, "blocks")) || !(in = block(blocks, "input")) ||
	    !cJSON_AddStringToObject(in, "block_id", SLACKPL_REASON_BLOCK) ||
	    !cJSON_AddTrueToObject(in, "optional") ||
	    add_text(in, "label", "plain_text", label, 2000) ||
	    !(el = cJSON_AddObjectToObject(in, "element")) ||
	    !cJSON_AddStringToObject(el, "type", "plain_text_input") ||
	    !cJSON_AddStringToObject(el, "action_id", SLACKPL_REASON_BLOCK) ||
	    !cJSON_AddTrueToObject(el, "multiline") ||
	    !cJSON_AddNumberToObject(el, "max_length", SLACKPL_REASON_MAX))
		goto out;
	rc = 0;
out:
	return finish(j, rc, out);
}

int slackmsg_ephemeral(const char *text, char **out)
{
	cJSON *j = NULL;
	char *f = NULL;
	int rc = -EINVAL;

	if (!text || !out)
		return -EINVAL;
	rc = -ENOMEM;
	if (!(f = fit_str(text, SLACKMSG_TEXT_MAX)) || !(j = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(j, "response_type", "ephemeral") ||
	    !cJSON_AddFalseToObject(j, "replace_original") ||
	    !cJSON_AddStringToObject(j, "text", f))
		goto out;
	rc = 0;
out:
	free(f);
	return finish(j, rc, out);
}
