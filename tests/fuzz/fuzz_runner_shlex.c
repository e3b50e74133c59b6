/*
 * fuzz_runner_shlex.c — libFuzzer harness for runner/shlex.c.
 *
 * The input is a template text: as it is when its first byte is even, and
 * otherwise one token per following byte from a table of the constructs the
 * lexer follows (quotes, substitutions, comments, here-documents, holes).
 * Holes are the {{…}} spans. Oracles, any breach aborts:
 *  1. the verdict is well formed: rc 0 exactly when nothing was refused; a
 *     hole fault names a refused hole and every hole before it is a word;
 *     an unterminated text refused no hole; a stopping fault leaves words
 *     then unseen holes;
 *  2. prefix: a hole's verdict depends only on the text before it, so with
 *     the text cut just after an accepted hole every hole keeps its verdict;
 *  3. rendering: in an accepted text, each hole replaced by a single-quoted
 *     hostile word (quoted here, independently) lexes clean, hole-free;
 *  4. a reference model, written separately and small, of quotes,
 *     backslashes, continuations and comments: on texts made only of the
 *     characters it knows, every hole's context and the refusal must equal
 *     its own, exactly.
 * No shell is run here (runner_shlex's unit test does that).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runner/shlex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

#define MAXTEXT 8192
#define MAXH    64

static const char *const tok[] = {
	/* the reference model's alphabet first */
	"a", "b=", " ", "\t", "\n", ";", "|", "&", "'", "\"", "\\", "#", "{{x}}", "\\\n", "echo ",
	"a#", "\\'", "\\\"", "'\\''", "\"\\\"\"", "#'", "#\"", "\\\\", "{{x}}#", "=",
	/* the rest */
	"$", "$(", "$((", "((", "(", ")", "))", "${x", "${", "}", "$'", "$\"", "`", "<<E", "<<'E'",
	"<<-E", "\nE\n", "\n\tE\n", "E", "<<<", "[[ ", " ]]", "a[", "]", "$[", "@(", ">&", "<&",
	"<(", ">(", "case ", " in ", " esac", "alias ", "\xc3\xa9", "\xe2\x82\xac", "$#", "$$",
	"${x:-", "${x#", "\"$(", ")\"", "2>&1", "x={{x}}", "<", ">", "{{y}}", "-", "=(",
};
#define NTOK (sizeof tok / sizeof tok[0])
#define NMODEL 25 /* tokens the model knows */

static size_t find_holes(const char *s, size_t n, struct shlex_hole *h)
{
	size_t i = 0, k = 0, j;

	while (k < MAXH && i + 1 < n) {
		if (s[i] != '{' || s[i + 1] != '{') {
			i++;
			continue;
		}
		for (j = i + 2; j + 1 < n && !(s[j] == '}' && s[j + 1] == '}'); j++)
			;
		if (j + 1 >= n)
			break;
		h[k].off = i;
		h[k].len = j + 2 - i;
		k++;
		i = j + 2;
	}
	return k;
}

/* Oracle 1. */
static void check_verdict(int rc, const struct shlex_fault *f, const struct shlex_hole *h,
    size_t n)
{
	size_t k;

	CHECK(rc == 0 || rc == -EINVAL);
	CHECK((rc == 0) == (f->why == SHLEX_OK));
	for (k = 0; k < n; k++)
		CHECK(h[k].ctx <= SHLEX_DUPWORD);
	if (rc == 0 || f->why == SHLEX_UNTERMINATED) {
		for (k = 0; k < n; k++)
			CHECK(h[k].ctx == SHLEX_WORD);
		CHECK(f->hole == (size_t)-1);
	} else if (f->why == SHLEX_HOLE) {
		CHECK(f->hole < n && h[f->hole].off == f->off && h[f->hole].ctx == f->ctx);
		CHECK(f->ctx != SHLEX_WORD && f->ctx != SHLEX_UNSEEN);
		for (k = 0; k < f->hole; k++)
			CHECK(h[k].ctx == SHLEX_WORD);
	} else {
		CHECK(f->hole == (size_t)-1);
		for (k = 0; k < n; k++) {
			CHECK(h[k].ctx == SHLEX_WORD || h[k].ctx == SHLEX_UNSEEN);
			CHECK(k == 0 || h[k - 1].ctx == SHLEX_WORD || h[k].ctx == SHLEX_UNSEEN);
		}
	}
}

/* Oracle 2: the text up to the end of accepted hole K. */
static void check_prefix(const char *s, const struct shlex_hole *h, size_t k)
{
	struct shlex_hole hp[MAXH];
	struct shlex_fault f;
	size_t i;

	memcpy(hp, h, (k + 1) * sizeof *hp);
	shlex_check(s, h[k].off + h[k].len, hp, k + 1, &f);
	for (i = 0; i <= k; i++)
		CHECK(hp[i].ctx == h[i].ctx);
}

/* V in POSIX single quotes, ' as '\'', into OUT; its length. */
static size_t sq(const char *v, char *out)
{
	size_t o = 0;

	out[o++] = '\'';
	for (; *v; v++) {
		if (*v == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *v;
		}
	}
	out[o++] = '\'';
	return o;
}

/* Oracle 3: every hole as '…' of a hostile value, quoted here. */
static void check_rendered(const char *s, size_t n, const struct shlex_hole *h, size_t nh)
{
	static char out[MAXTEXT * 8];
	char word[64];
	size_t o = 0, last = 0, k, wl = sq("a'\"$(b)`#\\'${c})'", word);
	struct shlex_fault f;

	for (k = 0; k < nh; k++) {
		memcpy(out + o, s + last, h[k].off - last);
		o += h[k].off - last;
		memcpy(out + o, word, wl);
		o += wl;
		last = h[k].off + h[k].len;
	}
	memcpy(out + o, s + last, n - last);
	o += n - last;
	CHECK(shlex_check(out, o, NULL, 0, &f) == 0);
}

/*
 * Oracle 4, the reference model: top level, '…', "…" and comments only,
 * with words ended by blank, newline, ; | &. Returns -1 when S has any
 * other character (or the word alias), else 0 with CTX[] and *WHY, *OFF.
 */
static int model(const char *s, size_t n, const struct shlex_hole *h, size_t nh,
    enum shlex_ctx *ctx, enum shlex_why *why, size_t *off)
{
	enum { TOP, SQ, DQ, COM } st = TOP;
	size_t i = 0, k = 0, open = 0;
	int word = 0;

	for (i = 0; i < n; i++) {
		if (k < nh && i == h[k].off) {
			i += h[k].len - 1;
			continue;
		}
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789 \t\n'\"\\#;|&=", s[i]) || !s[i])
			return -1;
	}
	if (memmem(s, n, "alias", 5))
		return -1;
	*why = SHLEX_OK;
	for (i = 0; i < n; ) {
		int c = (unsigned char)s[i], hole = k < nh && i == h[k].off;
		int nexthole = k < nh && i + 1 == h[k].off;

		if (hole) {
			ctx[k] = st == TOP ? SHLEX_WORD : st == SQ ? SHLEX_SQUOTE :
			    st == DQ ? SHLEX_DQUOTE : SHLEX_COMMENT;
			if (ctx[k] != SHLEX_WORD && *why == SHLEX_OK)
				*why = SHLEX_HOLE, *off = h[k].off;
			i += h[k].len;
			k++;
			if (st == TOP)
				word = 1;
			continue;
		}
		if (st == SQ) {
			if (c == '\'')
				st = TOP;
			i++;
		} else if (st == COM) {
			if (c == '\n')
				st = TOP; /* the newline itself: top level, below */
			else
				i++;
		} else if (st == DQ) {
			if (c == '"')
				st = TOP, i++;
			else if (c == '\\' && i + 1 < n && !nexthole && strchr("$`\"\\\n", s[i + 1]))
				i += 2;
			else
				i++;
		} else if (c == '\\') {
			if (i + 1 < n && s[i + 1] == '\n' && !nexthole) {
				i += 2; /* removed */
			} else if (nexthole) {
				ctx[k] = SHLEX_BACKSLASH;
				if (*why == SHLEX_OK)
					*why = SHLEX_HOLE, *off = h[k].off;
				i = h[k].off + h[k].len;
				k++;
				word = 1;
			} else {
				i += i + 1 < n ? 2 : 1;
				word = 1;
			}
		} else if (c == '\'' || c == '"') {
			st = c == '\'' ? SQ : DQ, open = i++, word = 1;
		} else if (c == '#' && !word) {
			st = COM, i++;
		} else if (strchr(" \t\n;|&", c)) {
			word = 0, i++;
		} else {
			word = 1, i++;
		}
	}
	if (*why == SHLEX_OK && (st == SQ || st == DQ))
		*why = SHLEX_UNTERMINATED, *off = open;
	return 0;
}

static void check_model(const char *s, size_t n, const struct shlex_hole *h, size_t nh,
    const struct shlex_fault *f)
{
	enum shlex_ctx ctx[MAXH];
	enum shlex_why why;
	size_t off = 0, k;

	if (model(s, n, h, nh, ctx, &why, &off) < 0)
		return;
	CHECK(f->why == why);
	if (why != SHLEX_OK)
		CHECK(f->off == off);
	for (k = 0; k < nh; k++)
		CHECK(h[k].ctx == ctx[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[MAXTEXT];
	struct shlex_hole h[MAXH];
	struct shlex_fault f;
	size_t n = 0, nh, k;
	int rc;

	if (size == 0)
		return 0;
	if (data[0] % 2 == 0) {
		n = size - 1 < MAXTEXT ? size - 1 : MAXTEXT;
		memcpy(text, data + 1, n);
	} else {
		for (k = 1; k < size; k++) {
			const char *t = tok[data[k] % (data[0] & 2 ? NMODEL : NTOK)];
			size_t l = strlen(t);
			if (n + l > MAXTEXT)
				break;
			memcpy(text + n, t, l);
			n += l;
		}
	}
	nh = find_holes(text, n, h);
	rc = shlex_check(text, n, h, nh, &f);
	check_verdict(rc, &f, h, nh);
	for (k = 0; k < nh && k < 16; k++)
		if (h[k].ctx == SHLEX_WORD)
			check_prefix(text, h, k);
	if (rc == 0)
		check_rendered(text, n, h, nh);
	check_model(text, n, h, nh, &f);
	return 0;
}
