/*
 * chan.c — one run on an open connection (contract in chan.h): the session
 * channel, the exec request, the --posix-sh script on its stdin, the relay
 * of both remote streams, and the exit status or signal.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "../common/clock.h"
#include "../common/xproto.h"
#include "chan.h"
#include "posixsh.h"

#define CLOSE_GRACE_MS 2000 /* a finished command: the server's close is on its way */
#define WRITE_MAX 32700     /* what libssh2 sends in one channel write at most */

/* Service mode: BUF (N <= XPROTO_CHUNK_MAX bytes) to the client as one
 * stdout or stderr frame, under the deadline and the stop flag. A client
 * that is gone (write error) stops the run; a frame cut short (deadline,
 * stop) leaves the stream unusable, so no status frame may follow it. */
static void relay_frame(struct conn *s, int which, const char *buf, size_t n)
{
	unsigned char fr[XPROTO_FHDR_LEN + XPROTO_CHUNK_MAX];
	int len = xproto_frame_put(XPROTO_RESPONSE, which ? XPROTO_T_STDERR : XPROTO_T_STDOUT, buf,
	    n, fr, sizeof fr);
	size_t off = 0;

	if (len < 0 || s->out_closed[0])
		return;
	while (off < (size_t)len) {
		struct pollfd p = { .fd = s->frame_fd, .events = POLLOUT };
		int ms = 1000;
		ssize_t k;

		if (*s->stop || (s->deadline && clock_mono_ms() >= s->deadline)) {
			if (off)
				s->frame_cut = 1;
			return;
		}
		if (s->deadline && s->deadline - clock_mono_ms() < ms)
			ms = (int)(s->deadline - clock_mono_ms());
		if (poll(&p, 1, ms < 1 ? 1 : ms) <= 0)
			continue;
		k = send(s->frame_fd, fr + off, (size_t)len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			off += (size_t)k;
		} else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		} else {
			s->out_closed[0] = s->out_closed[1] = 1;
			s->frame_cut = 1;
			s->stop_why = "the client went away";
			*s->stop = 1;
			return;
		}
	}
}

/* Write all of BUF to FD (which may be blocking or not); on a closed reader
 * the stream is marked closed and the rest is dropped. A reader that stops
 * reading must not hold us past the deadline or a stop signal: we wait for
 * room with poll, then write at most PIPE_BUF bytes, which a pipe that polls
 * writable takes without blocking. At the deadline or on a stop the rest is
 * dropped and the caller ends the run. */
static void relay(struct conn *s, int which, const char *buf, size_t n)
{
	int fd = which ? STDERR_FILENO : STDOUT_FILENO;
	uint64_t *count = which ? &s->st->bytes_err : &s->st->bytes_out;
	uint64_t total = s->st->bytes_out + s->st->bytes_err;
	size_t off = 0;

	*count += n;
	if (s->a->max_output) {
		if (total >= s->a->max_output) {
			s->st->truncated = 1;
			return;
		}
		if (total + n > s->a->max_output) {
			n = (size_t)(s->a->max_output - total);
			s->st->truncated = 1;
		}
	}
	if (s->frame_fd >= 0) {
		relay_frame(s, which, buf, n);
		return;
	}
	while (off < n && !s->out_closed[which]) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int ms = 1000;
		ssize_t k;

		if (*s->stop)
			return;
		if (s->deadline) {
			int64_t left = s->deadline - clock_mono_ms();
			if (left <= 0)
				return;
			if (left < ms)
				ms = (int)left;
		}
		if (poll(&p, 1, ms) <= 0)
			continue; /* no room yet, or a signal: check again */
		k = write(fd, buf + off, n - off > PIPE_BUF ? PIPE_BUF : n - off);
		if (k > 0)
			off += (size_t)k;
		else if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		else
			s->out_closed[which] = 1;
	}
}

/* Read what the channel holds on both streams and relay it. 0, with
 * *PROGRESSED telling whether something came, or -EIO with the status set. */
static int read_streams(struct conn *s, int *progressed)
{
	char buf[XPROTO_CHUNK_MAX];
	int which;

	*progressed = 0;
	for (which = 0; which < 2; which++) {
		ssize_t n = libssh2_channel_read_ex(s->ch, which ? SSH_EXTENDED_DATA_STDERR : 0,
		    buf, sizeof buf);
		if (n > 0) {
			relay(s, which, buf, (size_t)n);
			*progressed = 1;
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			status_fail(s->st, EXSTATUS_EIO, "connection lost while the command ran: %s",
			    conn_errmsg(s));
			return -EIO;
		}
	}
	return 0;
}

/* --posix-sh: write SCRIPT on the channel's stdin under the run's deadline,
 * the stop flag and the keepalive. 0 when all of it went, or when the
 * remote side ended first (a login shell that refuses to run it, such as
 * nologin: its output and status tell the rest); a negative errno with the
 * status set.
 * A remote side that ends without reading grants no more window, so while
 * the write waits for window (no packet of ours half-sent) the output is
 * relayed: that unmasks the EOF that libssh2 hides behind unread data. */
static int send_script(struct conn *s, const char *script, size_t len)
{
	size_t off = 0;
	int w, r, idle, got;

	while (off < len) {
		/* After EAGAIN libssh2 wants the very same arguments again: the
		 * chunk depends on OFF only, which EAGAIN leaves alone. */
		size_t n = len - off > WRITE_MAX ? WRITE_MAX : len - off;
		ssize_t k;

		if (*s->stop) {
			status_fail(s->st, EXSTATUS_ETERMINATED, "%s while sending the command", s->stop_why);
			return -EINTR;
		}
		if (s->deadline && clock_mono_ms() >= s->deadline) {
			status_fail(s->st, EXSTATUS_ETIMEOUT, "run timed out while sending the command");
			return -ETIMEDOUT;
		}
		k = libssh2_channel_write(s->ch, script + off, n);
		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && k != LIBSSH2_ERROR_EAGAIN) {
			status_fail(s->st, EXSTATUS_EIO, "connection lost while sending the command: %s",
			    conn_errmsg(s));
			return -EIO;
		}
		idle = !(libssh2_session_block_directions(s->ssh) & LIBSSH2_SESSION_BLOCK_OUTBOUND);
		if (idle) {
			if ((r = read_streams(s, &got)) != 0)
				return r;
			if (got)
				continue;
		}
		if (libssh2_channel_eof(s->ch))
			return 0;
		if ((r = conn_keepalive_tick(s, idle)) != 0)
			return r;
		if ((w = conn_wait_io(s, s->deadline, 1000)) < 0 && w != -ETIMEDOUT && w != -EINTR) {
			status_fail(s->st, EXSTATUS_EIO, "poll: %s", strerror(-w));
			return w;
		}
	}
	return 0;
}

/* Relay both streams until the server closes the channel (the command has
 * ended and its exit status or signal has arrived). 0, or a negative errno
 * with the status set. */
static int stream(struct conn *s)
{
	int w, r, got;

	for (;;) {

		if (*s->stop) {
			status_fail(s->st, EXSTATUS_ETERMINATED, "%s while the command ran", s->stop_why);
			return -EINTR;
		}
		if (s->deadline && clock_mono_ms() >= s->deadline) {
			status_fail(s->st, EXSTATUS_ETIMEOUT, "command timed out after %lld ms",
			    (long long)s->a->timeout_ms);
			return -ETIMEDOUT;
		}
		if ((r = read_streams(s, &got)) != 0)
			return r;
		if (got)
			continue;
		/* EOF only means the command closed its outputs; it may run on.
		 * Its exit status arrives just before the server closes the
		 * channel, so wait for that close, under the same deadline,
		 * stop flag and keepalive as the output. */
		if (libssh2_channel_eof(s->ch)) {
			r = libssh2_channel_wait_closed(s->ch);
			if (r == 0)
				return 0;
			if (r != LIBSSH2_ERROR_EAGAIN) {
				status_fail(s->st, EXSTATUS_EIO, "connection lost while the command ran: %s",
				    conn_errmsg(s));
				return -EIO;
			}
		}
		if ((r = conn_keepalive_tick(s, 1)) != 0)
			return r;
		/* Wake at least once a second for the keepalive and deadline checks. */
		if ((w = conn_wait_io(s, s->deadline, 1000)) < 0 && w != -ETIMEDOUT && w != -EINTR) {
			status_fail(s->st, EXSTATUS_EIO, "poll: %s", strerror(-w));
			return w;
		}
	}
}

int chan_exec(struct conn *s)
{
	int rc, w = 0, ret;
	int64_t open_dl;
	char *sig = NULL, *script = NULL;
	size_t siglen = 0, slen = 0;

	status_phase(s->st, EXSTATUS_PH_EXEC);
	if (s->a->posix_sh &&
	    (rc = posixsh_script(s->a->command, strlen(s->a->command), &script, &slen)) != 0) {
		status_fail(s->st, EXSTATUS_EINTERNAL, "cannot build the --posix-sh script: %s",
		    strerror(-rc));
		ret = rc;
		goto out;
	}
	/* Opening the channel runs nothing: bounded by the handshake timeout,
	 * so a warm connection whose peer vanished fails in time for another. */
	open_dl = conn_min_deadline(clock_mono_ms() + s->a->handshake_timeout_ms, s->deadline);
	while (!(s->ch = libssh2_channel_open_session(s->ssh)) &&
	    libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
		if ((w = conn_wait_io(s, open_dl, 1000)) < 0)
			break;
	if (!s->ch) {
		if (w < 0)
			conn_fail_wait(s, w, EXSTATUS_ETIMEOUT, "channel open");
		else
			status_fail(s->st, EXSTATUS_EEXEC, "cannot open a session channel: %s", conn_errmsg(s));
		ret = w < 0 ? w : -EPROTO;
		goto out;
	}
	s->exec_sent = 1; /* from here on the command may run: never run it again */
	while ((rc = libssh2_channel_exec(s->ch, script ? POSIXSH_EXEC_REQUEST : s->a->command)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if ((w = conn_wait_io(s, s->deadline, 1000)) < 0)
			break;
	if (w < 0) {
		conn_fail_wait(s, w, EXSTATUS_ETIMEOUT, "exec");
		ret = w;
		goto out;
	}
	if (rc != 0) {
		status_fail(s->st, EXSTATUS_EEXEC, "exec request refused: %s", conn_errmsg(s));
		ret = -EPROTO;
		goto out;
	}
	conn_keepalive_start(s);
	if (script && (ret = send_script(s, script, slen)) != 0)
		goto out;
	/* The command reads an empty stdin, as with ssh -n (with --posix-sh,
	 * the script's </dev/null already sees to it; the EOF ends the outer
	 * /bin/sh's input all the same). */
	while (libssh2_channel_send_eof(s->ch) == LIBSSH2_ERROR_EAGAIN)
		if (conn_wait_io(s, s->deadline, 1000) < 0)
			break;
	if ((ret = stream(s)) != 0)
		goto out;
	{
		int64_t dl = conn_min_deadline(clock_mono_ms() + CLOSE_GRACE_MS, s->deadline);
		while ((rc = libssh2_channel_close(s->ch)) == LIBSSH2_ERROR_EAGAIN)
			if ((w = conn_wait_io(s, dl, 1000)) < 0)
				break;
		while (rc == 0 && (rc = libssh2_channel_wait_closed(s->ch)) == LIBSSH2_ERROR_EAGAIN)
			if ((w = conn_wait_io(s, dl, 1000)) < 0)
				break;
	}
	if (libssh2_channel_get_exit_signal(s->ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 && sig) {
		snprintf(s->st->signal, sizeof s->st->signal, "%.*s", (int)siglen, sig);
		libssh2_free(s->ssh, sig);
	} else {
		s->st->has_exit = 1;
		s->st->exit_code = libssh2_channel_get_exit_status(s->ch);
	}
	status_phase(s->st, EXSTATUS_PH_DONE);
	ret = 0;
out:
	free(script);
	return ret;
}
