/*
 * chan.c — channel names and paths (contract in chan.h).
 */
#include <errno.h>
#include <string.h>

#include "chan.h"

static int name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

/* The length of the name that starts S (up to the first byte that is not a
 * name character), or 0 when that is not a valid name. Reads at most
 * CHAN_NAME_MAX + 1 bytes. */
static size_t name_len(const char *s)
{
	size_t n = 0;

	while (n <= CHAN_NAME_MAX && name_char(s[n]))
		n++;
	if (n == 0 || n > CHAN_NAME_MAX)
		return 0;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	return n;
}

int chan_valid(const char *name)
{
	size_t n = name_len(name);

	return n && name[n] == '\0';
}

/* After PREFIX in PATH: the name into NAME, *END just past it. */
static int take(const char *path, const char *prefix, char name[CHAN_NAME_MAX + 1],
    const char **end)
{
	size_t plen = strlen(prefix), n;

	name[0] = '\0';
	if (strncmp(path, prefix, plen) != 0)
		return -ENOENT;
	path += plen;
	if (!(n = name_len(path)))
		return -EINVAL;
	memcpy(name, path, n);
	name[n] = '\0';
	*end = path + n;
	return 0;
}

int chan_parse_publish(const char *path, char name[CHAN_NAME_MAX + 1], const char **rest)
{
	const char *end;
	int rc;

	if ((rc = take(path, "/webhooks/", name, &end)))
		return rc;
	if (*end != '\0' && *end != '/') {
		name[0] = '\0';
		return -EINVAL;
	}
	*rest = end;
	return 0;
}

int chan_parse_subscribe(const char *path, char name[CHAN_NAME_MAX + 1])
{
	const char *end;
	int rc;

	if ((rc = take(path, "/subscribe/", name, &end)))
		return rc;
	if (*end == '/')
		end++;
	if (*end != '\0') {
		name[0] = '\0';
		return -EINVAL;
	}
	return 0;
}
