#!/usr/bin/env python3
"""repeats_config.py — runner_repeats.sh's daemon config.

usage: repeats_config.py CONFIG
Writes CONFIG from the environment (S MARK_DIR SSH_USER SSHD_PORT
KEY_ED25519 KNOWN_HOSTS DB BUILD): the hooks runner_repeats.sh delivers to
again and again (Hookdeck, GitHub and standard-webhooks signatures,
single-use and per-audience JWTs, dedupe opt-out, a slow and a flaky job).
"""
import json, os, sys
E = os.environ
S, M = E["S"], E["MARK_DIR"]
def job(cmd, **kw):
    j = {"destination": f"{E['SSH_USER']}@127.0.0.1:{E['SSHD_PORT']}",
         "identity": E["KEY_ED25519"], "known_hosts": E["KNOWN_HOSTS"],
         "command": cmd, "timeout_s": 30}
    j.update(kw)
    return j
def mark(h, pre="", **kw):
    return job(f"{pre}echo run >> {M}/{h}", **kw)
HD = {"scheme": "hookdeck", "secrets": [f"file:{S}/hd"]}
JWT = {"algorithms": ["HS256"], "key": f"file:{S}/jwt", "issuer": "ci"}
hooks = [
    {"id": "hd", "signature": HD, "job": mark("hd")},
    {"id": "slow", "signature": HD, "job": mark("slow", f"echo start >> {M}/slow.start; sleep 3; ")},
    # fails its first run, succeeds afterwards
    {"id": "flaky", "signature": HD,
     "job": mark("flaky", f"echo start >> {M}/flaky.start; "
                 f"if [ ! -e {M}/flaky.once ]; then : > {M}/flaky.once; exit 3; fi; ")},
    {"id": "optout", "signature": HD, "idempotency": {"dedupe_body": False}, "job": mark("optout")},
    {"id": "gh", "signature": {"scheme": "github", "secrets": [f"file:{S}/gh"]}, "job": mark("gh")},
    {"id": "std", "signature": {"scheme": "standard-webhooks", "secrets": [f"file:{S}/std"]},
     "job": mark("std")},
    {"id": "once", "signature": HD, "jwt": dict(JWT, single_use=True), "job": mark("once")},
    {"id": "aud-a", "signature": HD, "jwt": dict(JWT, audience="deploy-a"), "job": mark("aud-a")},
    {"id": "aud-b", "signature": HD, "jwt": dict(JWT, audience="deploy-b"), "job": mark("aud-b")},
    {"id": "dup", "signature": HD,
     "job": job(f"echo {{{{ref}}}} >> {M}/dup",
                params={"ref": {"from": "payload", "path": "ref", "pattern": "[a-z0-9-]+"}})},
    {"id": "storm", "signature": HD,
     "job": mark("storm", f"echo start >> {M}/storm.start; sleep 3; ")},
    {"id": "aq", "signature": HD,
     "job": mark("aq", f"echo start >> {M}/aq.start; sleep 4; ", mode="async")},
]
cfg = {
    "server": {"listen": "127.0.0.1:8080", "threads": 40, "read_token": f"file:{S}/metrics",
               "metrics_token": f"file:{S}/metrics"},
    "store": {"path": E["DB"]},
    "executor": {"path": E["BUILD"] + "/remote-executor", "max_jobs": 2, "max_per_destination": 2,
                 "max_queued": 1},
    "log": {"level": "debug", "format": "text"},
    "hooks": hooks,
}
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
