#!/usr/bin/env python3
"""dockerfile_facts.py — the facts deploy_docker.sh checks, read from a Dockerfile.

usage: dockerfile_facts.py DOCKERFILE
Joins continued lines, drops comments, splits the file into stages, and
prints one line per fact, "KEY<TAB>value": the number of stages, then each
stage's base image and instructions under build.* (every stage before the
last) or runtime.* (the last).
"""
import json, re, shlex, sys
text = open(sys.argv[1]).read()
lines, cur = [], ""
for raw in text.splitlines():
    s = raw.strip()
    if not cur and (not s or s.startswith("#")):
        continue
    if cur and s.startswith("#"):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append(cur + s)
    cur = ""
stages = []
for l in lines:
    op, _, arg = l.partition(" ")
    op, arg = op.upper(), arg.strip()
    if op == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", arg, re.I)
        stages.append({"base": m.group(1), "name": m.group(2) or str(len(stages)), "ins": []})
    else:
        stages[-1]["ins"].append((op, arg))
def out(k, v):
    print("%s\t%s" % (k, v))
out("stages", len(stages))
for i, st in enumerate(stages):
    role = "runtime" if i == len(stages) - 1 else "build"
    out(role + ".base", st["base"])
    out(role + ".name", st["name"])
    workdir = "/"
    for op, arg in st["ins"]:
        if op == "WORKDIR":
            workdir = arg
            out(role + ".workdir", arg)
        elif op == "RUN":
            for cmd in re.split(r"\s*&&\s*", arg):
                words = shlex.split(cmd)
                words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]  # env prefixes
                if words[:1] == ["env"]:
                    words = words[1:]
                if words[:2] == ["apt-get", "install"]:
                    for w in words[2:]:
                        if not w.startswith("-"):
                            out(role + ".apt", w)
                elif words[:1] == ["make"]:
                    out(role + ".make", cmd)
                elif words[:1] == ["useradd"]:
                    out(role + ".useradd", cmd)
                    if "--uid" in words:
                        out(role + ".useradd_uid", words[words.index("--uid") + 1])
        elif op == "COPY":
            w = arg.split()
            if w[0].startswith("--from="):
                for src in w[1:-1]:
                    out(role + ".copy_from", "%s %s %s" % (w[0][7:], src, w[-1]))
        elif op in ("USER", "EXPOSE", "STOPSIGNAL"):
            out(role + "." + op.lower(), arg)
        elif op == "VOLUME":
            for v in (json.loads(arg) if arg.startswith("[") else arg.split()):
                out(role + ".volume", v)
        elif op == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(.*)$", arg)
            out(role + ".healthcheck", json.dumps(json.loads(m.group(1))) if m and m.group(1).startswith("[") else "shell-form:" + arg)
        elif op in ("ENTRYPOINT", "CMD"):
            out(role + "." + op.lower(), json.dumps(json.loads(arg)) if arg.startswith("[") else "shell-form:" + arg)
        elif op == "ENV":
            out(role + ".env", arg)
