/*
 * shlex.c — where a value may stand in a POSIX shell command. Owns: lexing
 * the literal text of a command template as dash and bash (also in POSIX
 * mode) read it, and telling, for each placeholder span ("hole") that will
 * become one single-quoted word '…', whether that word is plain unquoted
 * word text at the top level (or in a subshell or brace group) for every one
 * of those shells — the one place where a single-quoted word is literal.
 *
 * Refused, each with its context and byte offset: a hole inside '…', "…",
 * $"…", $'…', `…`, $(…), <(…), >(…), $((…)), ((…)), ${…}, [[…]], a
 * name[…] subscript, a comment, a here-document body or delimiter, directly
 * after an unquoted \ (it would escape the opening quote) or an unquoted $
 * (it would become $'…'). Refused for the whole text, because dash and bash
 * (or bash versions) read it differently or this lexer does not follow it:
 * see enum shlex_why. Soundness over reach: when unsure, refuse.
 *
 * Not covered, by nature: commands and expansions that read a value as code
 * (eval, sh -c, ssh, su -c, bash's let, [[ -eq ]], read/printf -v/test -v of
 * a name, ${!x}, integer variables); aliases defined by files the command
 * sources; a target shell in a legacy multibyte locale, beyond the
 * characters refused as SHLEX_MULTIBYTE.
 */
#ifndef SHLEX_H
#define SHLEX_H
#include <stddef.h>

/* Where a hole stands. SHLEX_WORD is the only allowed one. */
enum shlex_ctx {
	SHLEX_WORD = 0,      /* plain unquoted word text at the top level */
	SHLEX_UNSEEN,        /* not reached: the scan stopped at an earlier fault */
	SHLEX_SQUOTE,        /* inside '…' */
	SHLEX_DQUOTE,        /* inside "…" or $"…" */
	SHLEX_BACKSLASH,     /* directly after an unquoted \ */
	SHLEX_DOLLAR,        /* directly after an unquoted $ */
	SHLEX_BACKTICK,      /* inside `…` */
	SHLEX_CMDSUB,        /* inside $(…) */
	SHLEX_PROCSUB,       /* inside <(…) or >(…) */
	SHLEX_ARITH,         /* inside $((…)) */
	SHLEX_ARITHCMD,      /* inside ((…)) */
	SHLEX_PARAM,         /* inside ${…} */
	SHLEX_ANSIC,         /* inside $'…' */
	SHLEX_COMMENT,       /* in a comment */
	SHLEX_HEREDOC,       /* in a here-document body */
	SHLEX_HEREDOC_WORD,  /* the here-document delimiter */
	SHLEX_DBRACKET,      /* inside [[…]] */
	SHLEX_SUBSCRIPT,     /* inside the [ ] of name[…] (bash evaluates it) */
	SHLEX_DUPWORD,       /* the word after >& or <& (bash expands it twice) */
};

/* Why the text was refused. */
enum shlex_why {
	SHLEX_OK = 0,
	SHLEX_HOLE,          /* a hole outside SHLEX_WORD; .ctx says where */
	SHLEX_UNTERMINATED,  /* the text ends inside .ctx, opened at .off */
	SHLEX_ANSIC_QUOTE,   /* \' inside $'…': dash and bash end it apart */
	SHLEX_PARAM_QUOTE,   /* a quote inside ${…}: read apart by shell and mode */
	SHLEX_FUNSUB,        /* ${ …} or ${|…}: bash 5.3 runs it as commands */
	SHLEX_ARITH_QUOTE,   /* a quote or \ inside $((…)) or ((…)) */
	SHLEX_ARITH_PAREN,   /* a ) inside arithmetic that does not close as )) */
	SHLEX_ARITH_WORD,    /* #, <<, case or alias inside ((…)) (dash: commands) */
	SHLEX_NESTED_COMMENT,/* a comment inside $(…), <(…) or [[…]] */
	SHLEX_NESTED_CASE,   /* case inside $(…) or <(…) */
	SHLEX_NESTED_HEREDOC,/* << inside $(…), <(…) or [[…]] */
	SHLEX_DBRACKET_PAREN,/* ( or ) inside [[…]] (bash's regex and grouping) */
	SHLEX_HEREDOC_DELIM, /* a delimiter other than [A-Za-z0-9_.,:+/-], quoted or not */
	SHLEX_HEREDOC_LINE,  /* a line break read apart around a here-document */
	SHLEX_DOLLAR_BRACKET,/* $[…]: bash arithmetic, plain text to dash */
	SHLEX_EXTGLOB,       /* ?( *( +( @( !(: bash extglob patterns */
	SHLEX_ARRAY,         /* name=(…): bash array assignment */
	SHLEX_SUBSCRIPT_WORD,/* a blank, newline or operator inside name[…] */
	SHLEX_ALIAS,         /* the word alias: it can change how later lines read */
	SHLEX_MULTIBYTE,     /* a non-ASCII byte before \ ` | }: one character in
	                      * some legacy locales (GBK, Big5, Shift_JIS) */
	SHLEX_DEPTH,         /* nested deeper than SHLEX_MAX_DEPTH */
	SHLEX_BADHOLES,      /* holes not sorted, overlapping, empty or outside */
};

#define SHLEX_MAX_DEPTH 256

struct shlex_hole {
	size_t off, len;     /* in: the span in the text (the {{name}}) */
	enum shlex_ctx ctx;  /* out: where it stands */
};

struct shlex_fault {
	enum shlex_why why;  /* SHLEX_OK when nothing was refused */
	enum shlex_ctx ctx;  /* SHLEX_HOLE: the hole's; SHLEX_UNTERMINATED: the open one */
	size_t off;          /* byte offset of the hole, the construct or the byte */
	size_t hole;         /* SHLEX_HOLE: index into the holes, else (size_t)-1 */
};

/*
 * Lex TEXT[0, LEN) with the NHOLES spans of HOLES (sorted, non-overlapping,
 * non-empty, inside the text) each standing for one single-quoted word; the
 * bytes of a hole are never looked at. Sets every holes[i].ctx (SHLEX_UNSEEN
 * for those after a fault that stopped the scan) and *FAULT to the first
 * fault in text order. Returns 0 when every hole is SHLEX_WORD and the text
 * is complete and unambiguous; -EINVAL with *FAULT set otherwise; -ENOMEM.
 * A fault at a hole does not stop the scan (unless the hole is a here-
 * document delimiter); any other fault does.
 */
int shlex_check(const char *text, size_t len, struct shlex_hole *holes, size_t nholes,
    struct shlex_fault *fault);

/* "inside double quotes", "directly after an unquoted $", …; never NULL. */
const char *shlex_ctx_str(enum shlex_ctx ctx);

/* What is wrong, e.g. "\\' inside $'…' (dash and bash end that string at
 * different places)"; never NULL. */
const char *shlex_why_str(enum shlex_why why);
#endif
