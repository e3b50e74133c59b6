/*
 * store_backend.h — what a store backend provides to the backend-neutral
 * front (store.c). Only store.c and the backends include it.
 *
 * The front checks every argument (names, hashes, states, sizes, NULL
 * pointers) before it calls through the vtable, so a backend sees only
 * valid requests; it owns the storage, its transactions and its locking.
 *
 * Every backend's handle starts with a struct store (the part the front
 * uses: its vtable, the mutex that serialises the handle and the last
 * failure's message) and is handed out as that struct store; the backend
 * takes its own struct back with a cast of that first member.
 *
 * A backend function returns 0 or a negative errno (store.h lists them),
 * with the reason in words in s->err (written under s->mu).
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H
#include <pthread.h>
#include <stdio.h>

#include "store.h"

struct store_ops;

struct store {
	const struct store_ops *ops;
	pthread_mutex_t mu;  /* every use of the handle, and err */
	int mu_ok;
	char err[256];       /* the last failure in words, "" when none */
};

struct store_ops {
	const char *name;
	/* Open the store SC names (the front checked that it names one), as
	 * store_open says. *out is NULL on failure; *why (never NULL) says
	 * what kind of failure it was when it is one store.h names. */
	int (*open)(const struct store_config *sc, int mark_interrupted, int *n_interrupted,
	    struct store **out, enum store_why *why);
	void (*close)(struct store *s);
	/* The operations of store.h, with valid arguments. */
	int (*claim)(struct store *s, const struct store_claim_req *rq, struct store_claim_res *out);
	int (*unclaim)(struct store *s, int64_t job_id);
	int (*finish)(struct store *s, int64_t job_id, const struct store_outcome *o);
	int (*job_get)(struct store *s, int64_t id, struct store_job *out);
	int (*prune)(struct store *s, int64_t cutoff_ms, int *n);
	int (*take_queued)(struct store *s, int64_t now_ms, struct store_job *job, char **body,
	    size_t *len, char **meta);
	int (*requeue)(struct store *s, int64_t job_id);
	int (*count_queued)(struct store *s, int *n);
	int (*claim_again)(struct store *s, int64_t job_id, enum jobstate initial_state,
	    int64_t now_ms, struct store_claim_res *out);
	int (*delivery_get)(struct store *s, const char *hook, const char *key, char **body,
	    size_t *len, char **meta);
	int (*list)(struct store *s, const char *hook, int failed_only, int limit,
	    struct store_job **out, size_t *n);
	int (*attempts)(struct store *s, const char *hook, const char *key, struct store_job **out,
	    size_t *n);
	/* store_health; *why (never NULL) is set when it fails. */
	int (*health)(struct store *s, enum store_why *why);
	/* The approvals of store.h, with valid arguments (the front checked ids,
	 * lengths, enums and limits). approval_get takes an id, or NULL and a
	 * job id. A vote's kind is set whenever it returns 0. */
	int (*approval_get)(struct store *s, const char *id, int64_t job_id, struct store_approval *out);
	int (*approvals_pending)(struct store *s, const char *hook, int limit,
	    struct store_approval **out, size_t *n);
	int (*approvals_count_pending)(struct store *s, int *n);
	int (*approval_vote)(struct store *s, const struct store_vote_req *v, enum store_vote_kind *kind,
	    struct store_approval *out);
	int (*approvals_expire)(struct store *s, int64_t now_ms, int max, struct store_approval **out,
	    size_t *n);
	int (*approval_set_message)(struct store *s, const char *id, const char *channel,
	    const char *ts);
	int (*approvals_changed)(struct store *s, int64_t since_seq, int limit,
	    struct store_approval **out, size_t *n);
	int (*approvals_max_seq)(struct store *s, int64_t *seq);
	int (*approvals_unsynced)(struct store *s, int limit, struct store_approval **out, size_t *n);
	int (*approval_claim_sync)(struct store *s, const char *id, int64_t seq, int *won);
};

/* The SQLite backend (store_sqlite*.c): the database file at sc->sqlite_path. */
extern const struct store_ops store_sqlite_ops;

/* Set up S, the first member of a backend's handle, for OPS: its mutex,
 * no message. 0 or -ENOMEM. store_base_fini undoes it. */
int store_base_init(struct store *s, const struct store_ops *ops);
void store_base_fini(struct store *s);

/* Keep MSG as S's last failure. The caller holds s->mu. */
static inline void store_backend_msg(struct store *s, const char *msg)
{
	snprintf(s->err, sizeof s->err, "%s", msg);
}
#endif
