#!/usr/bin/env python3
"""man_check.py: does an mdoc page list what a program offers?

  man_check.py opts PAGE    < help text   options, subcommands, variables
  man_check.py fields PAGE  < cfg_keys.py output (WHERE PATH KEY lines)

opts: every --long and -x option in the help text must be an item of a
list in PAGE (an .It line holding "Fl \\-long" or "Fl x"); every variable
name in it ($NAME, "env NAME", or the column after an option) must be an "Ev NAME"
somewhere in PAGE; with --commands PROG, every word that follows PROG at the
start of a usage line must be a "Cm WORD" in PAGE.
fields: every KEY must be an item of a list in PAGE (.It Cm KEY, or one of
the names of ".It Cm a , b").
Prints "found N" and one "missing X" line per gap; exits 1 when something is
missing or nothing was found (a check that found nothing checked nothing)."""
import re
import sys


def it_lines(page):
    return [ln for ln in open(page, encoding='utf-8').read().splitlines() if ln.startswith('.It ')]


# Example lines in a help text run other programs (curl -H ... in sign's):
# their options are not ours.
EXAMPLE = re.compile(r'^\s*(curl|ssh|docker|kubectl)\s')


def opts(page, text, prog):
    src = open(page, encoding='utf-8').read()
    text = '\n'.join(ln for ln in text.splitlines() if not EXAMPLE.match(ln))
    items = '\n'.join(it_lines(page))
    longs = sorted(set(re.findall(r'(?<![\w-])--([a-z][a-z0-9-]*)', text)))
    # a short option where options are defined or listed: at the start of
    # a line, after "[" or "|", or after ", " ("-h, --help, -V, --version");
    # not "sh -c" inside a description
    shorts = sorted(set(re.findall(r'(?:^\s*|\[|\| |, )-([A-Za-z])(?=[\s,\]|])', text, re.M)))
    # variables: "$NAME", "env NAME", or serve's column after the option
    envs = set(re.findall(r'(?:(?<![\w-])env |\$)([A-Z][A-Z0-9_]*[A-Z0-9])\b', text))
    envs |= set(re.findall(r'^\s+--[a-z][a-z0-9-]*\s+([A-Z][A-Z0-9]*_[A-Z0-9_]+)\s{2,}', text, re.M))
    envs = sorted(envs)
    cmds = []
    if prog:
        cmds = sorted(set(re.findall(r'^\s*(?:usage:\s*)?' + re.escape(prog) + r' ([a-z][a-z-]+)', text, re.M)))
        # the command table of "webhook-relay --help": two-space indent, a word, spaces, text
        cmds += sorted(set(re.findall(r'^  ([a-z][a-z-]+)\s{2,}\S', text, re.M)))
    missing = []
    for o in longs:
        if not re.search(r'\bFl \\-' + re.escape(o) + r'(?![\w-])', items):
            missing.append('--' + o)
    for o in shorts:
        if not re.search(r'\bFl ' + re.escape(o) + r'(?![\w-])', items):
            missing.append('-' + o)
    for e in envs:
        if not re.search(r'\bEv ' + re.escape(e) + r'\b', src):
            missing.append('$' + e)
    for c in sorted(set(cmds)):
        if not re.search(r'\bCm ' + re.escape(c) + r'\b', src):
            missing.append('command ' + c)
    return len(longs) + len(shorts) + len(envs) + len(set(cmds)), missing


def fields(page, lines):
    names = set()
    for ln in it_lines(page):
        m = re.match(r'\.It Cm (.*)', ln)
        if m:
            names.update(t for t in re.split(r'[\s,]+', m.group(1)) if t)
    keys = sorted({ln.split()[-1] for ln in lines if ln.strip()})
    return len(keys), ['field ' + k for k in keys if k not in names]


def main(argv):
    if len(argv) < 3 or argv[1] not in ('opts', 'fields'):
        print(__doc__, file=sys.stderr)
        return 2
    page = argv[2]
    if argv[1] == 'opts':
        prog = argv[4] if len(argv) > 4 and argv[3] == '--commands' else None
        n, missing = opts(page, sys.stdin.read(), prog)
    else:
        n, missing = fields(page, sys.stdin.read().splitlines())
    print('found', n)
    for m in missing:
        print('missing', m)
    return 1 if missing or n == 0 else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
