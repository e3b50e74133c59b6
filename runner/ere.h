/*
 * ere.c — which POSIX extended regular expressions a parameter pattern may
 * use. Owns: refusing, before regcomp(3) sees them, the two forms whose cost
 * glibc does not bound:
 *  - a repetition directly after another (a++, .*+, a*{2}, a{1,2}?): POSIX
 *    leaves it undefined, and glibc's compile takes memory exponential in
 *    the run (".*" then 70 "+" exhausted 2 GB);
 *  - a backreference \1 to \9 outside a bracket expression: glibc accepts it
 *    in an ERE, and matching it is exponential in the value ((a*)*\1b took
 *    19 s on 256 bytes). Inside [...] a backslash is an ordinary member.
 */
#ifndef ERE_H
#define ERE_H

enum ere_why {
	ERE_OK = 0,
	ERE_STACKED,   /* a repetition directly after another */
	ERE_BACKREF,   /* \1 .. \9 */
};

/* 0 when PATTERN uses neither form; -EINVAL and *WHY (when WHY is not NULL)
 * for the first one found. Bracket expressions, with their [:class:], [.x.]
 * and [=x=] parts and a leading ] or ^], are skipped as units. */
int ere_vet(const char *pattern, enum ere_why *why);
#endif
