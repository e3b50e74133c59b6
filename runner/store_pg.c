/*
 * store_pg.c — the PostgreSQL store backend (store_backend.h; its schema
 * and files in store_pg.h): connecting, the connection pool, opening
 * (migration, the instance's lease, marking interrupted jobs), closing, the
 * health probe, and the helpers the backend's other files share. Nothing
 * here logs; the last failure is kept for store_errmsg, and no message
 * kept holds the password (libpq's messages never echo it, and the URL is
 * never put in one).
 *
 * How:
 *  - A small pool of connections per handle (store_config.pg_pool): the
 *    front's mutex guards only the message, not the connection, because a
 *    PostgreSQL claim is several round trips to a server and concurrent
 *    claims of different keys need not wait for each other; the database's
 *    row locks and transactions make them safe, not a mutex of ours.
 *  - A connection found lost is reopened (PQreset) when it is next taken;
 *    while the server cannot be reached every operation fails with
 *    -ENOTCONN at once (after libpq's connect timeout), and nothing is
 *    written.
 *  - Values are always bound as parameters; the schema name is checked
 *    ([a-z_][a-z0-9_]*) and set once per connection as its search_path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/randid.h"
#include "pqlib.h"
#include "store_pg.h"

static void pg_close(struct store *b);

/* ---- messages, parameters, results ------------------------------------ */

void store_pg_msg(struct store_pg *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->base.mu);
	va_start(ap, fmt);
	vsnprintf(s->base.err, sizeof s->base.err, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&s->base.mu);
}

/* libpq's message, one line */
static void keep_pq_msg(struct store_pg *s, const char *what, const char *m)
{
	char line[200];
	size_t n;

	snprintf(line, sizeof line, "%s", m && *m ? m : "unknown failure");
	n = strcspn(line, "\n");
	line[n] = 0;
	store_pg_msg(s, "%s: %s", what, line);
}

void store_pg_p_str(struct store_pg_params *p, const char *v)
{
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void store_pg_p_i64(struct store_pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)v);
	store_pg_p_str(p, p->num[p->n]);
}

void store_pg_p_bin(struct store_pg_params *p, const void *v, size_t len)
{
	p->v[p->n] = v ? (len ? v : "") : NULL;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

int64_t store_pg_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int store_pg_dup_bytea(const PGresult *r, int row, int col, char **out)
{
	unsigned char *raw;
	size_t n = 0;

	*out = NULL;
	if (PQgetisnull(r, row, col))
		return 0;
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (!raw || !(*out = malloc(n + 1))) {
		if (raw)
			PQfreemem(raw);
		return -ENOMEM;
	}
	memcpy(*out, raw, n);
	(*out)[n] = 0; /* the texts kept as bytes never hold a NUL: they came as C strings */
	PQfreemem(raw);
	return 0;
}

void store_pg_copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

int store_pg_read_job(const PGresult *r, int row, struct store_job *j)
{
	int rc;

	memset(j, 0, sizeof *j);
	j->id = store_pg_i64(r, row, 0);
	store_pg_copy(r, row, 1, j->hook, sizeof j->hook);
	store_pg_copy(r, row, 2, j->key, sizeof j->key);
	j->attempt = (int)store_pg_i64(r, row, 3);
	j->state = jobstate_from_name(PQgetvalue(r, row, 4));
	j->created_ms = store_pg_i64(r, row, 5);
	j->started_ms = store_pg_i64(r, row, 6);
	j->finished_ms = store_pg_i64(r, row, 7);
	j->exit_code = PQgetisnull(r, row, 8) ? -1 : (int)store_pg_i64(r, row, 8);
	store_pg_copy(r, row, 9, j->signal, sizeof j->signal);
	store_pg_copy(r, row, 10, j->error, sizeof j->error);
	j->http_status = (int)store_pg_i64(r, row, 11);
	rc = store_pg_dup_bytea(r, row, 12, &j->response);
	if (!rc)
		rc = store_pg_dup_bytea(r, row, 13, &j->output_tail);
	if (rc)
		store_job_clear(j);
	return rc;
}

/* ---- running SQL ------------------------------------------------------ */

static int map_sqlstate(const char *st)
{
	if (!st)
		return -EIO;
	if (!strncmp(st, "08", 2) || !strcmp(st, "57P01") || !strcmp(st, "57P02") ||
	    !strcmp(st, "57P03"))
		return -ENOTCONN; /* connection exceptions, the server shutting down */
	if (!strcmp(st, "40001") || !strcmp(st, "40P01") || !strcmp(st, "55P03") ||
	    !strcmp(st, "57014"))
		return -EBUSY;
	if (!strcmp(st, "53100"))
		return -ENOSPC;
	if (!strcmp(st, "53200"))
		return -ENOMEM;
	if (!strcmp(st, "25006"))
		return -EROFS;
	return -EIO;
}

int store_pg_exec(struct store_pg *s, PGconn *c, const char *sql, const struct store_pg_params *p,
    PGresult **res)
{
	PGresult *r;
	ExecStatusType t;
	int rc;

	if (res)
		*res = NULL;
	/* without values: the simple protocol, which takes several statements */
	r = p ? PQexecParams(c, sql, p->n, NULL, p->v, p->len, p->fmt, 0) : PQexec(c, sql);
	t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	if (PQstatus(c) == CONNECTION_BAD)
		rc = -ENOTCONN;
	else if (!r)
		rc = -ENOMEM;
	else
		rc = map_sqlstate(PQresultErrorField(r, PG_DIAG_SQLSTATE));
	keep_pq_msg(s, "postgresql", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return rc;
}

int store_pg_begin(struct store_pg *s, PGconn *c)
{
	return store_pg_exec(s, c, "BEGIN", NULL, NULL);
}

int store_pg_commit(struct store_pg *s, PGconn *c)
{
	return store_pg_exec(s, c, "COMMIT", NULL, NULL);
}

void store_pg_rollback(struct store_pg *s, PGconn *c)
{
	(void)s;
	if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
}

/* ---- connections ------------------------------------------------------ */

/* search_path and the session settings every connection of ours has */
static int setup_conn(struct store_pg *s, PGconn *c)
{
	struct store_pg_params p = { .n = 0 };
	char path[STORE_PG_SCHEMA_MAX + 4];

	snprintf(path, sizeof path, "\"%s\"", s->schema);
	store_pg_p_str(&p, path);
	return store_pg_exec(s, c, "SELECT set_config('search_path', $1, false),"
	    " set_config('lock_timeout', '5s', false), set_config('statement_timeout', '30s', false)",
	    &p, NULL);
}

PGconn *store_pg_connect(struct store_pg *s, int *rc)
{
	const char *kw[8], *val[8];
	char tmo[16], why[300];
	PGconn *c;
	int i = 0;

	snprintf(tmo, sizeof tmo, "%d", s->connect_timeout_s);
	kw[i] = "dbname", val[i++] = s->url; /* expanded: the URL's own parameters, sslmode... */
	if (s->password)
		kw[i] = "password", val[i++] = s->password;
	kw[i] = "connect_timeout", val[i++] = tmo;
	kw[i] = "application_name", val[i++] = "webhook-runner";
	kw[i] = "client_encoding", val[i++] = "UTF8";
	kw[i] = NULL, val[i] = NULL;
	/* libpq is loaded by the first connection, not linked (pqlib.h). */
	if ((*rc = pqlib_load(why, sizeof why)) != 0) {
		store_pg_msg(s, "postgresql: %s", why);
		return NULL;
	}
	c = PQconnectdbParams(kw, val, 1);
	if (!c) {
		store_pg_msg(s, "postgresql: out of memory");
		*rc = -ENOMEM;
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		keep_pq_msg(s, "postgresql: connect", PQerrorMessage(c));
		PQfinish(c);
		*rc = -ENOTCONN;
		return NULL;
	}
	if ((*rc = setup_conn(s, c)) != 0) {
		PQfinish(c);
		return NULL;
	}
	*rc = 0;
	return c;
}

struct store_pg_conn *store_pg_get(struct store_pg *s, int *rc)
{
	struct store_pg_conn *pc = NULL;
	int i;

	pthread_mutex_lock(&s->pmu);
	for (;;) {
		for (i = 0; i < s->npool && !pc; i++)
			if (!s->pool[i].busy)
				pc = &s->pool[i];
		if (pc)
			break;
		pthread_cond_wait(&s->pcv, &s->pmu);
	}
	pc->busy = 1;
	pthread_mutex_unlock(&s->pmu);
	*rc = 0;
	if (pc->c && PQstatus(pc->c) == CONNECTION_OK)
		return pc;
	/* lost (or never opened): a new one, with our session settings */
	if (pc->c)
		PQfinish(pc->c);
	pc->c = store_pg_connect(s, rc);
	if (pc->c)
		return pc;
	store_pg_put(s, pc);
	return NULL;
}

void store_pg_put(struct store_pg *s, struct store_pg_conn *pc)
{
	if (pc->c && PQtransactionStatus(pc->c) != PQTRANS_IDLE)
		store_pg_rollback(s, pc->c); /* never hand on an open transaction */
	pthread_mutex_lock(&s->pmu);
	pc->busy = 0;
	pthread_cond_signal(&s->pcv);
	pthread_mutex_unlock(&s->pmu);
}

int store_pg_delivery_read(struct store_pg *s, PGconn *c, const char *hook, const char *key,
    char **body, size_t *len, char **meta, char sha[65])
{
	struct store_pg_params p = { .n = 0 };
	PGresult *r = NULL;
	unsigned char *raw = NULL;
	char *b = NULL, *m = NULL;
	size_t n = 0;
	int rc;

	store_pg_p_str(&p, hook);
	store_pg_p_str(&p, key);
	rc = store_pg_exec(s, c, "SELECT body, headers, body_sha256 FROM deliveries"
	    " WHERE hook = $1 AND key = $2", &p, &r);
	if (rc)
		goto out;
	if (PQntuples(r) == 0) {
		store_pg_msg(s, "no such delivery (pruned?)");
		rc = -ENOENT;
		goto out;
	}
	if (sha)
		store_pg_copy(r, 0, 2, sha, 65);
	if (body) {
		raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
		if (!raw || !(b = malloc(n + 1)) || store_pg_dup_bytea(r, 0, 1, &m)) {
			store_pg_msg(s, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		memcpy(b, raw, n);
		b[n] = 0;
		*body = b;
		*len = n;
		*meta = m;
		b = m = NULL;
	}
out:
	if (raw)
		PQfreemem(raw);
	PQclear(r);
	free(b);
	free(m);
	return rc;
}

/* ---- open, close, health ---------------------------------------------- */

static int valid_schema(const char *n)
{
	size_t i;

	if (!n || !*n || strlen(n) > STORE_PG_SCHEMA_MAX || (n[0] >= '0' && n[0] <= '9'))
		return 0;
	for (i = 0; n[i]; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

static int pg_open(const struct store_config *sc, int mark, int *n_interrupted, struct store **out,
    enum store_why *why)
{
	struct store_pg *s = calloc(1, sizeof *s);
	struct store_pg_conn *pc = NULL;
	int rc;

	if (!s)
		return -ENOMEM;
	if ((rc = store_base_init(&s->base, &store_pg_ops)) != 0) {
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->pmu, NULL);
	pthread_cond_init(&s->pcv, NULL);
	pthread_mutex_init(&s->hmu, NULL);
	pthread_cond_init(&s->hcv, NULL);
	s->npool = sc->pg_pool ? sc->pg_pool : 4;
	s->lease_ms = sc->pg_lease_ms ? sc->pg_lease_ms : 10000;
	s->heartbeat_ms = sc->pg_heartbeat_ms ? sc->pg_heartbeat_ms : 2000;
	s->connect_timeout_s = sc->pg_connect_timeout_s ? sc->pg_connect_timeout_s : 5;
	s->marks = mark;
	snprintf(s->schema, sizeof s->schema, "%s", sc->pg_schema ? sc->pg_schema : "webhook_runner");
	if (s->npool < 1 || s->npool > STORE_PG_POOL_MAX || !valid_schema(sc->pg_schema ?
	    sc->pg_schema : "webhook_runner") || s->heartbeat_ms < 10 || s->lease_ms < 2 * s->heartbeat_ms ||
	    strncmp(sc->pg_url, "postgres", 8) != 0) {
		store_backend_msg(&s->base, "postgresql: invalid store configuration");
		rc = -EINVAL;
		goto out;
	}
	if (!(s->url = strdup(sc->pg_url)) || (sc->pg_password && !(s->password = strdup(sc->pg_password)))) {
		rc = -ENOMEM;
		goto out;
	}
	randid_hex(s->id, 16, 'x');
	if (!(pc = store_pg_get(s, &rc)))
		goto out;
	if ((rc = store_pg_schema_migrate(s, pc->c, sc->must_exist, why)) != 0)
		goto out;
	if ((rc = store_pg_lease_register(s, pc->c)) != 0)
		goto out;
	if (mark && (rc = store_pg_lease_sweep(s, pc->c, n_interrupted)) != 0)
		goto out;
	store_pg_put(s, pc);
	pc = NULL;
	if ((rc = store_pg_lease_start(s)) != 0)
		goto out;
	s->base.err[0] = 0;
	*out = &s->base;
	s = NULL;
out:
	if (pc)
		store_pg_put(s, pc);
	if (s && sc->open_err && sc->open_errlen)
		snprintf(sc->open_err, sc->open_errlen, "%s", s->base.err);
	if (s)
		pg_close(&s->base);
	return rc;
}

static void pg_close(struct store *b)
{
	struct store_pg *s = (struct store_pg *)b;
	struct store_pg_params p = { .n = 0 };
	int i;

	store_pg_lease_stop(s); /* takes our instance out: its running jobs are interrupted now */
	for (i = 0; i < s->npool; i++) {
		if (s->pool[i].c && PQstatus(s->pool[i].c) == CONNECTION_OK && s->id[0]) {
			store_pg_p_str(&p, s->id);
			store_pg_exec(s, s->pool[i].c, "DELETE FROM instances WHERE id = $1", &p, NULL);
			s->id[0] = 0;
		}
		if (s->pool[i].c)
			PQfinish(s->pool[i].c);
	}
	pthread_cond_destroy(&s->pcv);
	pthread_mutex_destroy(&s->pmu);
	pthread_cond_destroy(&s->hcv);
	pthread_mutex_destroy(&s->hmu);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->url);
	store_base_fini(&s->base);
	free(s);
}

/* A read of the jobs table and a write that is rolled back: the server is
 * reachable, the schema there, the database not read-only. */
static int health_once(struct store_pg *s, enum store_why *why)
{
	struct store_pg_conn *pc;
	int rc;

	if (!(pc = store_pg_get(s, &rc))) {
		*why = STORE_WHY_GONE;
		return rc;
	}
	rc = store_pg_exec(s, pc->c, "SELECT max(id) FROM jobs", NULL, NULL);
	if (rc) {
		*why = rc == -ENOTCONN ? STORE_WHY_GONE : STORE_WHY_READ;
		goto out;
	}
	if (!(rc = store_pg_begin(s, pc->c)))
		rc = store_pg_exec(s, pc->c, "UPDATE instances SET lease_until = lease_until WHERE false",
		    NULL, NULL);
	if (!rc)
		rc = store_pg_exec(s, pc->c, "SELECT txid_current()", NULL, NULL); /* needs a writable database */
	if (rc)
		*why = rc == -ENOTCONN ? STORE_WHY_GONE : STORE_WHY_LOCKED;
	store_pg_rollback(s, pc->c);
out:
	store_pg_put(s, pc);
	return rc;
}

/* A pooled connection the server dropped fails once: one more try on a new one. */
static int pg_health(struct store *b, enum store_why *why)
{
	struct store_pg *s = (struct store_pg *)b;
	int rc = health_once(s, why);

	if (rc == -ENOTCONN)
		rc = health_once(s, why);
	return rc;
}

static void pg_on_queued(struct store *b, void (*fn)(void *), void *arg)
{
	struct store_pg *s = (struct store_pg *)b;

	pthread_mutex_lock(&s->hmu);
	s->wake = fn;
	s->wake_arg = arg;
	pthread_mutex_unlock(&s->hmu);
}

static void pg_on_interrupted(struct store *b, void (*fn)(int, void *), void *arg)
{
	struct store_pg *s = (struct store_pg *)b;

	pthread_mutex_lock(&s->hmu);
	s->swept = fn;
	s->swept_arg = arg;
	pthread_mutex_unlock(&s->hmu);
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.claim = store_pg_claim,
	.unclaim = store_pg_claim_undo,
	.finish = store_pg_claim_finish,
	.job_get = store_pg_history_job,
	.prune = store_pg_history_prune,
	.take_queued = store_pg_queue_take,
	.requeue = store_pg_queue_requeue,
	.count_queued = store_pg_queue_count,
	.claim_again = store_pg_claim_again,
	.delivery_get = store_pg_history_delivery,
	.list = store_pg_history_list,
	.attempts = store_pg_history_attempts,
	.health = pg_health,
	.approval_get = store_pg_approval_get,
	.approvals_pending = store_pg_approval_pending,
	.approvals_count_pending = store_pg_approval_count,
	.approval_vote = store_pg_approval_vote,
	.approvals_expire = store_pg_approval_expire,
	.approval_set_message = store_pg_approval_message,
	.approvals_changed = store_pg_approval_changed,
	.approvals_max_seq = store_pg_approval_max_seq,
	.approvals_unsynced = store_pg_approval_unsynced,
	.approval_claim_sync = store_pg_approval_claim_sync,
	.on_queued = pg_on_queued,
	.on_interrupted = pg_on_interrupted,
};
