/*
 * store.h — the store: verified deliveries and their jobs, the atomic
 * idempotency claim, the durable queue of async hooks and the job history.
 * The interface is the same whatever keeps the data (store_backend.h); the
 * one backend today is an embedded SQLite database file (store_sqlite.h).
 * Thread-safe: one handle may be used by several threads; several handles
 * (and processes: a CLI beside the daemon) may open the same store at once.
 *
 * What is kept:
 *   deliveries (hook, key): body hash, body, headers (JSON object), received_ms;
 *   jobs: one per attempt of a delivery, ids never reused (so /jobs/<id>
 *         never points at another job after a prune), with the attempt's
 *         state, timings, exit/signal/error, http status, response and
 *         output tail; every job has its delivery.
 * States: enum jobstate (jobstate.h): "pending_approval", "queued",
 *         "running", "succeeded", "failed", "timeout", "interrupted",
 *         "denied", "expired".
 *   approvals: one per job of a hook with an approval (below), with its votes.
 *
 * The claim (store_claim) is one atomic step that looks at the latest
 * attempt for (hook, key):
 *   none                               -> insert delivery + attempt 1 "running": STORE_NEW
 *   body_sha256 differs                -> STORE_MISMATCH (nothing written)
 *   "queued", "running" or
 *   "pending_approval"                 -> STORE_BUSY (nothing written)
 *   "succeeded", "denied", "expired"   -> STORE_REPLAY with its http_status and response
 *                                         (a human's decision stands: never asked again)
 *   "failed", "timeout", "interrupted" -> insert attempt n+1 "running": STORE_RETRY
 *
 * Durability: a committed claim or outcome survives a crash of the process
 * and of the machine (power loss).
 *
 * Inputs: HOOK is 1..127 bytes, KEY 1..255 bytes (the sizes of struct
 * store_job), BODY_SHA256_HEX exactly 64 lowercase hex digits; anything else
 * is -EINVAL and nothing is written.
 *
 * Errors (negative errno): -EINVAL bad argument; -ENOENT no such job;
 * -ENOSYS the backend keeps no approvals (an approval call, or a
 * pending_approval claim, on a backend without them); -EBUSY
 * another connection held the store past the busy timeout (5 s); -EROFS the
 * store is read-only, or went away while open; -ENOSPC disk full; -ENOMEM;
 * -EPROTO the store was written by a newer build; -EIO any other failure.
 * store_open also returns the errno of reaching the store (-EACCES, -ENOENT,
 * -EPERM…). A failed operation writes nothing. store_errmsg tells the last
 * failure in words.
 */
#ifndef STORE_H
#define STORE_H
#include <stddef.h>
#include <stdint.h>

#include "jobstate.h"

struct store;
struct store_approval_req;

enum store_claim_kind {
	STORE_NEW = 1, STORE_RETRY, STORE_BUSY, STORE_REPLAY, STORE_MISMATCH,
	STORE_FULL,       /* a queued claim found max_queued jobs waiting: nothing written */
	STORE_JTI_REUSED, /* the single-use token id was used for another delivery: nothing written */
};

#define STORE_JTI_MAX 200 /* bytes of a single-use token id */

/* What a verified delivery asks of the store (store_claim_req). */
struct store_claim_req {
	const char *hook, *key;
	const char *body_sha256;     /* 64 lowercase hex digits */
	const unsigned char *body;   /* stored for NEW and RETRY */
	size_t len;
	const char *headers_json;    /* headers kept for replay, a JSON object; may be NULL */
	int64_t now_ms;
	enum jobstate initial_state; /* JOBSTATE_RUNNING (sync hooks), JOBSTATE_QUEUED (async)
				      * or JOBSTATE_PENDING_APPROVAL (approval hooks) */
	int by_body;                 /* a key not seen before whose body HOOK already has is
				      * that delivery (the claim goes on under its key) */
	const char *jti;             /* single-use token id (1..STORE_JTI_MAX bytes), or NULL */
	int64_t jti_until_ms;        /* how long to remember it */
	int max_queued;              /* "queued": STORE_FULL when this many wait; 0: no cap.
				      * "pending_approval": STORE_FULL when this many
				      * approvals are pending */
	/* INITIAL_STATE JOBSTATE_PENDING_APPROVAL: the approval record created
	 * with the attempt, in the same transaction (store_approval_req); NULL
	 * for any other state. */
	const struct store_approval_req *approval;
};

struct store_claim_res {
	enum store_claim_kind kind;
	int64_t job_id;     /* NEW/RETRY: the new attempt's id; BUSY/REPLAY: the latest one */
	int attempt;
	int http_status;    /* REPLAY only */
	char *response;     /* REPLAY only: malloc'ed, caller frees */
	char key[256];      /* the delivery's key: the request's, or by_body's match */
	int by_body;        /* 1 when the body matched a delivery under another key */
	enum jobstate state; /* BUSY/REPLAY: the latest attempt's state (a pending_approval
			      * BUSY is answered as its first 202; a denied/expired REPLAY
			      * says so) */
};

struct store_outcome {
	enum jobstate state;     /* a final state (jobstate_is_final) */
	int64_t started_ms, finished_ms;
	int exit_code;           /* -1 when none */
	const char *signal;      /* NULL when none */
	const char *error;       /* executor error kind, NULL when none */
	int http_status;
	const char *response;    /* the JSON body answered */
	const char *output_tail; /* may be NULL */
};

struct store_job {
	int64_t id;
	char hook[128], key[256], signal[32], error[48];
	enum jobstate state;
	int attempt, exit_code, http_status;
	int64_t created_ms, started_ms, finished_ms;
	char *response, *output_tail; /* malloc'ed or NULL; store_job_clear frees */
};

/* Where the store is. Today one backend: the SQLite database file. Another
 * backend adds its own field (an address, say), and store_open picks the
 * backend by the field that is set. */
struct store_config {
	const char *sqlite_path; /* the SQLite database file (created 0600 when absent) */
	int must_exist;          /* never create a store: STORE_WHY_ABSENT when there is none */
};

/* Why store_open or store_health failed, when it is one of these. */
enum store_why {
	STORE_WHY_NONE = 0,    /* no failure, or one store_errmsg tells */
	STORE_WHY_ABSENT,      /* open: must_exist and there is no store there (-ENOENT) */
	STORE_WHY_NOT_A_STORE, /* open: what is there cannot hold a store (-EINVAL) */
	STORE_WHY_NEWER,       /* open: written by a newer build (-EPROTO) */
	STORE_WHY_GONE,        /* health: the store went away from where it was opened (-EROFS) */
	STORE_WHY_NO_ACCESS,   /* health: no longer readable and writable where it is */
	STORE_WHY_READ,        /* health: a read failed */
	STORE_WHY_LOCKED,      /* health: no write within the busy timeout (-EBUSY, or its error) */
};

/* Open (or create, unless SC->must_exist) the store SC names, bring its
 * layout up to this build's (older stores still open; a newer one is
 * -EPROTO, left as it was), and mark every "running" job "interrupted" (a
 * previous process died with them; its finished_ms becomes now, so prune
 * can expire it) when MARK_INTERRUPTED. *n_interrupted (may be NULL) gets
 * how many; *why (may be NULL) says why it failed (STORE_WHY_NONE: see the
 * errno). 0 or negative (-EIO…); *out is NULL on failure. */
int store_open(const struct store_config *sc, struct store **out, int mark_interrupted,
    int *n_interrupted, enum store_why *why);
void store_close(struct store *s);

/* The backend's (or own) message of the last failure on S, "" when none. Valid
 * until the next call on S; with several threads it may be another thread's. */
const char *store_errmsg(struct store *s);

/* The claim described above. BODY is stored only for NEW and RETRY. HEADERS_JSON
 * is a JSON object of the headers kept for replay (may be NULL). For REPLAY,
 * response is never NULL ("" when none was recorded). */
int store_claim(struct store *s, const char *hook, const char *key, const char *body_sha256_hex,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms,
    struct store_claim_res *out);
void store_claim_res_clear(struct store_claim_res *r);

/* The claim, in one atomic step:
 *  1. the latest attempt of (hook, key); when there is none and BY_BODY, the
 *     latest attempt of the hook's delivery with the same body hash, whose
 *     key then stands for this one (res.key, res.by_body);
 *  2. the rules of store_claim on that attempt (MISMATCH writes nothing);
 *  3. with a JTI: STORE_JTI_REUSED (nothing written) when it was recorded
 *     for another key of the hook and its record has not expired; else it is
 *     recorded for the key until JTI_UNTIL_MS, whatever the outcome (so a
 *     replay or a busy answer also uses it up);
 *  4. NEW/RETRY of a "queued" claim with MAX_QUEUED jobs waiting, or of a
 *     "pending_approval" claim with MAX_QUEUED approvals pending: STORE_FULL,
 *     nothing written; else the attempt is inserted.
 * Two claims never both win. -EINVAL for a bad request, nothing written. */
int store_claim_req(struct store *s, const struct store_claim_req *rq, struct store_claim_res *out);

/* Take back a NEW or RETRY claim that will not run (no concurrency slot):
 * attempt JOB_ID is deleted, and its delivery when no attempt is left, as if
 * it had never come. -ENOENT when JOB_ID is not a queued or running job. */
int store_unclaim(struct store *s, int64_t job_id);

/* Record the outcome of attempt JOB_ID. -ENOENT when no such job; -EINVAL
 * for a state that is not final (jobstate_is_final), or a signal/error longer than struct store_job holds.
 * exit_code < 0 is stored as none (NULL) and read back as -1. */
int store_finish(struct store *s, int64_t job_id, const struct store_outcome *o);

/* Load one job by id. -ENOENT when none. */
int store_job_get(struct store *s, int64_t id, struct store_job *out);
void store_job_clear(struct store_job *j);

/* Delete finished jobs and their deliveries whose finished_ms < CUTOFF_MS
 * (never queued/running ones), and single-use token ids past their expiry.
 * *n (may be NULL) gets the jobs deleted. A delivery goes when its key has
 * no job left. Runs in batches of at most 1000 jobs so claims are not held
 * up; on failure *n counts the batches already committed. */
int store_prune(struct store *s, int64_t cutoff_ms, int *n);


/* ---- the durable queue, history and replay ----
 *
 * Queued jobs are the durable queue of async hooks: store_open's marking
 * turns only "running" jobs into "interrupted"; "queued" ones stay queued and
 * run after a restart. */

/* store_claim, but a NEW or RETRY attempt starts in INITIAL_STATE, "running"
 * (sync hooks) or "queued" (async hooks). store_claim(...) is this with
 * "running". -EINVAL for any other state (jobstate_is_initial). */
int store_claim_state(struct store *s, const char *hook, const char *key, const char *body_sha256_hex,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms,
    enum jobstate initial_state, struct store_claim_res *out);

/* Take the oldest "queued" job (lowest id) and mark it "running" with
 * started_ms = NOW_MS, atomically (two takers never get the same job). Fills
 * JOB, and hands over its delivery's body (*body, *len; NUL-terminated) and
 * headers JSON (*meta, may be NULL). -ENOENT when the queue is empty. */
int store_take_queued(struct store *s, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta);
/* Put a job taken by store_take_queued back in the queue ("running" ->
 * "queued", started_ms cleared) when it did not start: the daemon is
 * stopping. It runs after the next start. -ENOENT when JOB_ID is not a
 * running job. */
int store_requeue(struct store *s, int64_t job_id);
/* Number of "queued" jobs. */
int store_count_queued(struct store *s, int *n);

/* Re-run the delivery of job JOB_ID as a new attempt (the operator's replay,
 * whatever the latest attempt's outcome, also after success): BUSY when the
 * latest attempt of its (hook, key) is queued or running (nothing written),
 * else a new attempt n+1 in INITIAL_STATE: STORE_RETRY. -ENOENT when no such
 * job or its delivery was pruned. */
int store_claim_again(struct store *s, int64_t job_id, enum jobstate initial_state, int64_t now_ms,
    struct store_claim_res *out);

/* The stored delivery of (HOOK, KEY): body (NUL-terminated, *len bytes) and
 * headers JSON (may be NULL). -ENOENT when none. */
int store_delivery_get(struct store *s, const char *hook, const char *key, char **body,
    size_t *len, char **meta);

/* Jobs newest first (by id), at most LIMIT (1..10000), only HOOK's when
 * non-NULL, only those not "succeeded" and not queued/running when
 * FAILED_ONLY. *out is a malloc'ed array of *n jobs (NULL when none); free
 * each with store_job_clear and the array with free(). A consistent
 * snapshot. */
int store_list(struct store *s, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n);
/* Every attempt of (HOOK, KEY), oldest first (at most 10000), returned as
 * store_list returns them; none is 0 with *n = 0. For `jobs show`. */
int store_attempts(struct store *s, const char *hook, const char *key, struct store_job **out,
    size_t *n);

/* 0 when the store answers a read and would accept a write; else the
 * errno, *why (may be NULL) saying which check failed. Nothing is written,
 * so a full disk shows up only at the next real write. */
int store_health(struct store *s, enum store_why *why);

/* ---- approvals ----------------------------------------------------------
 *
 * A job of a hook with an approval is claimed "pending_approval" together
 * with its approval record (store_claim_req with rq->approval, one
 * transaction). People vote on it (store_approval_vote); the store enforces
 * what must be atomic: no vote on a decided or expired approval, one vote
 * per voter, and the decision:
 *   an approve vote that brings the approve votes to REQUIRED -> "approved",
 *     and the job goes "pending_approval" -> "queued" (workers run it);
 *   a deny vote -> "denied" at once, the job "denied" (final, never runs);
 *   expiry (store_approvals_expire, or a vote at/after expires_ms) ->
 *     "expired", the job "expired" (final, never runs).
 * Who may vote (approvers, self-approval) is the approval module's rule
 * (approval.h), never the store's.
 *
 * Change tracking: every change of an approval (created, vote, decision)
 * takes the next value of a store-wide sequence into its seq; synced_seq is
 * the last seq the Slack message shows. A process that shows approvals
 * elsewhere (the Slack side) lists those with seq > synced_seq
 * (store_approvals_unsynced) and claims each change before it acts
 * (store_approval_claim_sync): one claimer wins per change, so the message
 * is updated once per change even with several daemons or a CLI on the
 * store. store_approvals_changed lists changes after a seq, for a daemon
 * that logs and counts decisions made by any process.
 */

#define STORE_APPROVAL_ID_LEN 32  /* hex digits of an approval id */
#define STORE_VOTER_MAX 64        /* bytes of a voter or requester id */
#define STORE_REASON_MAX 500      /* bytes of a deny reason */
#define STORE_SLACK_REF_MAX 64    /* bytes of a Slack channel id or message ts */

enum store_approval_state {
	STORE_APPROVAL_NONE = 0, /* not a state */
	STORE_APPROVAL_PENDING,
	STORE_APPROVAL_APPROVED,
	STORE_APPROVAL_DENIED,
	STORE_APPROVAL_EXPIRED,
};
enum store_vote_source { STORE_VOTE_SLACK = 1, STORE_VOTE_CLI };
enum store_vote_decision { STORE_VOTE_APPROVE = 1, STORE_VOTE_DENY };

/* "pending", "approved", "denied", "expired" ("unknown" otherwise); and back
 * (STORE_APPROVAL_NONE for anything else). Static storage. */
const char *store_approval_state_name(enum store_approval_state st);
enum store_approval_state store_approval_state_from_name(const char *name);
/* "slack"/"cli" and "approve"/"deny" ("unknown" otherwise). */
const char *store_vote_source_name(enum store_vote_source src);
const char *store_vote_decision_name(enum store_vote_decision d);

/* The approval a pending_approval claim creates (store_claim_req.approval). */
struct store_approval_req {
	const char *id;          /* STORE_APPROVAL_ID_LEN lowercase hex digits, unique (random) */
	const char *requester;   /* 1..STORE_VOTER_MAX bytes, or NULL: unknown */
	int required;            /* approve votes that approve it, 1..1000 */
	int allow_self;          /* the requester may approve (kept for the rules) */
	int64_t expires_ms;      /* when it expires (> the claim's now_ms) */
	const char *channel;     /* the Slack channel to post in, or NULL (<= STORE_SLACK_REF_MAX) */
};

struct store_vote {
	char voter[STORE_VOTER_MAX + 1];
	enum store_vote_source source;
	enum store_vote_decision decision;
	char reason[STORE_REASON_MAX + 1]; /* "" when none */
	int64_t at_ms;
};

struct store_approval {
	char id[STORE_APPROVAL_ID_LEN + 1];
	int64_t job_id;
	char hook[128], key[256];
	char requester[STORE_VOTER_MAX + 1];   /* "" when unknown */
	int required, allow_self;
	int approvals;                         /* approve votes so far */
	int64_t created_ms, expires_ms;
	enum store_approval_state state;
	char decided_by[STORE_VOTER_MAX + 1];  /* the deciding voter; "" pending or expired */
	int64_t decided_ms;                    /* 0 while pending */
	char reason[STORE_REASON_MAX + 1];     /* the deny reason, "" when none */
	char channel[STORE_SLACK_REF_MAX + 1]; /* "" when none */
	char message_ts[STORE_SLACK_REF_MAX + 1]; /* "" until the message is posted */
	int64_t seq, synced_seq;
	struct store_vote *votes;              /* oldest first, malloc'ed; store_approval_clear */
	size_t nvotes;
};
void store_approval_clear(struct store_approval *a);
/* Free an array of N approvals from the listings below (NULL is fine). */
void store_approvals_free(struct store_approval *v, size_t n);

/* The approval ID, or the approval of job JOB_ID, with its votes. -ENOENT
 * when none. */
int store_approval_get(struct store *s, const char *id, struct store_approval *out);
int store_approval_by_job(struct store *s, int64_t job_id, struct store_approval *out);

/* Pending approvals (HOOK's only when non-NULL), oldest first, at most
 * LIMIT (1..10000), with their votes. *out malloc'ed (NULL when none). */
int store_approvals_pending(struct store *s, const char *hook, int limit, struct store_approval **out,
    size_t *n);
/* How many approvals are pending (expired ones not yet marked count). */
int store_approvals_count_pending(struct store *s, int *n);

struct store_vote_req {
	const char *approval_id;
	const char *voter;                /* 1..STORE_VOTER_MAX bytes */
	enum store_vote_source source;
	enum store_vote_decision decision;
	const char *reason;               /* NULL or 0..STORE_REASON_MAX bytes */
	int64_t now_ms;
};

enum store_vote_kind {
	STORE_VOTE_COUNTED = 1, /* recorded; still pending (fewer than required) */
	STORE_VOTE_DECIDED,     /* recorded, and it decided (approved: job queued; denied) */
	STORE_VOTE_CLOSED,      /* already decided: nothing written */
	STORE_VOTE_LATE,        /* at or past expires_ms: the approval is now expired (and its
				 * job), the vote not recorded */
	STORE_VOTE_TWICE,       /* this voter already voted: nothing written */
};

/* One vote, atomically (one transaction): the approval's state, expiry and
 * this voter's earlier vote are checked, the vote recorded, and a decision
 * applied with its job's state (see above). *OUT gets the kind and the
 * approval as it is after the call (votes included; free with
 * store_approval_clear). -ENOENT when there is no such approval; -EINVAL
 * for a bad request. */
int store_approval_vote(struct store *s, const struct store_vote_req *v, enum store_vote_kind *kind,
    struct store_approval *out);

/* Expire pending approvals whose expires_ms <= NOW_MS, and their jobs, at
 * most MAX (1..1000) in one transaction, oldest first. *OUT (malloc'ed, may
 * be NULL when *n is 0) gets the ones expired, without votes. Call again
 * while *n == MAX. */
int store_approvals_expire(struct store *s, int64_t now_ms, int max, struct store_approval **out,
    size_t *n);

/* Record where the approval's Slack message is (CHANNEL, TS: 1..
 * STORE_SLACK_REF_MAX bytes). Not a change: seq is left as it is. -ENOENT
 * when no such approval. */
int store_approval_set_message(struct store *s, const char *id, const char *channel, const char *ts);

/* Approvals changed after SINCE_SEQ (seq > SINCE_SEQ), in seq order, at
 * most LIMIT (1..1000), without votes. For a daemon's tick: log and count
 * the decisions another process made. */
int store_approvals_changed(struct store *s, int64_t since_seq, int limit, struct store_approval **out,
    size_t *n);
/* The highest seq of any approval (0 when none): where a new daemon starts
 * its store_approvals_changed cursor. */
int store_approvals_max_seq(struct store *s, int64_t *seq);
/* Approvals whose message does not show their last change (seq >
 * synced_seq), in seq order, at most LIMIT (1..1000), with votes. */
int store_approvals_unsynced(struct store *s, int limit, struct store_approval **out, size_t *n);
/* Claim the showing of change SEQ of approval ID: *WON = 1 when this call
 * moved synced_seq up to SEQ (the caller updates the message), 0 when
 * another claimer already did (or a later change was claimed). -ENOENT when
 * no such approval. */
int store_approval_claim_sync(struct store *s, const char *id, int64_t seq, int *won);
#endif
