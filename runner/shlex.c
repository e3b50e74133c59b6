/*
 * shlex.c — where a value may stand in a POSIX shell command (contract:
 * shlex.h).
 *
 * Owns: one left-to-right scan of a template's literal text with a stack of
 * frames, one per open construct (quotes, substitutions, arithmetic, ${…},
 * [[…]], comments, here-document bodies), following what dash 0.5 and bash
 * 4.4 to 5.3 (also --posix) do. A hole is one opaque character: ch() answers
 * HOLE for every byte of it and hole() steps over it whole, so no rule can
 * see into its bytes. Every hole starts as SHLEX_UNSEEN (refused) and is
 * accepted in exactly one place: the top-level command frame, outside a
 * subscript, not after \ or $ (those look ahead and take the hole first).
 * Backslash-newline is removed where the shells remove it (everywhere but
 * '…', $'…', comments and quoted here-documents), by nx() before every
 * look-ahead and by the handlers. Where the shells disagree, or this lexer
 * would have to guess, the whole text is refused (enum shlex_why).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shlex.h"

#define HOLE 256
#define END  (-1)

enum kind { K_CMD, K_SQ, K_DQ, K_BQ, K_ANSIC, K_PARAM, K_ARITH, K_COMMENT, K_BODY };
enum cmd { C_TOP, C_SUBST, C_PROC, C_DBRACKET };    /* K_CMD frames */
enum { A_EXP, A_CMD };                              /* K_ARITH: $((…)) or ((…)) */
enum { W_CMD, W_DQ, W_PARAM, W_ARITH, W_BODY };     /* where a $ stands */

struct frame {
	unsigned char kind, sub;
	unsigned char in_word;  /* K_CMD, K_ARITH: inside a word */
	unsigned char prev;     /* K_CMD: last plain byte of the word, else 0 */
	unsigned char name;     /* K_CMD: the word so far is a NAME */
	unsigned char body;     /* opened inside an unquoted here-document body */
	unsigned char bol;      /* K_BODY: at the start of a line */
	unsigned char first;    /* K_PARAM: nothing read yet after ${ */
	unsigned char dup;      /* K_CMD: after >& or <&: 1 before its word, 2 in it */
	size_t depth;           /* K_CMD (C_SUBST, C_PROC), K_ARITH: open ( */
	size_t sub_depth;       /* K_CMD: open [ of a name[…] subscript */
	size_t off;             /* where the construct opened */
};

struct heredoc {
	size_t op;              /* offset of << */
	size_t w, wend;         /* the delimiter word as written */
	int quoted, strip;
};

struct lx {
	const char *s;
	size_t len;
	struct shlex_hole *h;
	size_t nh;
	struct frame *fr;
	size_t n, cap;
	struct heredoc *hd;
	size_t nhd, hdcap, hdnext; /* here-documents; bodies not read from hdnext on */
	struct shlex_fault *f;
};

#define IS_BLANK(c) ((c) == ' ' || (c) == '\t')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || (c) == '_')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IN(c, set) ((c) > 0 && (c) < 128 && strchr(set, c) != NULL)
#define IS_OP(c) IN(c, ";&|()<>")  /* end a word; a # after one starts a comment */
#define DELIM_SAFE(c) (IS_ALPHA(c) || IS_DIGIT(c) || IN(c, ".,:+/-"))
#define TOP(x) (&(x)->fr[(x)->n - 1])

/* Index of the hole containing byte I, or -1. */
static long hole_of(const struct lx *x, size_t i)
{
	size_t lo = 0, hi = x->nh;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->h[mid].off <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || i >= x->h[lo - 1].off + x->h[lo - 1].len)
		return -1;
	return (long)(lo - 1);
}

/* The byte at I, HOLE anywhere in a hole, END past the text. */
static int ch(const struct lx *x, size_t i)
{
	if (i >= x->len)
		return END;
	return hole_of(x, i) >= 0 ? HOLE : (unsigned char)x->s[i];
}

/* I with any backslash-newline pairs skipped. */
static size_t nx(const struct lx *x, size_t i)
{
	while (ch(x, i) == '\\' && ch(x, i + 1) == '\n')
		i += 2;
	return i;
}

static enum shlex_ctx frame_ctx(const struct frame *t)
{
	static const enum shlex_ctx cmd[] = { SHLEX_WORD, SHLEX_CMDSUB, SHLEX_PROCSUB,
		SHLEX_DBRACKET };
	static const enum shlex_ctx kind[] = { SHLEX_WORD, SHLEX_SQUOTE, SHLEX_DQUOTE,
		SHLEX_BACKTICK, SHLEX_ANSIC, SHLEX_PARAM, SHLEX_ARITH, SHLEX_COMMENT,
		SHLEX_HEREDOC };

	if (t->kind == K_CMD)
		return t->sub == C_TOP && t->sub_depth ? SHLEX_SUBSCRIPT : cmd[t->sub];
	return t->kind == K_ARITH && t->sub == A_CMD ? SHLEX_ARITHCMD : kind[t->kind];
}

/* Record the first fault; always -EINVAL (the scan stops). */
static int fault(struct lx *x, enum shlex_why why, enum shlex_ctx ctx, size_t off)
{
	if (x->f->why == SHLEX_OK) {
		x->f->why = why;
		x->f->ctx = ctx;
		x->f->off = off;
	}
	return -EINVAL;
}

/* The hole at I stands in CTX; returns the offset after it. */
static size_t hole(struct lx *x, size_t i, enum shlex_ctx ctx)
{
	size_t k = (size_t)hole_of(x, i);

	x->h[k].ctx = ctx;
	if (ctx != SHLEX_WORD && x->f->why == SHLEX_OK) {
		fault(x, SHLEX_HOLE, ctx, x->h[k].off);
		x->f->hole = k;
	}
	return x->h[k].off + x->h[k].len;
}

/* Something other than a plain byte continues the word. */
static void inword(struct frame *t)
{
	t->in_word = 1;
	t->prev = t->name = 0;
}

static void endword(struct frame *t)
{
	t->in_word = t->prev = t->name = 0;
	t->sub_depth = 0;
}

static int push(struct lx *x, int kind, int sub, size_t off)
{
	struct frame *p, *q;

	if (x->n == SHLEX_MAX_DEPTH)
		return fault(x, SHLEX_DEPTH, frame_ctx(TOP(x)), off);
	if (x->n == x->cap) {
		struct frame *nf = realloc(x->fr, 2 * x->cap * sizeof *nf);
		if (!nf)
			return -ENOMEM;
		x->fr = nf;
		x->cap *= 2;
	}
	p = TOP(x);
	q = &x->fr[x->n++];
	memset(q, 0, sizeof *q);
	q->kind = (unsigned char)kind;
	q->sub = (unsigned char)sub;
	q->off = off;
	q->body = p->body || p->kind == K_BODY;
	q->first = 1;
	if (p->kind == K_CMD || p->kind == K_ARITH)
		inword(p);
	return 0;
}

/* A newline inside a nested construct: the shells disagree on it inside a
 * here-document body (bash reads the body by lines first) and while a
 * here-document is pending (whose newline starts the body). */
static int nl_nested(struct lx *x, size_t i)
{
	if (TOP(x)->body || x->hdnext < x->nhd)
		return fault(x, SHLEX_HEREDOC_LINE, frame_ctx(TOP(x)), i);
	return 0;
}

/* The offset after the word W when it stands at I followed by a delimiter
 * (end, blank, newline, operator), else 0. */
static size_t kw(const struct lx *x, size_t i, const char *w)
{
	int c;

	for (; *w; w++, i++) {
		i = nx(x, i);
		if (ch(x, i) != (unsigned char)*w)
			return 0;
	}
	i = nx(x, i);
	c = ch(x, i);
	return c == END || IS_BLANK(c) || c == '\n' || IS_OP(c) ? i : 0;
}

/* A $ at *IP, standing as WHERE says. */
static int dollar(struct lx *x, size_t *ip, int where)
{
	size_t i = *ip, j = nx(x, i + 1), k;
	int c = ch(x, j);

	if (c == HOLE)
		return *ip = hole(x, j, SHLEX_DOLLAR), 0;
	if (c == '(' && ch(x, k = nx(x, j + 1)) == '(')
		return *ip = k + 1, push(x, K_ARITH, A_EXP, i);
	if (c == '(')
		return *ip = j + 1, push(x, K_CMD, C_SUBST, i);
	if (c == '{')
		return *ip = j + 1, push(x, K_PARAM, 0, i);
	if (c == '[')
		return fault(x, SHLEX_DOLLAR_BRACKET, frame_ctx(TOP(x)), i);
	if (c == '\'' || c == '"') {
		if (where == W_PARAM)
			return fault(x, SHLEX_PARAM_QUOTE, SHLEX_PARAM, j);
		if (where == W_ARITH)
			return fault(x, SHLEX_ARITH_QUOTE, frame_ctx(TOP(x)), j);
		if (where == W_CMD)
			return *ip = j + 1, push(x, c == '\'' ? K_ANSIC : K_DQ, 0, i);
		*ip = j; /* a plain $ in "…" or a here-document body */
		return 0;
	}
	*ip = c > 0 && c < 128 && strchr("$#?!@*-0123456789", c) ? j + 1 : j;
	return 0;
}

/* The here-document operator << at I; K is just after it. Reads the
 * delimiter word and queues the body; a hole in the word stops the scan. */
static int heredoc_op(struct lx *x, size_t *ip, size_t i, size_t k)
{
	struct heredoc *hd;
	size_t p = k, w, q, cooked = 0;
	int quoted = 0, strip = 0, c;

	if (ch(x, p) == '-') {
		strip = 1;
		p = nx(x, p + 1);
	}
	while (IS_BLANK(ch(x, p)))
		p = nx(x, p + 1);
	for (w = p;; ) {
		c = ch(x, p);
		if (c == HOLE)
			goto hole;
		if (c == END || IS_BLANK(c) || c == '\n' || IS_OP(c))
			break;
		if (DELIM_SAFE(c)) {
			p++, cooked++;
		} else if (c == '\'' || c == '"') {
			for (q = p + 1; DELIM_SAFE(ch(x, q)); q++)
				cooked++;
			if (ch(x, q) == HOLE) {
				p = q;
				goto hole;
			}
			if (ch(x, q) != c)
				return fault(x, SHLEX_HEREDOC_DELIM, SHLEX_HEREDOC_WORD, w);
			quoted = 1;
			p = q + 1;
		} else if (c == '\\' && ch(x, p + 1) == HOLE) {
			p++;
			goto hole;
		} else if (c == '\\' && DELIM_SAFE(ch(x, p + 1))) {
			quoted = 1;
			p += 2, cooked++;
		} else {
			return fault(x, SHLEX_HEREDOC_DELIM, SHLEX_HEREDOC_WORD, w);
		}
	}
	if (!cooked)
		return fault(x, SHLEX_HEREDOC_DELIM, SHLEX_HEREDOC_WORD, w);
	if (x->nhd == x->hdcap) {
		size_t cap = x->hdcap ? x->hdcap * 2 : 4;
		struct heredoc *nh = realloc(x->hd, cap * sizeof *nh);
		if (!nh)
			return -ENOMEM;
		x->hd = nh;
		x->hdcap = cap;
	}
	hd = &x->hd[x->nhd++];
	hd->op = i;
	hd->w = w;
	hd->wend = p;
	hd->quoted = quoted;
	hd->strip = strip;
	*ip = p;
	TOP(x)->in_word = 1;
	return 0;
hole:
	hole(x, p, SHLEX_HEREDOC_WORD);
	return -EINVAL;
}

/* When the line at P is HD's delimiter: the offset after it, else 0. */
static size_t delim_match(const struct lx *x, const struct heredoc *hd, size_t p)
{
	size_t w;
	int c;

	for (w = hd->w; w < hd->wend; w++) {
		if (x->s[w] == '\'' || x->s[w] == '"')
			continue;
		if (x->s[w] == '\\')
			w++; /* a delim_safe byte follows */
		if (ch(x, p) != (unsigned char)x->s[w])
			return 0;
		p++;
	}
	c = ch(x, p);
	return c == '\n' ? p + 1 : c == END ? p : 0;
}

/* Top level, $(…), <(…) and [[…]]: words, operators, and what opens. */
static int step_cmd(struct lx *x, size_t *ip)
{
	struct frame *t = TOP(x);
	size_t i = *ip, j, k;
	int c = ch(x, i), word = t->in_word, rc;

	if (t->dup == 1 && !IS_BLANK(c) && !(c == '\\' && ch(x, i + 1) == '\n'))
		t->dup = 2;
	if (c == HOLE) {
		*ip = hole(x, i, t->dup ? SHLEX_DUPWORD : frame_ctx(t));
		inword(t);
		return 0;
	}
	if (t->sub_depth && (IS_BLANK(c) || c == '\n' || IS_OP(c)))
		return fault(x, SHLEX_SUBSCRIPT_WORD, SHLEX_SUBSCRIPT, i);
	if (!word && c == '#') {
		if (t->sub != C_TOP)
			return fault(x, SHLEX_NESTED_COMMENT, frame_ctx(t), i);
		*ip = i + 1;
		return push(x, K_COMMENT, 0, i);
	}
	if (!word && (c == 'a' || c == 'c' || c == '[' || c == ']')) {
		if (kw(x, i, "alias"))
			return fault(x, SHLEX_ALIAS, frame_ctx(t), i);
		if ((t->sub == C_SUBST || t->sub == C_PROC) && kw(x, i, "case"))
			return fault(x, SHLEX_NESTED_CASE, frame_ctx(t), i);
		if (t->sub == C_TOP && (j = kw(x, i, "[["))) {
			*ip = j;
			return push(x, K_CMD, C_DBRACKET, i);
		}
		if (t->sub == C_DBRACKET && (j = kw(x, i, "]]"))) {
			*ip = j;
			x->n--;
			return 0;
		}
	}
	switch (c) {
	case ' ': case '\t':
		endword(t);
		t->dup = t->dup == 1;
		*ip = i + 1;
		return 0;
	case '\n':
		endword(t);
		t->dup = 0;
		*ip = i + 1;
		if (t->sub != C_TOP)
			return nl_nested(x, i);
		if (x->hdnext < x->nhd) {
			if ((rc = push(x, K_BODY, 0, x->hd[x->hdnext].op)) < 0)
				return rc;
			TOP(x)->bol = 1;
		}
		return 0;
	case '\'': case '"': case '`':
		*ip = i + 1;
		return push(x, c == '\'' ? K_SQ : c == '"' ? K_DQ : K_BQ, 0, i);
	case '\\':
		j = i + 1;
		if (ch(x, j) == '\n') { /* removed: as if absent */
			*ip = j + 1;
			return 0;
		}
		inword(t);
		if (ch(x, j) == HOLE)
			*ip = hole(x, j, SHLEX_BACKSLASH);
		else
			*ip = ch(x, j) == END ? j : j + 1;
		return 0;
	case '$':
		inword(t);
		return dollar(x, ip, W_CMD);
	case ';': case '&': case '|':
		endword(t);
		t->dup = 0;
		*ip = i + 1;
		return 0;
	case '(':
		if (word && t->prev && strchr("?*+@!", t->prev))
			return fault(x, SHLEX_EXTGLOB, frame_ctx(t), i);
		if (word && t->prev == '=')
			return fault(x, SHLEX_ARRAY, frame_ctx(t), i);
		if (t->sub == C_DBRACKET)
			return fault(x, SHLEX_DBRACKET_PAREN, SHLEX_DBRACKET, i);
		endword(t);
		t->dup = 0;
		j = nx(x, i + 1);
		if (ch(x, j) == '(') {
			*ip = j + 1;
			return push(x, K_ARITH, A_CMD, i);
		}
		if (t->sub == C_SUBST || t->sub == C_PROC)
			t->depth++;
		*ip = i + 1;
		return 0;
	case ')':
		if (t->sub == C_DBRACKET)
			return fault(x, SHLEX_DBRACKET_PAREN, SHLEX_DBRACKET, i);
		*ip = i + 1;
		t->dup = 0;
		if ((t->sub == C_SUBST || t->sub == C_PROC) && t->depth-- == 0)
			x->n--;
		else
			endword(t);
		return 0;
	case '<': case '>':
		endword(t);
		j = nx(x, i + 1);
		t->dup = 0;
		if (ch(x, j) == '&') { /* bash expands a >& word twice */
			t->dup = 1;
			*ip = j + 1;
			return 0;
		}
		if (ch(x, j) == '(') {
			if (t->sub == C_DBRACKET)
				return fault(x, SHLEX_DBRACKET_PAREN, SHLEX_DBRACKET, j);
			*ip = j + 1;
			return push(x, K_CMD, C_PROC, i);
		}
		if (c == '<' && ch(x, j) == '<') {
			if (t->sub != C_TOP)
				return fault(x, SHLEX_NESTED_HEREDOC, frame_ctx(t), i);
			k = nx(x, j + 1);
			if (ch(x, k) == '<') { /* bash's here-string <<< */
				*ip = k + 1;
				return 0;
			}
			return heredoc_op(x, ip, i, k);
		}
		*ip = i + 1;
		return 0;
	}
	/* A plain byte of a word. */
	if (t->sub_depth) {
		if (c == '[')
			t->sub_depth++;
		else if (c == ']')
			t->sub_depth--;
	} else if (c == '[' && word && t->name) {
		t->sub_depth = 1;
	}
	t->name = word ? t->name && (IS_ALPHA(c) || IS_DIGIT(c)) : IS_ALPHA(c);
	t->in_word = 1;
	t->prev = (unsigned char)c;
	*ip = i + 1;
	return 0;
}

/* $((…)) and ((…)). The latter is nested subshells to dash: no quotes, and
 * none of what dash would read as commands there. */
static int step_arith(struct lx *x, size_t *ip)
{
	struct frame *t = TOP(x);
	size_t i = *ip, j;
	int c = ch(x, i), word = t->in_word;

	*ip = i + 1;
	t->in_word = 1;
	switch (c) {
	case HOLE:
		*ip = hole(x, i, frame_ctx(t));
		return 0;
	case '(':
		t->depth++;
		t->in_word = 0;
		return 0;
	case ')':
		t->in_word = 0;
		if (t->depth) {
			t->depth--;
			return 0;
		}
		j = nx(x, i + 1);
		if (ch(x, j) != ')')
			return fault(x, SHLEX_ARITH_PAREN, frame_ctx(t), i);
		*ip = j + 1;
		x->n--;
		return 0;
	case '\'': case '"':
		return fault(x, SHLEX_ARITH_QUOTE, frame_ctx(t), i);
	case '\\':
		t->in_word = (unsigned char)word;
		if (ch(x, i + 1) != '\n')
			return fault(x, SHLEX_ARITH_QUOTE, frame_ctx(t), i);
		*ip = i + 2;
		return 0;
	case '$':
		*ip = i;
		return dollar(x, ip, W_ARITH);
	case '`':
		return push(x, K_BQ, 0, i);
	case '\n':
		t->in_word = 0;
		return nl_nested(x, i);
	}
	if (t->sub == A_CMD) {
		if ((!word && c == '#') || (c == '<' && ch(x, nx(x, i + 1)) == '<') ||
		    (!word && (kw(x, i, "case") || kw(x, i, "alias"))))
			return fault(x, SHLEX_ARITH_WORD, SHLEX_ARITHCMD, i);
	}
	if (IS_BLANK(c) || IS_OP(c))
		t->in_word = 0;
	return 0;
}

/* Inside '…', "…", `…`, $'…', ${…} or a comment. */
static int step_quoted(struct lx *x, size_t *ip)
{
	struct frame *t = TOP(x);
	size_t i = *ip, j = i + 1;
	int c = ch(x, i), d = ch(x, j), first = t->first;

	*ip = j;
	t->first = t->first && c == '\\' && d == '\n';
	if (c == HOLE) {
		*ip = hole(x, i, frame_ctx(t));
		return 0;
	}
	if (t->kind == K_COMMENT) {
		if (c == '\n') {
			*ip = i;
			x->n--;
		}
		return 0;
	}
	if (t->kind == K_PARAM && first && (IS_BLANK(c) || c == '\n' || c == '|'))
		return fault(x, SHLEX_FUNSUB, SHLEX_PARAM, i);
	if (c == '\n')
		return nl_nested(x, i);
	switch (t->kind) {
	case K_SQ:
		if (c == '\'')
			x->n--;
		return 0;
	case K_ANSIC:
		if (c == '\'') {
			x->n--;
		} else if (c == '\\') {
			if (d == '\'')
				return fault(x, SHLEX_ANSIC_QUOTE, SHLEX_ANSIC, i);
			if (d == HOLE)
				*ip = hole(x, j, SHLEX_ANSIC);
			else if (d != END && d != '\n') /* that newline still counts */
				*ip = j + 1;
		}
		return 0;
	case K_BQ:
		if (c == '`') {
			x->n--;
		} else if (c == '\\') {
			if (d == HOLE)
				*ip = hole(x, j, SHLEX_BACKTICK);
			else if (d != END)
				*ip = j + 1;
		}
		return 0;
	case K_DQ:
		if (c == '"')
			x->n--;
		else if (c == '\\' && d > 0 && d < 128 && strchr("$`\"\\\n", d))
			*ip = j + 1;
		else if (c == '$')
			return *ip = i, dollar(x, ip, W_DQ);
		else if (c == '`')
			return push(x, K_BQ, 0, i);
		return 0;
	default: /* K_PARAM */
		if (c == '}') {
			x->n--;
		} else if (c == '\'' || c == '"') {
			return fault(x, SHLEX_PARAM_QUOTE, SHLEX_PARAM, i);
		} else if (c == '\\') {
			if (d == HOLE)
				*ip = hole(x, j, SHLEX_PARAM);
			else if (d != END)
				*ip = j + 1;
		} else if (c == '$') {
			return *ip = i, dollar(x, ip, W_PARAM);
		} else if (c == '`') {
			return push(x, K_BQ, 0, i);
		}
		return 0;
	}
}

/* A here-document body: line by line, up to its delimiter line. */
static int step_body(struct lx *x, size_t *ip)
{
	struct frame *t = TOP(x);
	const struct heredoc *hd = &x->hd[x->hdnext];
	size_t i = *ip, j = i + 1, p, q;
	int c, d;

	if (t->bol) {
		for (p = i; hd->strip && ch(x, p) == '\t'; p++)
			;
		t->bol = 0;
		*ip = p;
		if ((q = delim_match(x, hd, p))) {
			*ip = q;
			t->bol = 1;
			if (++x->hdnext == x->nhd) {
				x->nhd = x->hdnext = 0;
				x->n--;
				endword(TOP(x));
			}
		}
		return 0;
	}
	c = ch(x, i);
	d = ch(x, j);
	*ip = j;
	if (c == HOLE) {
		*ip = hole(x, i, SHLEX_HEREDOC);
	} else if (c == '\n') {
		if (!hd->quoted && i > 0 && ch(x, i - 1) == '\\')
			return fault(x, SHLEX_HEREDOC_LINE, SHLEX_HEREDOC, i - 1);
		t->bol = 1;
	} else if (hd->quoted) {
		return 0;
	} else if (c == '\\') {
		if (d == '\n')
			return fault(x, SHLEX_HEREDOC_LINE, SHLEX_HEREDOC, i);
		if (d == HOLE)
			*ip = hole(x, j, SHLEX_HEREDOC);
		else if (d != END)
			*ip = j + 1;
	} else if (c == '$') {
		*ip = i;
		return dollar(x, ip, W_BODY);
	} else if (c == '`') {
		return push(x, K_BQ, 0, i);
	}
	return 0;
}

/* A non-ASCII byte directly before \ ` | }: in GBK, Big5 or Shift_JIS the
 * pair can be one character to bash and two to dash. */
static int multibyte(struct lx *x)
{
	size_t i;
	int c, d;

	for (i = 0; i < x->len; i++) {
		c = ch(x, i);
		d = ch(x, i + 1);
		if (c >= 0x80 && c != HOLE && (d == '\\' || d == '`' || d == '|' || d == '}'))
			return fault(x, SHLEX_MULTIBYTE, SHLEX_WORD, i);
	}
	return 0;
}

int shlex_check(const char *text, size_t len, struct shlex_hole *holes, size_t nholes,
    struct shlex_fault *fault_out)
{
	struct lx x;
	size_t i, k;
	int rc = 0;

	if (!fault_out)
		return -EINVAL;
	memset(fault_out, 0, sizeof *fault_out);
	fault_out->hole = (size_t)-1;
	memset(&x, 0, sizeof x);
	x.s = text;
	x.len = len;
	x.h = holes;
	x.nh = nholes;
	x.f = fault_out;
	if ((len && !text) || (nholes && !holes))
		return fault(&x, SHLEX_BADHOLES, SHLEX_UNSEEN, 0);
	for (k = 0; k < nholes; k++)
		holes[k].ctx = SHLEX_UNSEEN;
	for (k = 0; k < nholes; k++)
		if (!holes[k].len || holes[k].off > len || holes[k].len > len - holes[k].off ||
		    (k && holes[k].off < holes[k - 1].off + holes[k - 1].len))
			return fault(&x, SHLEX_BADHOLES, SHLEX_UNSEEN, holes[k].off);
	x.cap = 16;
	if (!(x.fr = calloc(x.cap, sizeof *x.fr)))
		return -ENOMEM;
	x.n = 1; /* the top level: K_CMD, C_TOP */
	if ((rc = multibyte(&x)) < 0)
		goto out;
	for (i = 0; i < len; ) {
		switch (TOP(&x)->kind) {
		case K_CMD:
			rc = step_cmd(&x, &i);
			break;
		case K_ARITH:
			rc = step_arith(&x, &i);
			break;
		case K_BODY:
			rc = step_body(&x, &i);
			break;
		default:
			rc = step_quoted(&x, &i);
			break;
		}
		if (rc < 0)
			goto out;
	}
	while (x.n > 1 && (TOP(&x)->kind == K_COMMENT ||
	    (TOP(&x)->kind == K_CMD && TOP(&x)->sub == C_DBRACKET)))
		x.n--;
	if (x.n > 1)
		rc = fault(&x, SHLEX_UNTERMINATED, frame_ctx(TOP(&x)), TOP(&x)->off);
	else if (x.hdnext < x.nhd)
		rc = fault(&x, SHLEX_UNTERMINATED, SHLEX_HEREDOC, x.hd[x.hdnext].op);
out:
	free(x.fr);
	free(x.hd);
	if (rc == -ENOMEM)
		return rc;
	return fault_out->why == SHLEX_OK ? 0 : -EINVAL;
}

const char *shlex_ctx_str(enum shlex_ctx ctx)
{
	static const char *const s[] = {
		[SHLEX_WORD] = "a plain word",
		[SHLEX_UNSEEN] = "after an earlier error",
		[SHLEX_SQUOTE] = "inside single quotes",
		[SHLEX_DQUOTE] = "inside double quotes",
		[SHLEX_BACKSLASH] = "directly after an unquoted \\",
		[SHLEX_DOLLAR] = "directly after an unquoted $",
		[SHLEX_BACKTICK] = "inside `…`",
		[SHLEX_CMDSUB] = "inside $(…)",
		[SHLEX_PROCSUB] = "inside <(…) or >(…)",
		[SHLEX_ARITH] = "inside $((…))",
		[SHLEX_ARITHCMD] = "inside ((…))",
		[SHLEX_PARAM] = "inside ${…}",
		[SHLEX_ANSIC] = "inside $'…'",
		[SHLEX_COMMENT] = "in a comment",
		[SHLEX_HEREDOC] = "in a here-document",
		[SHLEX_HEREDOC_WORD] = "a here-document delimiter",
		[SHLEX_DBRACKET] = "inside [[…]]",
		[SHLEX_SUBSCRIPT] = "inside an array subscript name[…]",
		[SHLEX_DUPWORD] = "the word after >& or <& (bash expands it a second time)",
	};

	return (size_t)ctx < sizeof s / sizeof s[0] && s[ctx] ? s[ctx] : "in an unknown place";
}

const char *shlex_why_str(enum shlex_why why)
{
	static const char *const s[] = {
		[SHLEX_OK] = "no error",
		[SHLEX_HOLE] = "a placeholder outside plain word text",
		[SHLEX_UNTERMINATED] = "unterminated",
		[SHLEX_ANSIC_QUOTE] = "\\' inside $'…' (dash and bash end that string apart)",
		[SHLEX_PARAM_QUOTE] = "a quote inside ${…} (the shells and modes read it apart)",
		[SHLEX_FUNSUB] = "${ …} or ${|…} (bash 5.3 runs it as commands)",
		[SHLEX_ARITH_QUOTE] = "a quote or backslash inside arithmetic",
		[SHLEX_ARITH_PAREN] = "a ) inside arithmetic that does not close it as ))",
		[SHLEX_ARITH_WORD] = "#, <<, case or alias inside ((…)) (commands to dash)",
		[SHLEX_NESTED_COMMENT] = "a comment inside $(…), <(…) or [[…]] (read apart)",
		[SHLEX_NESTED_CASE] = "case inside $(…) or <(…) (bash versions read it apart)",
		[SHLEX_NESTED_HEREDOC] = "a here-document inside $(…), <(…) or [[…]]",
		[SHLEX_DBRACKET_PAREN] = "( or ) inside [[…]] (bash's regex and grouping)",
		[SHLEX_HEREDOC_DELIM] = "a here-document delimiter not of [A-Za-z0-9_.,:+/-]",
		[SHLEX_HEREDOC_LINE] = "a line break in a quote or substitution next to a "
		    "here-document (the shells read it apart)",
		[SHLEX_DOLLAR_BRACKET] = "$[…] (bash arithmetic, plain text to dash): use $((…))",
		[SHLEX_EXTGLOB] = "an extglob pattern ?( *( +( @( !( (bash reads it apart)",
		[SHLEX_ARRAY] = "a bash array assignment name=(…)",
		[SHLEX_SUBSCRIPT_WORD] = "a blank or operator inside name[…] (one word to bash)",
		[SHLEX_ALIAS] = "alias (an alias changes how the rest is read)",
		[SHLEX_MULTIBYTE] = "a non-ASCII character before \\ ` | or } (one character "
		    "to bash in some locales)",
		[SHLEX_DEPTH] = "nested too deeply",
		[SHLEX_BADHOLES] = "invalid placeholder spans",
	};

	return (size_t)why < sizeof s / sizeof s[0] && s[why] ? s[why] : "unknown error";
}
