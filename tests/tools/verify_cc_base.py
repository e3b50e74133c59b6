#!/usr/bin/env python3
"""verify_cc_base.py — the base config of runner_verify.sh's check-config cases.

usage: verify_cc_base.py
Writes $CC/base.json from the environment (CC S KEY_ED25519 KNOWN_HOSTS
BUILD): one valid hook, "a", that every check-config case changes in one
place.
"""
import json, os
E = os.environ
S = E["S"]
base = {
    "server": {"listen": "127.0.0.1:18080"},
    "store": {"path": E["CC"] + "/cc.db"},
    "executor": {"path": E["BUILD"] + "/remote-executor"},
    "hooks": [{
        "id": "a",
        "signature": {"scheme": "hookdeck", "secrets": [f"file:{S}/hd1"]},
        "jwt": {"algorithms": ["HS256"], "key": f"file:{S}/jwt_hs", "issuer": "i"},
        "job": {"destination": "deploy@127.0.0.1:22", "identity": E["KEY_ED25519"],
                "known_hosts": E["KNOWN_HOSTS"], "command": "true"},
    }],
}
json.dump(base, open(E["CC"] + "/base.json", "w"), indent=2)
