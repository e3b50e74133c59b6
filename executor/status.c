/*
 * status.c — the executor's outcome record and its JSON line (contract in
 * status.h). Strings that reach the line are escaped here, whatever their
 * origin (library messages, host names given on the command line).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "status.h"
#include "../common/clock.h"

void status_init(struct status *st, const char *user, const char *host, int port)
{
	memset(st, 0, sizeof *st);
	st->user = user;
	st->host = host;
	st->port = port;
	st->t_start = clock_mono_ms();
}

void status_phase(struct status *st, enum exstatus_phase ph)
{
	st->phase = ph;
	st->t_phase[ph] = clock_mono_ms();
}

void status_fail(struct status *st, enum exstatus_error e, const char *fmt, ...)
{
	va_list ap;

	if (st->error != EXSTATUS_OK)
		return;
	st->error = e;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof st->message, fmt, ap);
	va_end(ap);
}

/* Appending writer over a fixed buffer; overflow is sticky. */
struct w {
	char *p;
	size_t len, off;
	int over;
};

static void w_raw(struct w *w, const char *s, size_t n)
{
	if (w->over || w->off + n >= w->len) {
		w->over = 1;
		return;
	}
	memcpy(w->p + w->off, s, n);
	w->off += n;
	w->p[w->off] = '\0';
}

static void w_fmt(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_fmt(struct w *w, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		w->over = 1;
		return;
	}
	w_raw(w, tmp, (size_t)n);
}

/* A JSON string, or null for NULL/empty. */
static void w_str(struct w *w, const char *s)
{
	const unsigned char *c;

	if (!s || !*s) {
		w_raw(w, "null", 4);
		return;
	}
	w_raw(w, "\"", 1);
	for (c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			char e[2] = { '\\', (char)*c };
			w_raw(w, e, 2);
		} else if (*c < 0x20 || *c == 0x7f) {
			w_fmt(w, "\\u%04x", *c);
		} else {
			w_raw(w, (const char *)c, 1);
		}
	}
	w_raw(w, "\"", 1);
}

/* How long phase PH took (or has taken so far) into *MS. 0, or -ENOENT when
 * the run never entered it. */
static int phase_ms(const struct status *st, enum exstatus_phase ph, int64_t *ms)
{
	int64_t start = st->t_phase[ph], end = 0;
	int next;

	if (!start)
		return -ENOENT;
	for (next = ph + 1; next <= EXSTATUS_PH_DONE; next++)
		if (st->t_phase[next]) {
			end = st->t_phase[next];
			break;
		}
	if (!end)
		end = st->t_end ? st->t_end : clock_mono_ms();
	*ms = end - start;
	return 0;
}

int status_format(const struct status *st, char *buf, size_t len)
{
	struct w w = { buf, len, 0, 0 };
	static const enum exstatus_phase timed[] = { EXSTATUS_PH_CONNECT, EXSTATUS_PH_HANDSHAKE,
		EXSTATUS_PH_HOSTKEY, EXSTATUS_PH_AUTH, EXSTATUS_PH_EXEC };
	size_t i;

	if (len)
		buf[0] = '\0';
	w_fmt(&w, "{\"v\":%d,\"phase\":\"%s\",\"error\":", EXSTATUS_VERSION,
	    exstatus_phase_name(st->phase));
	w_str(&w, exstatus_error_name(st->error));
	w_raw(&w, ",\"message\":", 11);
	w_str(&w, st->message);
	if (st->has_exit)
		w_fmt(&w, ",\"exit\":%d", st->exit_code);
	else
		w_raw(&w, ",\"exit\":null", 12);
	w_raw(&w, ",\"signal\":", 10);
	w_str(&w, st->signal);
	w_fmt(&w, ",\"bytes_out\":%llu,\"bytes_err\":%llu,\"truncated\":%s",
	    (unsigned long long)st->bytes_out, (unsigned long long)st->bytes_err,
	    st->truncated ? "true" : "false");
	w_raw(&w, ",\"user\":", 8);
	w_str(&w, st->user);
	w_raw(&w, ",\"host\":", 8);
	w_str(&w, st->host);
	w_fmt(&w, ",\"port\":%d,\"hostkey_type\":", st->port);
	w_str(&w, st->hostkey_type);
	w_raw(&w, ",\"hostkey\":", 11);
	w_str(&w, st->hostkey);
	w_raw(&w, ",\"ms\":{", 7);
	for (i = 0; i < sizeof timed / sizeof timed[0]; i++) {
		int64_t ms = -1;
		if (phase_ms(st, timed[i], &ms) == 0 && ms >= 0)
			w_fmt(&w, "\"%s\":%lld,", exstatus_phase_name(timed[i]), (long long)ms);
	}
	w_fmt(&w, "\"total\":%lld}}\n",
	    (long long)((st->t_end ? st->t_end : clock_mono_ms()) - st->t_start));
	return w.over ? -ENOSPC : (int)w.off;
}

int status_write(const struct status *st, int fd)
{
	/* Worst case: user (255), host (253), message (255), signal and key
	 * type (31 each), every byte escaped as \u00XX, plus the rest: ~5.5 KB.
	 * The line must never be lost for want of room. */
	char line[8192];
	int n = status_format(st, line, sizeof line);
	size_t off = 0;

	if (n < 0)
		return n;
	while (off < (size_t)n) {
		ssize_t k = write(fd, line + off, (size_t)n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -errno;
		off += (size_t)k;
	}
	return 0;
}
