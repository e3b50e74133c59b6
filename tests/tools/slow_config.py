#!/usr/bin/env python3
"""slow_config.py — runner_slow.sh's daemon config.

usage: slow_config.py CONFIG OPS_PORT
Writes CONFIG from the environment (T_TMP MARK_DIR SSH_USER SSHD_PORT
KEY_ED25519 KNOWN_HOSTS BUILD): request and keep-alive timeouts, a minimum
request rate and a body cap on the hook listener, and /healthz and /metrics
on 127.0.0.1:OPS_PORT.
"""
import json, os, sys
E = os.environ
cfg = {
    "server": {"listen": "127.0.0.1:8080", "threads": 8, "request_timeout_ms": 3000,
               "keepalive_timeout_ms": 1000, "min_request_rate": 1024, "max_body_bytes": 65536,
               "ops_listen": "127.0.0.1:" + sys.argv[2]},
    "store": {"path": E["T_TMP"] + "/runner.db"},
    "executor": {"path": E["BUILD"] + "/remote-executor", "max_jobs": 2},
    "log": {"level": "info"},
    "hooks": [{"id": "hd", "signature": {"scheme": "hookdeck", "secrets": ["file:" + E["T_TMP"] + "/hd"]},
               "job": {"destination": f"{E['SSH_USER']}@127.0.0.1:{E['SSHD_PORT']}",
                       "identity": E["KEY_ED25519"], "known_hosts": E["KNOWN_HOSTS"],
                       "command": "echo run >> " + E["MARK_DIR"] + "/hd", "timeout_s": 20}}],
}
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
