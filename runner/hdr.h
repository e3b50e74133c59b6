/*
 * hdr.h — the one way modules read request headers, so that verification and
 * templates do not depend on the HTTP library. Header-only.
 *
 * A hdr_get_fn returns the value of header NAME (matched case-insensitively)
 * or NULL when absent. The string stays valid for the whole request. The
 * server refuses a request that repeats a header a verifier relies on, so a
 * getter never has to choose between two values.
 */
#ifndef HDR_H
#define HDR_H
typedef const char *(*hdr_get_fn)(void *ctx, const char *name);
struct hdr_src {
	hdr_get_fn get;
	void *ctx;
};
static inline const char *hdr_get(const struct hdr_src *h, const char *name)
{
	return h && h->get ? h->get(h->ctx, name) : NULL;
}
#endif
