/*
 * connect_state.h — the client's state file: the id of the last event it
 * is done with (forwarded, or refused for good), so that a restart resumes
 * after it with Last-Event-ID. Owns the file format (one line:
 * "last_event_id <id>"), writing it atomically (a temporary file in the
 * same directory, written, fsync'ed, renamed over the old one, and the
 * directory fsync'ed), reading it back strictly, and comparing two
 * `<ms>-<seq>` ids (with evid.h, the server's own parse and order).
 */
#ifndef CONNECT_STATE_H
#define CONNECT_STATE_H
#include <stddef.h>

#define CONNECT_STATE_ID_MAX 256

/* 1 when ID is an id the state file can hold: 1..CONNECT_STATE_ID_MAX
 * printable ASCII bytes, no space. */
int connect_state_id_ok(const char *id);

/* Read PATH into ID (CAP bytes, at least CONNECT_STATE_ID_MAX + 1). 0 with
 * ID "" when the file does not exist (a first start); 0 with the id; or
 * -EINVAL (not a state file: ERR says what is wrong), -EFBIG, or open/read's
 * -errno, with ERR. */
int connect_state_load(const char *path, char *id, size_t cap, char *err, size_t errlen);

/* Replace PATH with a state file holding ID, atomically: afterwards PATH
 * holds either the old state or the new one, never a mix, even after a
 * crash or power loss. 0, -EINVAL (ID not valid), or the -errno of the step
 * that failed, with ERR (the old file is then untouched). */
int connect_state_save(const char *path, const char *id, char *err, size_t errlen);

/* Compare two ids of the form <ms>-<seq> (decimal numbers): -1, 0 or 1 as
 * A is before, equal to or after B; 2 when either is not of that form
 * (then only the server knows their order). */
int connect_state_id_cmp(const char *a, const char *b);
#endif
