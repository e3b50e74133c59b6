#!/usr/bin/env python3
"""jwt_raw.py — a hand-built JWT, for what PyJWT refuses to mint.

usage: jwt_raw.py HEADER-JSON PAYLOAD-JSON ALG KEYFILE
The JSON texts are used byte for byte (so duplicate names survive); ALG is
none (empty signature), HS256 or HS512 (HMAC with KEYFILE's bytes). Prints
the token.
"""
import base64, hashlib, hmac, sys
b = lambda s: base64.urlsafe_b64encode(s).rstrip(b"=").decode()
h, p, alg, kf = sys.argv[1:5]
msg = b(h.encode()) + "." + b(p.encode())
sig = ""
if alg != "none":
    d = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    sig = b(hmac.new(open(kf, "rb").read(), msg.encode(), d).digest())
print(msg + "." + sig)
