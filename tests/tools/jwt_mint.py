#!/usr/bin/env python3
"""jwt_mint.py — a JWT with the policy's claims, minted by PyJWT (not our code).

usage: jwt_mint.py ALG KEYFILE [OVERRIDES-JSON]
Claims iss/aud/sub from the environment (ISS AUD SUB), team "platform",
iat now and exp now + 300, then OVERRIDES: a value of null removes a claim,
"@now+N" is a time relative to now. Prints the token.
"""
import json, os, sys, time, jwt
alg, keyfile = sys.argv[1], sys.argv[2]
over = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
now = int(time.time())
c = {"iss": os.environ["ISS"], "aud": os.environ["AUD"], "sub": os.environ["SUB"],
     "team": "platform", "iat": now, "exp": now + 300}
for k, v in over.items():
    if v is None:
        c.pop(k, None)
    elif isinstance(v, str) and v.startswith("@now"):
        c[k] = now + int(v[4:] or 0)
    else:
        c[k] = v
print(jwt.encode(c, open(keyfile, "rb").read(), algorithm=alg))
