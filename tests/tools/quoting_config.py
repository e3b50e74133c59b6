#!/usr/bin/env python3
"""quoting_config.py — runner_quoting.sh's daemon config.

usage: quoting_config.py CONFIG
Writes CONFIG from the environment (T_TMP MARK_DIR SSHD_PORT KEY_ED25519
KNOWN_HOSTS BUILD ACCOUNTS): for every login-shell account, with the
executor's POSIX-sh wrapping and without, one hook per way a value is placed
in a command (a bare word, part of a word, a variable in double quotes).
"""
import json, os, sys
E = os.environ
M = E["MARK_DIR"]
V = {"v": {"from": "payload", "path": "v", "pattern": ".*", "max_len": 4096}}
# the allowed forms: a bare word, part of a word, a variable in double quotes
FORMS = {
    "word": "printf '%s\\n' {{v}} >> " + M + "/{out}",
    "part": "printf '%s\\n' x{{v}}y >> " + M + "/{out}",
    "var": "v={{v}}; printf '%s\\n' \"$v\" >> " + M + "/{out}",
}
hooks = []
for acct in E["ACCOUNTS"].split():
    for wrap in (True, False):
        for form, cmd in FORMS.items():
            hid = f"{acct}-{form}-{'t' if wrap else 'n'}"
            hooks.append({"id": hid,
                          "signature": {"scheme": "hookdeck", "secrets": ["file:" + E["T_TMP"] + "/hd"]},
                          "idempotency": {"dedupe_body": False},
                          "job": {"destination": f"{acct}@127.0.0.1:{E['SSHD_PORT']}",
                                  "identity": E["KEY_ED25519"], "known_hosts": E["KNOWN_HOSTS"],
                                  "command": cmd.replace("{out}", hid), "params": V,
                                  "remote_timeout": wrap, "timeout_s": 20}})
json.dump({"store": {"path": E["T_TMP"] + "/runner.db"},
           "executor": {"path": E["BUILD"] + "/remote-executor", "max_jobs": 4},
           "server": {"threads": 16}, "hooks": hooks}, open(sys.argv[1], "w"), indent=1)
