#!/usr/bin/env python3
"""quoting_bad_config.py — a config whose one hook has a given command.

usage: quoting_bad_config.py CONFIG COMMAND
Writes CONFIG (store under $T_TMP) with hooks[0].job.command = COMMAND, for
the check-config refusals of runner_quoting.sh.
"""
import json, os, sys
E = os.environ
json.dump({"store": {"path": E["T_TMP"] + "/bad.db"},
           "executor": {"path": E["BUILD"] + "/remote-executor"},
           "hooks": [{"id": "bad", "signature": {"scheme": "hookdeck", "secrets": ["file:" + E["T_TMP"] + "/hd"]},
                      "job": {"destination": "u@127.0.0.1", "identity": E["KEY_ED25519"],
                              "known_hosts": E["KNOWN_HOSTS"], "command": sys.argv[2],
                              "params": {"v": {"from": "payload", "path": "v", "pattern": ".*"}}}}]},
          open(sys.argv[1], "w"))
