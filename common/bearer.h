/*
 * bearer.c — the "Authorization: Bearer <token>" value and the one way
 * tokens are compared to a configured secret (constant time).
 */
#ifndef BEARER_H
#define BEARER_H

/* The token of an "Authorization: Bearer …" value AUTH (the scheme matched
 * case-insensitively, spaces after it skipped; it may be empty), or NULL
 * when AUTH is NULL or another scheme. */
const char *bearer_token(const char *auth);
/* 1 when TOK is WANT (constant time in the bytes compared), 0 otherwise or
 * when WANT is NULL. */
int bearer_equal(const char *tok, const char *want);
#endif
