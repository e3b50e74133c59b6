/*
 * connect_event.c — decoding and checking one relay event (contract in
 * connect_event.h). cJSON does the JSON; every string it hands back is a
 * C string, so a "\u0000" inside one cuts it there: the checks below see
 * only what would be sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../common/b64.h"
#include "connect_event.h"

int connect_event_is_token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr(extra, c))))
			return 0;
	}
	return 1;
}

/* No byte below 0x20 and no DEL: a path or a query may hold anything else
 * (spaces and non-ASCII bytes are percent-encoded when the URL is built). */
static int no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int value_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return 0;
	return 1;
}

void connect_event_free(struct connect_event *ev)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < ev->nhdrs; i++) {
		free(ev->hdrs[i].name);
		free(ev->hdrs[i].value);
	}
	free(ev->hdrs);
	free(ev->path);
	free(ev->query);
	free(ev->body);
	memset(ev, 0, sizeof *ev);
	ev->received_ms = -1;
}

/* A string member NAME of O, or NULL (absent, or not a string). */
static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static int decode_headers(const cJSON *arr, struct connect_event *ev, char *err, size_t errlen)
{
	const cJSON *h;
	size_t n, i = 0, bytes = 0;

	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "\"headers\" is not an array");
		return -EINVAL;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CONNECT_EVENT_HDRS_MAX) {
		snprintf(err, errlen, "\"headers\" has %zu entries (at most %d)", n, CONNECT_EVENT_HDRS_MAX);
		return -EINVAL;
	}
	if (!n)
		return 0;
	ev->hdrs = calloc(n, sizeof *ev->hdrs);
	if (!ev->hdrs)
		return -ENOMEM;
	cJSON_ArrayForEach(h, arr) {
		const cJSON *nm = cJSON_GetArrayItem(h, 0), *vl = cJSON_GetArrayItem(h, 1);

		if (!cJSON_IsArray(h) || cJSON_GetArraySize(h) != 2 || !cJSON_IsString(nm) ||
		    !cJSON_IsString(vl)) {
			snprintf(err, errlen, "\"headers\"[%zu] is not a [name, value] pair of strings", i);
			return -EINVAL;
		}
		if (strlen(nm->valuestring) > CONNECT_EVENT_NAME_MAX ||
		    !connect_event_is_token(nm->valuestring, strlen(nm->valuestring))) {
			snprintf(err, errlen, "\"headers\"[%zu]: the name is not an HTTP token of at most %d "
			         "bytes", i, CONNECT_EVENT_NAME_MAX);
			return -EINVAL;
		}
		if (!value_ok(vl->valuestring)) {
			snprintf(err, errlen, "\"headers\"[%zu] (%.64s): the value holds CR or LF", i,
			         nm->valuestring);
			return -EINVAL;
		}
		bytes += strlen(nm->valuestring) + strlen(vl->valuestring);
		if (bytes > CONNECT_EVENT_HDR_BYTES) {
			snprintf(err, errlen, "\"headers\" hold more than %d bytes", CONNECT_EVENT_HDR_BYTES);
			return -EINVAL;
		}
		ev->hdrs[i].name = strdup(nm->valuestring);
		ev->hdrs[i].value = strdup(vl->valuestring);
		ev->nhdrs = i + 1;
		if (!ev->hdrs[i].name || !ev->hdrs[i].value)
			return -ENOMEM;
		i++;
	}
	return 0;
}

static int decode_members(const cJSON *o, struct connect_event *ev, char *err, size_t errlen)
{
	const char *id, *method, *path, *query, *body;
	const cJSON *rm;
	size_t blen;
	int rc;

	id = str_member(o, "id");
	if (!id || !*id || strlen(id) > CONNECT_EVENT_ID_MAX) {
		snprintf(err, errlen, "\"id\" is missing, empty or longer than %d bytes", CONNECT_EVENT_ID_MAX);
		return -EINVAL;
	}
	strcpy(ev->id, id);
	method = str_member(o, "method");
	if (!method || strlen(method) > CONNECT_EVENT_METHOD_MAX ||
	    !connect_event_is_token(method, strlen(method))) {
		snprintf(err, errlen, "\"method\" is missing or not an HTTP token of at most %d bytes",
		         CONNECT_EVENT_METHOD_MAX);
		return -EINVAL;
	}
	strcpy(ev->method, method);
	path = str_member(o, "path");
	if (!path || path[0] != '/' || strlen(path) > CONNECT_EVENT_PATH_MAX || !no_controls(path)) {
		snprintf(err, errlen, "\"path\" is missing, does not start with '/', is longer than %d "
		         "bytes or holds a control byte", CONNECT_EVENT_PATH_MAX);
		return -EINVAL;
	}
	rm = cJSON_GetObjectItemCaseSensitive(o, "query");
	if (rm && !cJSON_IsNull(rm) && !cJSON_IsString(rm)) {
		snprintf(err, errlen, "\"query\" is not a string");
		return -EINVAL;
	}
	query = cJSON_IsString(rm) ? rm->valuestring : "";
	if (strlen(query) > CONNECT_EVENT_PATH_MAX || !no_controls(query)) {
		snprintf(err, errlen, "\"query\" is longer than %d bytes or holds a control byte",
		         CONNECT_EVENT_PATH_MAX);
		return -EINVAL;
	}
	ev->path = strdup(path);
	ev->query = strdup(query);
	if (!ev->path || !ev->query)
		return -ENOMEM;
	rc = decode_headers(cJSON_GetObjectItemCaseSensitive(o, "headers"), ev, err, errlen);
	if (rc)
		return rc;
	body = str_member(o, "body");
	if (!body) {
		snprintf(err, errlen, "\"body\" is missing or not a string");
		return -EINVAL;
	}
	blen = strlen(body);
	if (blen) {
		rc = b64_decode_alloc(body, blen, 0, &ev->body, &ev->body_len);
		if (rc == -EINVAL) {
			snprintf(err, errlen, "\"body\" is not valid padded standard base64");
			return rc;
		}
		if (rc)
			return rc;
	}
	rm = cJSON_GetObjectItemCaseSensitive(o, "received_ms");
	/* Only for logs: a number out of range is as good as none. */
	ev->received_ms = cJSON_IsNumber(rm) && rm->valuedouble >= 0 && rm->valuedouble < 9e15 ?
	                  (long long)rm->valuedouble : -1;
	return 0;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A copy of JSON (LEN bytes) in which each "\u0080".."\u00ff" escape
 * inside a string is replaced by that one raw byte, which cJSON then keeps
 * as it is. The relay writes a byte that is not part of well-formed UTF-8
 * as such an escape (and well-formed UTF-8 as it is), so this gives back
 * the header bytes the sender sent. Everything else, "\\u00e9" included,
 * is copied unchanged. Never longer than the input. */
static char *raw_bytes(const char *json, size_t len, size_t *outlen)
{
	char *o = malloc(len + 1);
	size_t i = 0, n = 0;
	int in_str = 0;

	if (!o)
		return NULL;
	while (i < len) {
		char c = json[i];

		if (!in_str) {
			in_str = c == '"';
			o[n++] = json[i++];
			continue;
		}
		if (c == '"') {
			in_str = 0;
			o[n++] = json[i++];
		} else if (c == '\\' && i + 1 < len && json[i + 1] == 'u' && i + 5 < len &&
		           json[i + 2] == '0' && json[i + 3] == '0' && hexv(json[i + 4]) >= 8 &&
		           hexv(json[i + 5]) >= 0) {
			o[n++] = (char)(hexv(json[i + 4]) << 4 | hexv(json[i + 5]));
			i += 6;
		} else if (c == '\\' && i + 1 < len) {
			o[n++] = json[i++];      /* the backslash and what it escapes */
			o[n++] = json[i++];
		} else {
			o[n++] = json[i++];
		}
	}
	o[n] = 0;
	*outlen = n;
	return o;
}

int connect_event_decode(const char *json, size_t len, struct connect_event *ev, char *err,
                         size_t errlen)
{
	cJSON *o = NULL;
	char *raw = NULL;
	size_t rlen = 0;
	int rc;

	memset(ev, 0, sizeof *ev);
	ev->received_ms = -1;
	if (errlen)
		err[0] = 0;
	raw = raw_bytes(json, len, &rlen);
	if (!raw) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	o = cJSON_ParseWithLength(raw, rlen);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "the event's data is not a JSON object");
		rc = -EINVAL;
		goto out;
	}
	rc = decode_members(o, ev, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
out:
	cJSON_Delete(o);
	free(raw);
	if (rc)
		connect_event_free(ev);
	return rc;
}

int connect_event_gap(const char *json, size_t len, char *after, char *oldest, size_t cap)
{
	const char *names[2] = {"after", "oldest"};
	char *outs[2] = {after, oldest};
	cJSON *o;
	int rc = 0, i;

	after[0] = oldest[0] = 0;
	o = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(o)) {
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, names[i]);

		if (!m)
			continue;
		if (!cJSON_IsString(m) || strlen(m->valuestring) >= cap) {
			rc = -EINVAL;
			goto out;
		}
		strcpy(outs[i], m->valuestring);
	}
out:
	if (rc)
		after[0] = oldest[0] = 0;
	cJSON_Delete(o);
	return rc;
}
