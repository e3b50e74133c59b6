#!/usr/bin/env python3
"""proc_config.py — runner_proc.sh's daemon config.

usage: proc_config.py CONFIG WORKDIR EXECUTOR DESTINATION TOKEN
Writes CONFIG: the store, identity, known_hosts and passphrase file under
WORKDIR, EXECUTOR as the remote-executor, and one hook "stall" whose secret
is the environment's WR_PROC_SECRET and whose job goes to DESTINATION (a
peer that stalls the handshake) with a command carrying TOKEN.
"""
import json
import sys

out, w, ex, dest, token = sys.argv[1:6]
json.dump({
    "server": {"drain_timeout_s": 1},
    "store": {"path": w + "/runner.db"},
    "executor": {"path": ex, "max_jobs": 2},
    "hooks": [{"id": "stall",
               "signature": {"scheme": "hookdeck", "secrets": ["env:WR_PROC_SECRET"]},
               "job": {"destination": dest, "identity": w + "/id",
                       "known_hosts": w + "/known_hosts", "passphrase": "file:" + w + "/pass",
                       "handshake_timeout_s": 20, "timeout_s": 30,
                       "command": "echo cmd-marker-" + token + " {{v}}",
                       "params": {"v": {"from": "payload", "path": "v", "pattern": "[a-z0-9-]+"}}}}],
}, open(out, "w"))
