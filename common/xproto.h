/*
 * xproto.h — the wire protocol between webhook-runner and the
 * remote-executor service (`remote-executor serve`), shared by both
 * programs. Owns the framing, its limits, the request's fields and their
 * checks, the bounded encoder and the bounded incremental decoder.
 *
 * One job per Unix-socket connection. Each direction starts with a 4-byte
 * header, "WRX" and the protocol version (1), then frames:
 *
 *   type (1 byte) | len (4 bytes, big-endian) | payload (len bytes)
 *
 * Request (runner → service), frames in any order, each at most once,
 * closed by an END frame; nothing may follow END:
 *   'd' destination   user@host:port or user@[v6]:port, printable ASCII
 *   'i' identity      the *name* of an identity in the service's config
 *   'c' command       the command bytes (no NUL), at most 1 MiB
 *   't' timeouts      3 × u32 BE: connect ms, handshake ms, run ms (0: none)
 *   'l' limits        u64 BE: output cap in bytes, stdout + stderr (0: none)
 *   'f' flags         u32 BE: XPROTO_F_REUSE | XPROTO_F_POSIX_SH
 *   'j' job id        optional, for the service's log line
 *   'q' stats         empty: a stats request (then only END may come)
 *   'e' END           empty
 * A run request has d, i, c, t, l and f. No passphrase ever travels: the
 * service holds the secrets.
 *
 * Response (service → runner): any number of output chunks, then exactly
 * one final frame, then the service closes:
 *   'O' stdout chunk  at most XPROTO_CHUNK_MAX bytes
 *   'E' stderr chunk  at most XPROTO_CHUNK_MAX bytes
 *   'X' status        the executor's status line, byte for byte what
 *                     one-shot mode writes on --status-fd (common/exstatus.h),
 *                     one line ending in "\n"
 *   'S' stats         the reply to a stats request: one JSON line
 *
 * Every frame type has its own payload cap, checked when its 5-byte header
 * arrives, before any allocation; the decoder also caps the total bytes of
 * one direction. Unknown types, a wrong magic or version, a duplicate
 * field, a bad value, bytes after the final frame and a stream that ends
 * mid-frame are refused with a reason (enum xproto_why).
 */
#ifndef COMMON_XPROTO_H
#define COMMON_XPROTO_H
#include <stddef.h>
#include <stdint.h>

#define XPROTO_VERSION 1
#define XPROTO_HDR_LEN 4   /* "WRX" + version */
#define XPROTO_FHDR_LEN 5  /* type + len */

#define XPROTO_DEST_MAX 600        /* user (255) @ [host (253)] : port */
#define XPROTO_IDENTITY_MAX 64     /* [A-Za-z0-9._-], not empty */
#define XPROTO_JOBID_MAX 128       /* printable ASCII without space */
#define XPROTO_COMMAND_MAX (1024 * 1024)
#define XPROTO_TIMEOUT_MAX 86400000u /* one day, in ms */
#define XPROTO_CHUNK_MAX 32768
#define XPROTO_STATUS_MAX 8192     /* the status line's worst case fits */
#define XPROTO_REQ_MAX (XPROTO_COMMAND_MAX + 4096) /* a whole request */

/* Frame types. */
#define XPROTO_T_DEST 'd'
#define XPROTO_T_IDENTITY 'i'
#define XPROTO_T_COMMAND 'c'
#define XPROTO_T_TIMEOUTS 't'
#define XPROTO_T_LIMITS 'l'
#define XPROTO_T_FLAGS 'f'
#define XPROTO_T_JOBID 'j'
#define XPROTO_T_STATS 'q'
#define XPROTO_T_END 'e'
#define XPROTO_T_STDOUT 'O'
#define XPROTO_T_STDERR 'E'
#define XPROTO_T_STATUS 'X'
#define XPROTO_T_STATSREPLY 'S'

/* Request flags. */
#define XPROTO_F_REUSE 1u    /* may run on a warm session; 0: a connection of its own */
#define XPROTO_F_POSIX_SH 2u /* as --posix-sh: /bin/sh parses the command */
#define XPROTO_F_ALL (XPROTO_F_REUSE | XPROTO_F_POSIX_SH)

enum xproto_side {
	XPROTO_REQUEST,  /* what the runner sends */
	XPROTO_RESPONSE, /* what the service sends */
};

enum xproto_why {
	XPROTO_OK = 0,
	XPROTO_BAD_MAGIC,   /* the stream does not start with "WRX" */
	XPROTO_BAD_VERSION, /* another protocol version */
	XPROTO_BAD_TYPE,    /* a frame type this side does not send */
	XPROTO_FRAME_BIG,   /* a frame over its type's cap */
	XPROTO_TOTAL_BIG,   /* the direction's bytes over the total cap */
	XPROTO_DUPLICATE,   /* a request field given twice */
	XPROTO_BAD_FIELD,   /* a value out of its syntax or range */
	XPROTO_MISSING,     /* END before a required field */
	XPROTO_TRAILING,    /* bytes after the final frame */
	XPROTO_TRUNCATED,   /* the stream ended mid-header or mid-frame */
	XPROTO_NWHY
};

struct xproto_frame {
	uint8_t type;
	const unsigned char *data; /* valid until the next xproto_dec_feed; NUL after len */
	size_t len;
};

struct xproto_dec {
	enum xproto_side side;
	int state;           /* internal */
	unsigned char hb[XPROTO_FHDR_LEN];
	size_t hgot;         /* bytes of the current header */
	uint8_t type;
	size_t len, got;     /* the current frame's payload */
	unsigned char *buf;  /* its bytes (owned) */
	uint64_t total, total_max;
	enum xproto_why why; /* set when a call failed with -EPROTO */
};

/* A decoded request. command is owned (malloc'ed, NUL-terminated). */
struct xproto_req {
	int stats;           /* a stats request: nothing else is set */
	char dest[XPROTO_DEST_MAX + 1];
	char identity[XPROTO_IDENTITY_MAX + 1];
	char job_id[XPROTO_JOBID_MAX + 1]; /* "" when not given */
	char *command;
	size_t command_len;
	uint32_t connect_ms, handshake_ms, run_ms;
	uint64_t max_output;
	uint32_t flags;
	unsigned seen;       /* internal: which frames came */
};

/* A short English phrase for WHY ("wrong protocol version"…). */
const char *xproto_why_text(enum xproto_why why);

/* Start decoding SIDE's stream. TOTAL_MAX caps the bytes of the whole
 * direction (header and frames); 0 means XPROTO_REQ_MAX for a request and
 * no total cap for a response (its frames stay capped each). */
void xproto_dec_init(struct xproto_dec *d, enum xproto_side side, uint64_t total_max);
/* Feed LEN bytes of BUF. *USED gets how many were consumed. 1: a whole
 * frame is in *F (consumed bytes stop right after it; call again with the
 * rest); 0: all LEN bytes consumed, no frame complete yet; -EPROTO with
 * D->why set (and kept: every later call fails the same way); -ENOMEM.
 * A response's final frame ('X', 'S') is checked to be one line. */
int xproto_dec_feed(struct xproto_dec *d, const void *buf, size_t len, size_t *used,
    struct xproto_frame *f);
/* The stream ended. 0 when it stopped after a final frame (END for a
 * request, 'X' or 'S' for a response); -EPROTO with XPROTO_TRUNCATED
 * otherwise (or the earlier failure). */
int xproto_dec_eof(struct xproto_dec *d);
/* 1 once the final frame was decoded. */
int xproto_dec_done(const struct xproto_dec *d);
/* Free what D holds; D may be initialised again. */
void xproto_dec_free(struct xproto_dec *d);

/* An empty request (memset to 0). */
void xproto_req_init(struct xproto_req *r);
/* Free R's command (wiped: a command may hold secrets) and reset R. */
void xproto_req_free(struct xproto_req *r);
/* Add decoded request frame F to R. 1: F was END and R is complete; 0: more
 * to come; -EPROTO with *WHY (duplicate, bad field, missing at END, a frame
 * after a stats request); -ENOMEM. */
int xproto_req_add(struct xproto_req *r, const struct xproto_frame *f, enum xproto_why *why);
/* The decoder and xproto_req_add together: feed BUF until R is complete.
 * 1: complete (*USED bytes consumed); 0: all consumed, more needed;
 * -EPROTO with D->why; -ENOMEM. */
int xproto_req_feed(struct xproto_dec *d, struct xproto_req *r, const void *buf, size_t len,
    size_t *used);
/* The whole request R (header, frames, END) as bytes: 0 with *OUT
 * (malloc'ed) and *LEN; -EINVAL with *WHY when a field would be refused by
 * the decoder (the encoder never sends what the decoder refuses); -ENOMEM. */
int xproto_req_encode(const struct xproto_req *r, unsigned char **out, size_t *len,
    enum xproto_why *why);

/* The 4-byte header into OUT. */
void xproto_header(unsigned char out[XPROTO_HDR_LEN]);
/* Frame TYPE of SIDE with payload P (LEN bytes) into BUF (CAP bytes): the
 * bytes written (XPROTO_FHDR_LEN + LEN); -EMSGSIZE when TYPE is not SIDE's
 * or LEN is over its cap, -ENOSPC when CAP is short. Payload contents are
 * not checked here (the request encoder checks its fields). */
int xproto_frame_put(enum xproto_side side, uint8_t type, const void *p, size_t len,
    unsigned char *buf, size_t cap);
/* The payload cap of frame TYPE on SIDE, or -1 when SIDE never sends it. */
long xproto_type_cap(enum xproto_side side, uint8_t type);
#endif
