/*
 * slack_seen.c — a small bounded memory of what Slack sent recently
 * (prefix slackseen_): the signatures of interaction bodies already taken
 * (a replayed body, same timestamp, signature and bytes, is refused while
 * its timestamp is still inside the signature window) and the event_ids of
 * events already handled (Slack's retries, X-Slack-Retry-Num, are
 * acknowledged and not handled twice). Thread-safe. When full, the oldest
 * entry goes; for votes the store's one-vote-per-voter rule is the
 * backstop behind it.
 */
#ifndef SLACK_SEEN_H
#define SLACK_SEEN_H
#include <stdint.h>

#define SLACKSEEN_MAX 4096   /* entries kept */
#define SLACKSEEN_KEY_MAX 80 /* bytes of a key */

struct slackseen;

/* A memory whose entries are forgotten KEEP_S seconds after they were
 * added. 0 or -ENOMEM. */
int slackseen_new(int keep_s, struct slackseen **out);
void slackseen_free(struct slackseen *s);
/* Remember KEY at NOW (unix s): 0 when it was new, 1 when it was already
 * there (not forgotten yet), -EINVAL for a key over SLACKSEEN_KEY_MAX. */
int slackseen_add(struct slackseen *s, const char *key, int64_t now);
#endif
