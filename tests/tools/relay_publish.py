#!/usr/bin/env python3
"""relay_publish.py — publish N webhooks to a webhook-relay serve and write
what the target must receive for each, one JSON line per webhook, to
EXPECTED:
  {"seq":i, "id":relay id, "method":"POST", "path":..., "query":...,
   "headers":[[name, value], ...] (what the target must see, in order,
   without Host and Content-Length), "sha256":..., "len":...}
Bodies rotate through random binary bytes (every byte value, NUL and CR/LF
included; webhook 0 is 10,000 of them), bytes that are not UTF-8, form bodies, JSON, and empty; headers
include repeats (X-Rep three times, with different case), headers the relay
client must drop (Connection-listed X-Hop, Keep-Alive), an empty value, and
values with bytes that are not UTF-8 (X-Latin1) and that are (X-Utf8; http.client
sends a str header as Latin-1, so both are written byte by byte). Every request has
X-Seq: i. The request line and headers are written by hand on one
keep-alive connection (http.client adds nothing we did not ask for).
A 503 (the relay's store is away) is retried after a second, up to 30
times, on a new connection.
Usage: relay_publish.py HOST:PORT CHANNEL FIRST COUNT EXPECTED [SEED]
Exit 0 when every publish was answered 202 with an id.
"""
import hashlib
import http.client
import json
import random
import sys
import time

hostport, channel, first, count, expected = sys.argv[1:6]
rnd = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
first, count = int(first), int(count)
host, port = hostport.rsplit(":", 1)


def body_for(i):
    if i == 0:
        # Webhook 0 is big (10,000 bytes): for a client's size bound.
        return bytes(rnd.getrandbits(8) for _ in range(10000)), "application/octet-stream"
    k = i % 5
    if k == 0:
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000))), "application/octet-stream"
    if k == 1:
        # Latin-1 and lone continuation bytes, CR LF and NUL: not UTF-8.
        return b"caf\xe9 \x80\xff\xfe\r\n\x00end" + bytes([rnd.randint(128, 255)] * 7), "text/plain; charset=iso-8859-1"
    if k == 2:
        return ("a=%d&b=%%41%%42&c=x+y&d=%%E9&e=" % i).encode(), "application/x-www-form-urlencoded"
    if k == 3:
        return json.dumps({"seq": i, "s": "\u00e9\u4e2d"}).encode(), None
    return b"", None


def main():
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    bad = 0
    with open(expected, "a") as out:
        for i in range(first, first + count):
            body, ctype = body_for(i)
            path = "/hooks/h%d/x%s" % (i % 7, "%2Fenc/../dot" if i % 4 == 1 else "")
            query = "" if i % 3 == 0 else "i=%d&q=a%%20b&r=%%2F" % i
            sent = []
            if ctype:
                sent.append(("Content-Type", ctype))
            sent += [("X-Seq", str(i)), ("X-Rep", "one"), ("x-rep", "two"),
                     ("Connection", "keep-alive, X-Hop"), ("X-Hop", "dropped"),
                     ("Keep-Alive", "timeout=5"), ("X-Empty", ""), ("X-Rep", "three"),
                     ("X-Latin1", "caf\xe9 \xff\x80"), ("X-Utf8", "caf\xc3\xa9")]
            target = "/webhooks/%s%s%s" % (channel, path, "?" + query if query else "")
            for attempt in range(31):
                try:
                    conn.putrequest("POST", target, skip_host=True, skip_accept_encoding=True)
                    conn.putheader("Host", hostport)
                    for k, v in sent:
                        conn.putheader(k, v)
                    conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body)
                    r = conn.getresponse()
                    status, ans = r.status, r.read()
                except (OSError, http.client.HTTPException) as e:
                    status, ans = 0, str(e).encode()
                if status not in (0, 503) or attempt == 30:
                    break
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                time.sleep(1)
            if status != 202:
                bad += 1
                print("publish %d: %d %r" % (i, status, ans[:200]), file=sys.stderr)
                continue
            rid = json.loads(ans)["id"]
            keep = [[k, v] for k, v in sent
                    if k.lower() not in ("connection", "keep-alive", "x-hop")]
            out.write(json.dumps({"seq": i, "id": rid, "method": "POST", "path": path,
                                  "query": query, "headers": keep,
                                  "sha256": hashlib.sha256(body).hexdigest(),
                                  "len": len(body)}) + "\n")
    conn.close()
    return 1 if bad else 0


sys.exit(main())
