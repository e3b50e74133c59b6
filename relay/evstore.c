/*
 * evstore.c — what the store seam owns beyond its vtable: the reasons as
 * text (contract in evstore.h).
 */
#include "evstore.h"

const char *evstore_why_name(enum evstore_why why)
{
	switch (why) {
	case EVSTORE_OK: return "ok";
	case EVSTORE_DOWN: return "store unavailable";
	case EVSTORE_CHANNELS: return "too many channels";
	case EVSTORE_NOMEM: return "out of memory";
	case EVSTORE_CORRUPT: return "corrupt record";
	}
	return "unknown";
}
