/*
 * sseparse.c — the incremental, bounded text/event-stream parser (contract
 * and the rules it follows in sseparse.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sseparse.h"

static const char *const why_text[] = {
	[SSEPARSE_OK] = "ok",
	[SSEPARSE_LINE_TOO_LONG] = "line too long",
	[SSEPARSE_EVENT_TOO_BIG] = "event too big",
	[SSEPARSE_FIELD_TOO_LONG] = "id or event type too long",
	[SSEPARSE_STOPPED] = "parser stopped by an earlier error",
	[SSEPARSE_CALLBACK] = "stopped by the event handler",
};

const char *sseparse_why_text(enum sseparse_why why)
{
	if ((unsigned)why >= sizeof why_text / sizeof why_text[0] || !why_text[why])
		return "unknown";
	return why_text[why];
}

int sseparse_init(struct sseparse *p, size_t max_line, size_t max_event)
{
	if (!p || !max_line || !max_event || max_line > ((size_t)-1) / 4 || max_event > ((size_t)-1) / 4)
		return -EINVAL;
	memset(p, 0, sizeof *p);
	p->max_line = max_line;
	p->max_event = max_event;
	p->retry_ms = -1;
	return 0;
}

void sseparse_reset(struct sseparse *p)
{
	p->line_len = 0;
	p->data_len = 0;
	p->type[0] = 0;
	p->cr_seen = 0;
	p->bom_done = 0;
	p->stopped = SSEPARSE_OK;
}

void sseparse_free(struct sseparse *p)
{
	free(p->line);
	free(p->data);
	p->line = p->data = NULL;
	p->line_cap = p->data_cap = p->line_len = p->data_len = 0;
}

/* Room for NEED bytes (plus a NUL) in *BUF of *CAP, bounded by MAX. */
static int grow(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t ncap;
	char *nb;

	if (need + 1 <= *cap)
		return 0;
	ncap = *cap ? *cap : 256;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > max + 1)
		ncap = max + 1;
	if (ncap < need + 1)
		return -EMSGSIZE;
	nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int dispatch(struct sseparse *p, sseparse_cb cb, void *arg, enum sseparse_why *why)
{
	struct sseparse_event ev;
	int rc;

	if (p->data_len == 0) {
		p->type[0] = 0;
		return 0;
	}
	p->data_len--;            /* the LF after the last data line */
	p->data[p->data_len] = 0;
	ev.type = p->type[0] ? p->type : "message";
	ev.id = p->id;
	ev.data = p->data;
	ev.data_len = p->data_len;
	p->events++;
	rc = cb ? cb(arg, &ev) : 0;
	p->data_len = 0;
	p->type[0] = 0;
	if (rc) {
		*why = SSEPARSE_CALLBACK;
		return -ECANCELED;
	}
	return 0;
}

/* One complete line (no line end) in p->line. */
static int line_done(struct sseparse *p, sseparse_cb cb, void *arg, enum sseparse_why *why)
{
	const char *l = p->line, *colon, *val;
	size_t n = p->line_len, flen, vlen;
	int rc;

	if (!p->bom_done) {
		p->bom_done = 1;
		if (n >= 3 && (unsigned char)l[0] == 0xEF && (unsigned char)l[1] == 0xBB &&
		    (unsigned char)l[2] == 0xBF) {
			l += 3;
			n -= 3;
		}
	}
	if (n == 0)
		return dispatch(p, cb, arg, why);
	if (l[0] == ':') {
		p->comments++;
		return 0;
	}
	colon = memchr(l, ':', n);
	if (colon) {
		flen = (size_t)(colon - l);
		val = colon + 1;
		vlen = n - flen - 1;
		if (vlen && *val == ' ') {
			val++;
			vlen--;
		}
	} else {
		flen = n;
		val = l + n;
		vlen = 0;
	}
	if (flen == 4 && !memcmp(l, "data", 4)) {
		if (p->data_len + vlen + 1 > p->max_event) {
			*why = SSEPARSE_EVENT_TOO_BIG;
			return -EMSGSIZE;
		}
		rc = grow(&p->data, &p->data_cap, p->data_len + vlen + 1, p->max_event);
		if (rc) {
			*why = rc == -EMSGSIZE ? SSEPARSE_EVENT_TOO_BIG : SSEPARSE_OK;
			return rc;
		}
		memcpy(p->data + p->data_len, val, vlen);
		p->data_len += vlen;
		p->data[p->data_len++] = '\n';
		p->data[p->data_len] = 0;
	} else if (flen == 5 && !memcmp(l, "event", 5)) {
		if (vlen > SSEPARSE_TYPE_MAX) {
			*why = SSEPARSE_FIELD_TOO_LONG;
			return -EMSGSIZE;
		}
		memcpy(p->type, val, vlen);
		p->type[vlen] = 0;
	} else if (flen == 2 && !memcmp(l, "id", 2)) {
		if (memchr(val, 0, vlen))
			return 0;             /* the spec: an id holding NUL is ignored */
		if (vlen > SSEPARSE_ID_MAX) {
			*why = SSEPARSE_FIELD_TOO_LONG;
			return -EMSGSIZE;
		}
		memcpy(p->id, val, vlen);
		p->id[vlen] = 0;
	} else if (flen == 5 && !memcmp(l, "retry", 5)) {
		long long v = 0;
		size_t i;

		if (!vlen)
			return 0;
		for (i = 0; i < vlen; i++) {
			if (val[i] < '0' || val[i] > '9')
				return 0;
			if (v < 1000000000000LL)   /* clamp: a huge hint is just huge */
				v = v * 10 + (val[i] - '0');
		}
		p->retry_ms = v;
	}
	return 0;
}

int sseparse_feed(struct sseparse *p, const char *buf, size_t n, sseparse_cb cb, void *arg,
                  enum sseparse_why *why)
{
	enum sseparse_why w = SSEPARSE_OK;
	size_t i = 0;
	int rc = 0;

	if (p->stopped != SSEPARSE_OK) {
		w = SSEPARSE_STOPPED;
		rc = -EMSGSIZE;
		goto out;
	}
	while (i < n) {
		const char *e;
		size_t take;

		if (p->cr_seen) {
			p->cr_seen = 0;
			if (buf[i] == '\n') {   /* the LF of a CRLF split across chunks */
				i++;
				continue;
			}
		}
		/* The next line end, LF or CR, whichever comes first. */
		e = NULL;
		for (take = 0; i + take < n; take++) {
			char c = buf[i + take];

			if (c == '\n' || c == '\r') {
				e = buf + i + take;
				break;
			}
		}
		if (p->line_len + take > p->max_line) {
			w = SSEPARSE_LINE_TOO_LONG;
			rc = -EMSGSIZE;
			goto out;
		}
		rc = grow(&p->line, &p->line_cap, p->line_len + take, p->max_line);
		if (rc) {
			w = rc == -EMSGSIZE ? SSEPARSE_LINE_TOO_LONG : SSEPARSE_OK;
			goto out;
		}
		memcpy(p->line + p->line_len, buf + i, take);
		p->line_len += take;
		p->line[p->line_len] = 0;
		i += take;
		if (!e)
			break;
		i++;                       /* the CR or LF */
		if (*e == '\r') {
			if (i < n) {
				if (buf[i] == '\n')
					i++;
			} else {
				p->cr_seen = 1;
			}
		}
		rc = line_done(p, cb, arg, &w);
		p->line_len = 0;
		if (rc)
			goto out;
	}
out:
	if (rc) {
		if (w == SSEPARSE_OK && rc != -ENOMEM)
			w = SSEPARSE_CALLBACK;
		p->stopped = w != SSEPARSE_OK ? w : SSEPARSE_STOPPED;
	}
	if (why)
		*why = w;
	return rc;
}
