/*
 * tmplsrc.h — where a command template's values come from for one
 * delivery: the parsed JSON body, the verified JWT claims and the request
 * headers. A type alone, shared by template.c and tmplparam.c.
 */
#ifndef TMPLSRC_H
#define TMPLSRC_H
#include <cjson/cJSON.h>

#include "hdr.h"

struct tmpl_src {
	const cJSON *payload;   /* parsed JSON body, or NULL when not JSON */
	const cJSON *claims;    /* verified JWT claims, or NULL */
	const struct hdr_src *headers;
};
#endif
