/*
 * slack_api.c — the Slack Web API client (contract in slack_api.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curllib.h"
#include "metrics.h"
#include "slack_api.h"

#define GROUPS_MAX 64
#define GROUP_ID_MAX 32
#define MEMBERS_MAX 5000

struct group {
	char id[GROUP_ID_MAX + 1];
	char **users;
	size_t n;
	int64_t at_ms; /* 0: never fetched */
};

struct slackapi {
	char *url, *token;
	int timeout_ms;
	pthread_mutex_t mu;  /* the group cache */
	struct group groups[GROUPS_MAX];
	size_t ngroups;
};

static const char *const result_names[SLACKAPI_NRESULTS] = {
	[SLACKAPI_OK] = "ok", [SLACKAPI_ERROR] = "error", [SLACKAPI_RATELIMITED] = "ratelimited",
	[SLACKAPI_SERVER] = "http_5xx", [SLACKAPI_HTTP] = "http", [SLACKAPI_TRANSPORT] = "transport",
	[SLACKAPI_BAD_ANSWER] = "bad_answer",
};

const char *slackapi_result_name(enum slackapi_result r)
{
	return (unsigned)r < SLACKAPI_NRESULTS ? result_names[r] : "error";
}

int slackapi_retryable(const struct slackapi_answer *a)
{
	return a->result == SLACKAPI_RATELIMITED || a->result == SLACKAPI_SERVER ||
	    a->result == SLACKAPI_TRANSPORT;
}

int slackapi_global_init(char *err, size_t errlen)
{
	const struct curllib *cl;
	int rc;

	if ((rc = curllib_get(&cl, err, errlen)) != 0)
		return rc;
	if (cl->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return -EIO;
	}
	return 0;
}

int slackapi_new(const char *api_url, const char *token, int timeout_ms, struct slackapi **out)
{
	const struct curllib *cl;
	struct slackapi *c;

	if (!api_url || !token || !*token || timeout_ms <= 0 || !out)
		return -EINVAL;
	if (curllib_get(&cl, NULL, 0) != 0)
		return -ENOENT;
	if (!(c = calloc(1, sizeof *c)))
		return -ENOMEM;
	if (!(c->url = strdup(api_url)) || !(c->token = strdup(token))) {
		free(c->url);
		free(c);
		return -ENOMEM;
	}
	c->timeout_ms = timeout_ms;
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
}

static void group_clear(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->users[i]);
	free(g->users);
	g->users = NULL;
	g->n = 0;
}

void slackapi_free(struct slackapi *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->ngroups; i++)
		group_clear(&c->groups[i]);
	explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->url);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const char *slackapi_url(const struct slackapi *c)
{
	return c->url;
}

void slackapi_answer_clear(struct slackapi_answer *ans)
{
	cJSON_Delete(ans->json);
	memset(ans, 0, sizeof *ans);
}

struct sink {
	char *p;
	size_t n;
	int over;
	int retry_after;
};

static size_t on_body(char *data, size_t sz, size_t nm, void *ud)
{
	struct sink *s = ud;
	size_t k = sz * nm;
	char *p;

	if (s->n + k > SLACKAPI_ANSWER_MAX) {
		s->over = 1;
		return 0;
	}
	if (!(p = realloc(s->p, s->n + k + 1)))
		return 0;
	memcpy(p + s->n, data, k);
	s->p = p;
	s->n += k;
	s->p[s->n] = '\0';
	return k;
}

static size_t on_header(char *data, size_t sz, size_t nm, void *ud)
{
	struct sink *s = ud;
	size_t k = sz * nm;
	static const char name[] = "retry-after:";

	if (k > sizeof name && !strncasecmp(data, name, sizeof name - 1)) {
		char tmp[32], *e;
		size_t n = k - (sizeof name - 1);
		long v;
		if (n >= sizeof tmp)
			n = sizeof tmp - 1;
		memcpy(tmp, data + sizeof name - 1, n);
		tmp[n] = '\0';
		v = strtol(tmp, &e, 10);
		s->retry_after = e != tmp && v > 0 ? (v > 300 ? 300 : (int)v) : 1;
	}
	return k;
}

/* Slack's error code, as a metric label and log word: [a-z0-9_] only. */
static void error_word(const char *e, char *dst, size_t len)
{
	size_t i;

	for (i = 0; e[i] && i + 1 < len; i++) {
		if (!((e[i] >= 'a' && e[i] <= 'z') || (e[i] >= '0' && e[i] <= '9') || e[i] == '_')) {
			snprintf(dst, len, "other");
			return;
		}
		dst[i] = e[i];
	}
	dst[i] = '\0';
	if (!i || e[i])
		snprintf(dst, len, "other");
}

/* One request. TOKEN NULL: none (a response_url). BODY NULL: GET. */
static int request(struct slackapi *c, const char *metric, const char *url, const char *token,
    const char *body, int plain_ok, struct slackapi_answer *ans)
{
	const struct curllib *cl = NULL;
	struct curl_slist *hdrs = NULL, *h;
	struct sink s = { 0 };
	char *auth = NULL;
	CURL *e = NULL;
	CURLcode cc;
	int rc = -ENOMEM;

	memset(ans, 0, sizeof *ans);
	s.retry_after = 0;
	if (curllib_get(&cl, NULL, 0) != 0) { /* slackapi_new loaded it */
		rc = -ENOENT;
		goto out;
	}
	if (!(e = cl->easy_init()))
		goto out;
	if (token) {
		size_t n = strlen(token) + 32;
		if (!(auth = malloc(n)))
			goto out;
		snprintf(auth, n, "Authorization: Bearer %s", token);
		if (!(h = cl->slist_append(hdrs, auth)))
			goto out;
		hdrs = h;
	}
	if (body) {
		if (!(h = cl->slist_append(hdrs, "Content-Type: application/json; charset=utf-8")))
			goto out;
		hdrs = h;
	}
	if (!(h = cl->slist_append(hdrs, "Expect:")))
		goto out;
	hdrs = h;
	cl->easy_setopt(e, CURLOPT_URL, url);
	cl->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	cl->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	cl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	cl->easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	cl->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	cl->easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	cl->easy_setopt(e, CURLOPT_USERAGENT, "webhook-runner");
	cl->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	cl->easy_setopt(e, CURLOPT_WRITEDATA, &s);
	cl->easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	cl->easy_setopt(e, CURLOPT_HEADERDATA, &s);
	if (body) {
		cl->easy_setopt(e, CURLOPT_POSTFIELDS, body);
		cl->easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	cc = cl->easy_perform(e);
	cl->easy_getinfo(e, CURLINFO_RESPONSE_CODE, &ans->http);
	rc = 0;
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && s.over)) {
		ans->result = SLACKAPI_TRANSPORT;
		snprintf(ans->error, sizeof ans->error, "%s",
		    cc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport");
	} else if (ans->http == 429) {
		ans->result = SLACKAPI_RATELIMITED;
		ans->retry_after_s = s.retry_after ? s.retry_after : 1;
		snprintf(ans->error, sizeof ans->error, "ratelimited");
	} else if (ans->http >= 500) {
		ans->result = SLACKAPI_SERVER;
		snprintf(ans->error, sizeof ans->error, "http_5xx");
	} else if (ans->http != 200) {
		ans->result = SLACKAPI_HTTP;
		snprintf(ans->error, sizeof ans->error, "http_%ld", ans->http);
		ans->json = s.p ? cJSON_Parse(s.p) : NULL;
	} else if (s.over) {
		ans->result = SLACKAPI_BAD_ANSWER;
		snprintf(ans->error, sizeof ans->error, "answer_too_long");
	} else if (!(ans->json = s.p ? cJSON_Parse(s.p) : NULL)) {
		/* a response_url answers "ok" as text */
		ans->result = plain_ok ? SLACKAPI_OK : SLACKAPI_BAD_ANSWER;
		snprintf(ans->error, sizeof ans->error, plain_ok ? "ok" : "bad_answer");
	} else {
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(ans->json, "ok");
		const cJSON *er = cJSON_GetObjectItemCaseSensitive(ans->json, "error");
		if (cJSON_IsTrue(ok) || (plain_ok && !cJSON_IsFalse(ok))) {
			ans->result = SLACKAPI_OK;
			snprintf(ans->error, sizeof ans->error, "ok");
		} else if (cJSON_IsFalse(ok)) {
			ans->result = SLACKAPI_ERROR;
			error_word(cJSON_IsString(er) ? er->valuestring : "", ans->error, sizeof ans->error);
		} else {
			ans->result = SLACKAPI_BAD_ANSWER;
			snprintf(ans->error, sizeof ans->error, "bad_answer");
		}
	}
	metrics_slack_call(metric, ans->result == SLACKAPI_ERROR ? ans->error :
	    slackapi_result_name(ans->result));
out:
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	for (h = hdrs; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	if (hdrs)
		cl->slist_free_all(hdrs);
	if (e)
		cl->easy_cleanup(e);
	free(s.p);
	return rc;
}

/* METHOD: letters and dots only (it goes into the URL and the metrics). */
static int method_ok(const char *m)
{
	size_t i;

	for (i = 0; m && m[i]; i++)
		if (!((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= 'A' && m[i] <= 'Z') || m[i] == '.'))
			return 0;
	return m && i > 0 && i < 64;
}

static int api(struct slackapi *c, const char *method, const char *query, const char *body,
    struct slackapi_answer *ans)
{
	char *url = NULL;
	int rc;

	memset(ans, 0, sizeof *ans);
	if (!c || !method_ok(method))
		return -EINVAL;
	if (asprintf(&url, "%s/%s%s%s", c->url, method, query ? "?" : "", query ? query : "") < 0)
		return -ENOMEM;
	rc = request(c, method, url, c->token, body, 0, ans);
	free(url);
	return rc;
}

int slackapi_call(struct slackapi *c, const char *method, const char *body,
    struct slackapi_answer *ans)
{
	if (!body)
		return -EINVAL;
	return api(c, method, NULL, body, ans);
}

int slackapi_get(struct slackapi *c, const char *method, const char *query,
    struct slackapi_answer *ans)
{
	return api(c, method, query, NULL, ans);
}

int slackapi_post_url(struct slackapi *c, const char *url, const char *body,
    struct slackapi_answer *ans)
{
	memset(ans, 0, sizeof *ans);
	if (!c || !url || !body)
		return -EINVAL;
	return request(c, "response_url", url, NULL, body, 1, ans);
}

/* A group id: [A-Z0-9], as Slack's S… ids. */
static int group_ok(const char *g)
{
	size_t i;

	for (i = 0; g && g[i]; i++)
		if (!((g[i] >= 'A' && g[i] <= 'Z') || (g[i] >= '0' && g[i] <= '9')))
			return 0;
	return g && i > 0 && i <= GROUP_ID_MAX;
}

int slackapi_group_refresh(struct slackapi *c, const char *group, int64_t now_ms)
{
	struct slackapi_answer a;
	const cJSON *users, *u;
	char q[64], **v = NULL;
	size_t n = 0, i;
	int rc;

	if (!c || !group_ok(group))
		return -EINVAL;
	snprintf(q, sizeof q, "usergroup=%s", group);
	if ((rc = slackapi_get(c, "usergroups.users.list", q, &a)))
		return rc;
	rc = -EAGAIN;
	users = cJSON_GetObjectItemCaseSensitive(a.json, "users");
	if (a.result != SLACKAPI_OK || !cJSON_IsArray(users))
		goto out;
	rc = -ENOMEM;
	if (!(v = calloc((size_t)cJSON_GetArraySize(users) + 1, sizeof *v)))
		goto out;
	cJSON_ArrayForEach(u, users) {
		if (n >= MEMBERS_MAX || !cJSON_IsString(u))
			continue;
		if (!(v[n] = strdup(u->valuestring)))
			goto out;
		n++;
	}
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->ngroups && strcmp(c->groups[i].id, group); i++)
		;
	if (i == c->ngroups && c->ngroups < GROUPS_MAX)
		snprintf(c->groups[c->ngroups++].id, GROUP_ID_MAX + 1, "%s", group);
	if (i < c->ngroups) {
		group_clear(&c->groups[i]);
		c->groups[i].users = v;
		c->groups[i].n = n;
		c->groups[i].at_ms = now_ms;
		v = NULL;
		n = 0;
	}
	pthread_mutex_unlock(&c->mu);
	rc = 0;
out:
	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	slackapi_answer_clear(&a);
	return rc;
}

/* 1 member, 0 not, -1 not cached (or too old). Under c->mu. */
static int cached(struct slackapi *c, const char *group, const char *user, int64_t now_ms)
{
	size_t i, k;

	for (i = 0; i < c->ngroups; i++) {
		const struct group *g = &c->groups[i];
		if (strcmp(g->id, group))
			continue;
		if (!g->at_ms || now_ms - g->at_ms > SLACKAPI_GROUP_TTL_MS)
			return -1;
		for (k = 0; k < g->n; k++)
			if (!strcmp(g->users[k], user))
				return 1;
		return 0;
	}
	return -1;
}

int slackapi_in_group(struct slackapi *c, const char *group, const char *user, int64_t now_ms,
    char *err, size_t errlen)
{
	int r, rc;

	if (!c || !user || !group_ok(group))
		return -EINVAL;
	pthread_mutex_lock(&c->mu);
	r = cached(c, group, user, now_ms);
	pthread_mutex_unlock(&c->mu);
	if (r >= 0)
		return r;
	if ((rc = slackapi_group_refresh(c, group, now_ms))) {
		if (err && errlen)
			snprintf(err, errlen, "%s", rc == -EAGAIN ? "slack_unavailable" : "error");
		return rc == -ENOMEM ? rc : -EAGAIN;
	}
	pthread_mutex_lock(&c->mu);
	r = cached(c, group, user, now_ms);
	pthread_mutex_unlock(&c->mu);
	return r > 0;
}
