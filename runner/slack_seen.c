/*
 * slack_seen.c — a bounded memory of recent keys (contract in slack_seen.h).
 * A ring of SLACKSEEN_MAX entries, searched linearly: a few thousand
 * short compares per Slack request, far below the cost of its signature.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "slack_seen.h"

struct entry {
	char key[SLACKSEEN_KEY_MAX + 1];
	int64_t at;
};

struct slackseen {
	pthread_mutex_t mu;
	int keep_s;
	struct entry *e;
	size_t next, n;
};

int slackseen_new(int keep_s, struct slackseen **out)
{
	struct slackseen *s = calloc(1, sizeof *s);

	if (!s || !(s->e = calloc(SLACKSEEN_MAX, sizeof *s->e))) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->keep_s = keep_s;
	*out = s;
	return 0;
}

void slackseen_free(struct slackseen *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->e);
	free(s);
}

int slackseen_add(struct slackseen *s, const char *key, int64_t now)
{
	size_t i, len = key ? strlen(key) : 0;
	int seen = 0;

	if (!s || !key || len == 0 || len > SLACKSEEN_KEY_MAX)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n && !seen; i++)
		seen = s->e[i].at >= now - s->keep_s && !strcmp(s->e[i].key, key);
	if (!seen) {
		memcpy(s->e[s->next].key, key, len + 1);
		s->e[s->next].at = now;
		s->next = (s->next + 1) % SLACKSEEN_MAX;
		if (s->n < SLACKSEEN_MAX)
			s->n++;
	}
	pthread_mutex_unlock(&s->mu);
	return seen;
}
