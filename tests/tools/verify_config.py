#!/usr/bin/env python3
"""verify_config.py — runner_verify.sh's daemon config.

usage: verify_config.py CONFIG
Writes CONFIG from the environment (S MARK_DIR SSH_USER SSHD_PORT
KEY_ED25519 KNOWN_HOSTS DB BUILD ISS AUD SUB): every hook the verification
cases post to.
"""
import json, os, sys
E = os.environ
S, M = E["S"], E["MARK_DIR"]

def job(cmd, params=None):
    j = {"destination": f"{E['SSH_USER']}@127.0.0.1:{E['SSHD_PORT']}",
         "identity": E["KEY_ED25519"], "known_hosts": E["KNOWN_HOSTS"],
         "command": cmd, "timeout_s": 30}
    if params:
        j["params"] = params
    return j

def mark(h):
    return job(f"echo x >> {M}/{h}")

HD = {"scheme": "hookdeck", "secrets": [f"file:{S}/hd1"]}

def jwt(algs, key, **kw):
    j = {"algorithms": algs, "key": f"file:{S}/{key}", "issuer": E["ISS"],
         "audience": E["AUD"], "subject": E["SUB"], "claims": {"team": "platform"}}
    j.update(kw)
    return j

hooks = [
    {"id": "hd", "signature": {"scheme": "hookdeck",
                               "secrets": [f"file:{S}/hd1", f"file:{S}/hd2"]},
     "job": mark("hd")},
    {"id": "gh", "signature": {"scheme": "github", "secrets": [f"file:{S}/gh"]},
     "job": mark("gh")},
    {"id": "std", "signature": {"scheme": "standard-webhooks", "secrets": [f"file:{S}/std"],
                                "tolerance_s": 120},
     "job": mark("std")},
    {"id": "jwths", "signature": HD, "jwt": jwt(["HS256"], "jwt_hs"), "job": mark("jwths")},
    {"id": "jwtrs", "signature": HD, "jwt": jwt(["RS256"], "rsa.pub"), "job": mark("jwtrs")},
    {"id": "jwtes", "signature": HD, "jwt": jwt(["ES256"], "ec.pub"), "job": mark("jwtes")},
    {"id": "jwthdr", "signature": HD,
     "jwt": jwt(["HS256"], "jwt_hs", token={"header": "X-Auth-Token"}), "job": mark("jwthdr")},
    {"id": "jwtq", "signature": HD,
     "jwt": jwt(["HS256"], "jwt_hs", token={"query": "access_token"}), "job": mark("jwtq")},
    {"id": "tmpl", "signature": HD,
     "job": job(f"echo {{{{ref}}}} >> {M}/tmpl",
                {"ref": {"from": "payload", "path": "ref", "pattern": "[A-Za-z0-9._/-]+"}})},
    {"id": "loose", "signature": HD,
     "job": job(f"printf '%s\\n' {{{{v}}}} >> {M}/loose",
                {"v": {"from": "payload", "path": "v", "pattern": ".*", "max_len": 1024}})},
    {"id": "hdrp", "signature": HD,
     "job": job(f"echo {{{{r}}}} >> {M}/hdrp",
                {"r": {"from": "header", "name": "X-Ref", "pattern": "[a-z0-9-]+"}})},
    {"id": "claimp", "signature": HD, "jwt": jwt(["HS256"], "jwt_hs"),
     "job": job(f"echo {{{{env}}}} >> {M}/claimp",
                {"env": {"from": "jwt", "claim": "env", "pattern": "[a-z]+"}})},
]
# This suite sends one body many times as distinct deliveries (signatures,
# tokens, keys): body dedupe, on by default, would answer the later ones as
# repeats. It is tested on its own in runner_repeats.sh.
for h in hooks:
    if h["signature"]["scheme"] != "standard-webhooks":
        h["idempotency"] = {"dedupe_body": False}
cfg = {
    "server": {"listen": "127.0.0.1:8080", "max_body_bytes": 4096, "threads": 16,
               "request_timeout_ms": 20000},
    "store": {"path": E["DB"]},
    "executor": {"path": E["BUILD"] + "/remote-executor", "max_jobs": 4},
    "log": {"level": "debug", "format": "text"},
    "hooks": hooks,
}
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
