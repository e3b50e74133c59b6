/*
 * slack_api.c — the Slack Web API client on libcurl (prefix slackapi_).
 * Owns one HTTP call to Slack and reading its answer: a POST of a JSON body
 * to <api_url>/<method> with "Authorization: Bearer <bot token>" and
 * "Content-Type: application/json; charset=utf-8", a GET with a query (for
 * the methods that take no JSON), or a POST to a response_url (no token);
 * the answer's "ok" and "error", a 429's Retry-After, 5xx, transport
 * failures; each call counted in /metrics by method and result. Also owns
 * the cache of user group members (usergroups.users.list) with a TTL.
 * One try per call: retrying is the caller's (slack_outbox.c). Blocking:
 * never called on a request thread except for a group cache miss, bounded
 * by the timeout. Nothing here logs; callers log the answer's error.
 */
#ifndef SLACK_API_H
#define SLACK_API_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define SLACKAPI_ANSWER_MAX (1024 * 1024) /* bytes of an answer read */
#define SLACKAPI_GROUP_TTL_MS 60000       /* how long group members are trusted */

enum slackapi_result {
	SLACKAPI_OK = 0,     /* HTTP 200 and "ok": true */
	SLACKAPI_ERROR,      /* "ok": false: Slack's error code in answer.error (permanent) */
	SLACKAPI_RATELIMITED,/* HTTP 429: retry after answer.retry_after_s */
	SLACKAPI_SERVER,     /* HTTP 5xx: retry later */
	SLACKAPI_HTTP,       /* another HTTP status (permanent) */
	SLACKAPI_TRANSPORT,  /* no answer: connect, timeout, TLS (retry later) */
	SLACKAPI_BAD_ANSWER, /* not JSON, or over SLACKAPI_ANSWER_MAX (permanent) */
	SLACKAPI_NRESULTS
};

struct slackapi_answer {
	enum slackapi_result result;
	long http;          /* the status, 0 without an answer */
	int retry_after_s;  /* 429: the Retry-After (1 when absent or odd, at most 300) */
	char error[64];     /* SLACKAPI_ERROR: Slack's code; else a word for the result */
	cJSON *json;        /* the answer, when it was JSON; slackapi_answer_clear */
};

struct slackapi;

/* A client of API_URL (no trailing '/') with TOKEN (copied, wiped at
 * free), each call bounded by TIMEOUT_MS. 0, -EINVAL, -ENOMEM, or -ENOENT
 * when libcurl cannot be loaded. */
int slackapi_new(const char *api_url, const char *token, int timeout_ms, struct slackapi **out);
void slackapi_free(struct slackapi *c);
/* The API base the client uses (for the response_url rule). */
const char *slackapi_url(const struct slackapi *c);

/* Load libcurl (runner/curllib.c) and run its global init, once at
 * start-up before any thread calls. 0, or -ENOENT (libcurl cannot be
 * loaded) / -EIO with the reason in ERR. */
int slackapi_global_init(char *err, size_t errlen);

/* POST BODY (JSON text) to METHOD. 0 with ANS filled, whatever Slack said
 * (ans->result says); -ENOMEM. Counted in metrics under METHOD. */
int slackapi_call(struct slackapi *c, const char *method, const char *body,
    struct slackapi_answer *ans);
/* GET METHOD?QUERY (QUERY already form-encoded). As slackapi_call. */
int slackapi_get(struct slackapi *c, const char *method, const char *query,
    struct slackapi_answer *ans);
/* POST BODY (JSON) to URL, a response_url the caller checked
 * (slackpl_response_url_ok), without the token. Slack answers "ok" as
 * text or JSON: HTTP 200 is SLACKAPI_OK. As slackapi_call, counted under
 * "response_url". */
int slackapi_post_url(struct slackapi *c, const char *url, const char *body,
    struct slackapi_answer *ans);
void slackapi_answer_clear(struct slackapi_answer *ans);

/* 1 when A is worth another try (ratelimited, 5xx, transport), else 0. */
int slackapi_retryable(const struct slackapi_answer *a);
/* "ok", "error", "ratelimited", "http_5xx", "http", "transport",
 * "bad_answer". */
const char *slackapi_result_name(enum slackapi_result r);

/* 1 when USER is a member of GROUP (a Slack user group id), from the cache
 * when it is younger than SLACKAPI_GROUP_TTL_MS at NOW_MS, else asking
 * usergroups.users.list (and caching). 0 when not; -EAGAIN when Slack
 * could not tell (then *ERR, when non-NULL, gets its error word). Thread-
 * safe. */
int slackapi_in_group(struct slackapi *c, const char *group, const char *user, int64_t now_ms,
    char *err, size_t errlen);
/* Refresh GROUP's members now (the outbox does this ahead of clicks). 0,
 * -EAGAIN when Slack could not tell, -ENOMEM. */
int slackapi_group_refresh(struct slackapi *c, const char *group, int64_t now_ms);
#endif
