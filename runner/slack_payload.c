/*
 * slack_payload.c — what Slack sends the runner, parsed (contract in
 * slack_payload.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "query.h"
#include "slack_payload.h"
#include "utf8.h"

static const char *const reason_names[SLACKPL_NREASONS] = {
	[SLACKPL_OK] = "ok",
	[SLACKPL_NO_PAYLOAD] = "no_payload",
	[SLACKPL_TOO_LONG] = "too_long",
	[SLACKPL_BAD_JSON] = "bad_json",
	[SLACKPL_BAD_FIELD] = "bad_field",
	[SLACKPL_BAD_URL] = "bad_url",
	[SLACKPL_ERROR] = "error",
};

const char *slackpl_reason_name(enum slackpl_reason why)
{
	if ((unsigned)why >= SLACKPL_NREASONS)
		return "error";
	return reason_names[why];
}

/* Character classes a field may hold. */
enum cls {
	CLS_ID,    /* Slack ids and our approval ids: A-Z a-z 0-9 _ - . : */
	CLS_PRINT, /* printable ASCII, no space (URLs, trigger ids, challenges) */
	CLS_TEXT,  /* any UTF-8 but control characters other than \n and \t */
};

static int cls_ok(const char *s, enum cls c)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		switch (c) {
		case CLS_ID:
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' ||
			    *p == ':'))
				return 0;
			break;
		case CLS_PRINT:
			if (*p <= ' ' || *p >= 0x7f)
				return 0;
			break;
		case CLS_TEXT:
			if ((*p < ' ' && *p != '\n' && *p != '\t') || *p == 0x7f)
				return 0;
			break;
		}
	}
	return c != CLS_TEXT || utf8_valid(s);
}

/* Copy the string at PATH (NULL-terminated list of keys) under OBJ into
 * DST. Absent or JSON null: "" and 0 unless REQUIRED. A non-string, one
 * over DSTLEN - 1 bytes or with characters outside CLS: -EINVAL with *WHY. */
static int take(const cJSON *obj, const char *const *path, char *dst, size_t dstlen,
    enum cls c, int required, enum slackpl_reason *why)
{
	const cJSON *it = obj;
	size_t n;

	dst[0] = '\0';
	for (; *path && it; path++)
		it = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, *path) : NULL;
	if (!it || cJSON_IsNull(it)) {
		if (!required)
			return 0;
		*why = SLACKPL_BAD_FIELD;
		return -EINVAL;
	}
	if (!cJSON_IsString(it) || !it->valuestring) {
		*why = SLACKPL_BAD_FIELD;
		return -EINVAL;
	}
	n = strlen(it->valuestring);
	if (n >= dstlen) {
		*why = SLACKPL_TOO_LONG;
		return -EINVAL;
	}
	if ((required && n == 0) || !cls_ok(it->valuestring, c)) {
		*why = SLACKPL_BAD_FIELD;
		return -EINVAL;
	}
	memcpy(dst, it->valuestring, n + 1);
	return 0;
}

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The origin of URL: its length up to (not including) the '/' after the
 * host, or 0 when URL is not http(s)://host… */
static size_t origin_len(const char *url)
{
	const char *host, *h;

	if (!strncmp(url, "https://", 8))
		host = url + 8;
	else if (!strncmp(url, "http://", 7))
		host = url + 7;
	else
		return 0;
	h = host + strcspn(host, "/?#");
	return h > host ? (size_t)(h - url) : 0;
}

int slackpl_response_url_ok(const char *url, const char *api_url)
{
	static const char slack[] = "https://hooks.slack.com/";
	size_t n;

	if (!url || !cls_ok(url, CLS_PRINT) || strpbrk(url, "@\\"))
		return 0;
	if (!strncmp(url, slack, sizeof slack - 1) && url[sizeof slack - 1])
		return 1;
	if (!api_url || strpbrk(api_url, "@\\") || !(n = origin_len(api_url)))
		return 0;
	return !strncmp(url, api_url, n) && url[n] == '/';
}

/* The LEN bytes at S as a JSON object: a NUL inside, invalid UTF-8 or
 * anything but an object refused. */
static int parse_json(const char *s, size_t len, cJSON **out, enum slackpl_reason *why)
{
	cJSON *j = NULL;
	char *c = NULL;
	int rc = -ENOMEM;

	*why = SLACKPL_ERROR;
	if (len && !(c = malloc(len + 1)))
		goto out;
	rc = -EINVAL;
	*why = SLACKPL_BAD_JSON;
	if (len == 0 || memchr(s, '\0', len))
		goto out;
	memcpy(c, s, len);
	c[len] = '\0';
	if (!utf8_valid(c) || !(j = cJSON_ParseWithLength(c, len)) || !cJSON_IsObject(j))
		goto out;
	*out = j;
	j = NULL;
	rc = 0;
out:
	cJSON_Delete(j);
	free(c);
	return rc;
}

static int block_actions(const cJSON *j, const char *api_url, struct slackpl *o,
    enum slackpl_reason *why)
{
	const cJSON *acts = cJSON_GetObjectItemCaseSensitive(j, "actions"), *a;

	*why = SLACKPL_BAD_FIELD;
	if (!cJSON_IsArray(acts) || !(a = cJSON_GetArrayItem(acts, 0)))
		return -EINVAL;
	if (take(a, P("action_id"), o->action_id, sizeof o->action_id, CLS_ID, 1, why) ||
	    take(a, P("value"), o->value, sizeof o->value, CLS_ID, 1, why) ||
	    take(j, P("response_url"), o->response_url, sizeof o->response_url, CLS_PRINT, 0, why) ||
	    take(j, P("container", "channel_id"), o->channel_id, sizeof o->channel_id, CLS_ID, 0, why) ||
	    take(j, P("container", "message_ts"), o->message_ts, sizeof o->message_ts, CLS_ID, 0, why))
		return -EINVAL;
	if (!o->channel_id[0] &&
	    take(j, P("channel", "id"), o->channel_id, sizeof o->channel_id, CLS_ID, 0, why))
		return -EINVAL;
	if (!o->message_ts[0] &&
	    take(j, P("message", "ts"), o->message_ts, sizeof o->message_ts, CLS_ID, 0, why))
		return -EINVAL;
	if (o->response_url[0] && !slackpl_response_url_ok(o->response_url, api_url)) {
		*why = SLACKPL_BAD_URL;
		return -EINVAL;
	}
	return 0;
}

static int view_submission(const cJSON *j, struct slackpl *o, enum slackpl_reason *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "view");

	*why = SLACKPL_BAD_FIELD;
	if (!cJSON_IsObject(v))
		return -EINVAL;
	return take(v, P("callback_id"), o->callback_id, sizeof o->callback_id, CLS_ID, 0, why) ||
	    take(v, P("private_metadata"), o->private_metadata, sizeof o->private_metadata,
		CLS_ID, 1, why) ||
	    take(v, P("state", "values", SLACKPL_REASON_BLOCK, SLACKPL_REASON_BLOCK, "value"),
		o->reason, sizeof o->reason, CLS_TEXT, 0, why) ? -EINVAL : 0;
}

int slackpl_parse(const char *body, size_t len, const char *api_url, struct slackpl *out,
    enum slackpl_reason *why)
{
	enum slackpl_reason r = SLACKPL_ERROR;
	cJSON *j = NULL;
	char *buf = NULL;
	size_t n = 0;
	int rc = -EINVAL;

	if (!out || (!body && len))
		goto out;
	memset(out, 0, sizeof *out);
	r = SLACKPL_TOO_LONG;
	if (len > SLACKPL_BODY_MAX)
		goto out;
	rc = -ENOMEM;
	r = SLACKPL_ERROR;
	if (!(buf = malloc(len + 1)))
		goto out;
	rc = query_param(body, len, "payload", buf, len + 1, &n);
	if (rc) { /* decoding only shrinks: -ERANGE cannot happen */
		r = SLACKPL_NO_PAYLOAD;
		rc = -EINVAL;
		goto out;
	}
	if ((rc = parse_json(buf, n, &j, &r)))
		goto out;
	if ((rc = take(j, P("type"), out->type_name, sizeof out->type_name, CLS_ID, 1, &r)))
		goto out;
	if ((rc = take(j, P("user", "id"), out->user_id, sizeof out->user_id, CLS_ID, 0, &r)) ||
	    (rc = take(j, P("user", "team_id"), out->team_id, sizeof out->team_id, CLS_ID, 0, &r)) ||
	    (rc = take(j, P("trigger_id"), out->trigger_id, sizeof out->trigger_id, CLS_PRINT, 0, &r)))
		goto out;
	if (!strcmp(out->type_name, "block_actions")) {
		out->type = SLACKPL_BLOCK_ACTIONS;
		rc = block_actions(j, api_url, out, &r);
	} else if (!strcmp(out->type_name, "view_submission")) {
		out->type = SLACKPL_VIEW_SUBMISSION;
		rc = view_submission(j, out, &r);
	}
	if (!rc && out->type != SLACKPL_OTHER && !out->user_id[0]) {
		r = SLACKPL_BAD_FIELD;
		rc = -EINVAL;
	}
	if (rc)
		goto out;
	r = SLACKPL_OK;
out:
	if (rc && out)
		memset(out, 0, sizeof *out);
	if (buf) {
		explicit_bzero(buf, len + 1);
		free(buf);
	}
	cJSON_Delete(j);
	if (why)
		*why = r;
	return rc;
}

int slackpl_event_parse(const char *body, size_t len, struct slackpl_event *out,
    enum slackpl_reason *why)
{
	enum slackpl_reason r = SLACKPL_ERROR;
	char type[64];
	cJSON *j = NULL;
	int rc = -EINVAL;

	if (!out || (!body && len))
		goto out;
	memset(out, 0, sizeof *out);
	r = SLACKPL_TOO_LONG;
	if (len > SLACKPL_BODY_MAX)
		goto out;
	if ((rc = parse_json(body, len, &j, &r)) ||
	    (rc = take(j, P("type"), type, sizeof type, CLS_ID, 1, &r)))
		goto out;
	if (!strcmp(type, "url_verification")) {
		out->type = SLACKPL_EV_URL_VERIFICATION;
		rc = take(j, P("challenge"), out->challenge, sizeof out->challenge, CLS_PRINT, 1, &r);
	} else if (!strcmp(type, "event_callback")) {
		out->type = SLACKPL_EV_CALLBACK;
		if (!(rc = take(j, P("event_id"), out->event_id, sizeof out->event_id, CLS_ID, 1, &r)))
			rc = take(j, P("event", "type"), out->event_type, sizeof out->event_type,
			    CLS_ID, 0, &r);
	}
	if (rc)
		goto out;
	r = SLACKPL_OK;
out:
	if (rc && out)
		memset(out, 0, sizeof *out);
	cJSON_Delete(j);
	if (why)
		*why = r;
	return rc;
}
