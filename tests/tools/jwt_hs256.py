#!/usr/bin/env python3
"""jwt_hs256.py — an HS256 token minted by PyJWT (not our code).

usage: jwt_hs256.py KEYFILE [OVERRIDES-JSON]
Claims iss "ci", iat now and exp now + 300, updated with OVERRIDES; signed
with KEYFILE's bytes. Prints the token.
"""
import json
import sys
import time

import jwt

c = {"iss": "ci", "iat": int(time.time()), "exp": int(time.time()) + 300}
c.update(json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}"))
print(jwt.encode(c, open(sys.argv[1], "rb").read(), algorithm="HS256"))
