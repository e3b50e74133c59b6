#!/usr/bin/env python3
"""cfg_keys.py FILE.c... : the field names a config parser accepts, read from
its source, one "WHERE KEY" line each (WHERE: file:line of the table, then the
path the call names when it is a literal, "." for the top level, else "-";
NAME in a path stands for any name).

A parser refuses unknown fields by handing a NULL-terminated table to
cfgfield_only_keys (runner) or only_keys (executor/svccfg.c); those calls are
the truth, so this finds every such call, takes the table it names and reads
the nearest definition of that table above the call
(static const char *const NAME[] = { "a", "b", NULL };). Two parsers check
fields another way, and are read as they are written:
  - runner/tmplparam.c: the { "key", F_BIT } table called fields[];
  - relay/auth.c: the known[] table of a channel, and the strcmp(f->string, "x")
    names of the file's top level.
Exits 1 when a call names a table it cannot find (the layout changed: fix
this reader rather than let the check go quiet)."""
import re
import sys

TABLE = re.compile(r'static\s+const\s+char\s*\*\s*const\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\};', re.S)
CALL_RUNNER = re.compile(r'cfgfield_only_keys\s*\(\s*\w+\s*,\s*\w+\s*,\s*("[^"]*"|\w+)\s*,\s*(\w+)\s*\)')
CALL_SVC = re.compile(r'\bonly_keys\s*\(\s*\w+\s*,\s*(\w+)\s*,\s*("[^"]*"|\w+)\s*,')
STR = re.compile(r'"([^"\\]*)"')


def line_of(src, pos):
    return src.count('\n', 0, pos) + 1


def main(files):
    out = []
    for f in files:
        src = open(f, encoding='utf-8').read()
        tables = [(m.start(), m.group(1), STR.findall(m.group(2))) for m in TABLE.finditer(src)]
        calls = [(m.start(), m.group(2), m.group(1)) for m in CALL_RUNNER.finditer(src)]
        calls += [(m.start(), m.group(1), m.group(2)) for m in CALL_SVC.finditer(src)
                  if not src[max(0, m.start() - 12):m.start()].rstrip().endswith('int')]
        for pos, name, where in calls:
            defs = [t for t in tables if t[1] == name and t[0] < pos]
            if not defs:
                print(f'cfg_keys: {f}:{line_of(src, pos)}: table {name} not found', file=sys.stderr)
                return 1
            tpos, _, keys = defs[-1]
            path = where.strip('"') if where.startswith('"') else '-'
            if path == '(top level)':
                path = '.'
            for k in keys:
                out.append((f'{f}:{line_of(src, tpos)}', path, k))
        m = re.search(r'fields\[\]\s*=\s*\{(.*?)\};', src, re.S)
        if m and 'tmplparam' in f:
            for k in re.findall(r'\{\s*"([^"]+)"\s*,\s*F_\w+\s*\}', m.group(1)):
                out.append((f'{f}:{line_of(src, m.start())}', 'params.NAME', k))
        if f.endswith('relay/auth.c'):
            for m in TABLE.finditer(src):
                if m.group(1) == 'known':
                    for k in STR.findall(m.group(2)):
                        out.append((f'{f}:{line_of(src, m.start())}', 'channels.NAME', k))
            for m in re.finditer(r'strcmp\(f->string,\s*"(\w+)"\)', src):
                out.append((f'{f}:{line_of(src, m.start())}', '.', m.group(1)))
    for where, path, k in out:
        print(where, path, k)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
