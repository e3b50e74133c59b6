/*
 * chan.c — channel names and the two request paths that carry one. Owns the
 * one bounded parse of untrusted path bytes in the relay: a name is 1..64
 * bytes of [A-Za-z0-9._-], not "." or ".."; "/webhooks/<name>[/<rest>]"
 * gives the name and the rest of the path (kept raw, as it came);
 * "/subscribe/<name>[/]" gives the name. The fuzz harness
 * tests/fuzz/fuzz_relay_path.c drives both.
 */
#ifndef RELAY_CHAN_H
#define RELAY_CHAN_H
#include <stddef.h>

#define CHAN_NAME_MAX 64

/* 1 when NAME is a valid channel name, else 0. */
int chan_valid(const char *name);

/* PATH (NUL-terminated, as received, not decoded) is "/webhooks/<name>"
 * optionally followed by "/" and anything: NAME (CHAN_NAME_MAX + 1 bytes)
 * gets the name and *REST points into PATH at what follows it ("" or a path
 * starting with "/"). 0; -ENOENT when PATH does not start "/webhooks/";
 * -EINVAL when the name is missing or invalid (NAME is then ""). */
int chan_parse_publish(const char *path, char name[CHAN_NAME_MAX + 1], const char **rest);

/* PATH is "/subscribe/<name>" or "/subscribe/<name>/": NAME gets the name.
 * 0; -ENOENT when PATH does not start "/subscribe/"; -EINVAL for a missing
 * or invalid name or anything after the one trailing slash. */
int chan_parse_subscribe(const char *path, char name[CHAN_NAME_MAX + 1]);
#endif
