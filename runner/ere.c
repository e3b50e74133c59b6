/*
 * ere.c — which POSIX extended regular expressions a parameter pattern may
 * use (contract: ere.h).
 *
 * Owns: one scan of the pattern as regcomp(3) with REG_EXTENDED reads it:
 * an escape is two bytes, a bracket expression one unit, and a repetition
 * operator (* + ? {m,n}) remembers that it was one, so that the next one
 * directly after it is refused; a \ followed by 1-9 outside brackets is a
 * backreference.
 */
#include <errno.h>

#include "ere.h"

/* S points at '['; returns the byte after the bracket expression (or the
 * terminating NUL when it is not closed: regcomp refuses that). */
static const char *skip_bracket(const char *s)
{
	s++; /* "[]...]" and "[^]...]": a leading ] is a member */
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s && *s != ']') {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			char close = s[1];
			s += 2;
			while (*s && !(s[0] == close && s[1] == ']'))
				s++;
			if (*s)
				s += 2;
		} else {
			s++;
		}
	}
	return *s ? s + 1 : s;
}

int ere_vet(const char *s, enum ere_why *why)
{
	enum ere_why w = ERE_OK;
	int after_rep = 0;

	while (*s && w == ERE_OK) {
		if (*s == '\\') {
			if (s[1] >= '1' && s[1] <= '9')
				w = ERE_BACKREF;
			s += s[1] ? 2 : 1;
			after_rep = 0;
		} else if (*s == '[') {
			s = skip_bracket(s);
			after_rep = 0;
		} else if (*s == '*' || *s == '+' || *s == '?' || *s == '{') {
			if (after_rep)
				w = ERE_STACKED;
			if (*s == '{')
				while (*s && *s != '}')
					s++;
			if (*s)
				s++;
			after_rep = 1;
		} else {
			s++;
			after_rep = 0;
		}
	}
	if (why)
		*why = w;
	return w == ERE_OK ? 0 : -EINVAL;
}
