#!/usr/bin/env python3
"""bench/evcompare.py PUB_OUT SINK_OUT — what the target got against what
bench/evload.c published, for bench/relay.sh.

PUB_OUT lines: SEQ STATUS SENT_NS DONE_NS LEN SHA256 (evload); SINK_OUT
lines: SEQ SENT_NS RECV_NS LEN SHA256 (bench/evsink.c). Only sink records
whose SEQ is in PUB_OUT count (other runs share the sink). Prints one line
of shell assignments:
  published=N (answered 2xx) received=N (distinct SEQ) identical=N (length
  and SHA-256 equal to what was sent) mismatched=N lost=N (published, never
  received) duplicates=N (records past the first per SEQ) unpublished=N
  (received without a 2xx publish answer: a publish that failed after the
  relay stored it) p50_ms=… p99_ms=… max_ms=… (receipt minus X-Sent-Ns, over
  the identical ones) eps=… (identical events / (last receipt - first
  publish)) identical_pct=… (identical / published, in percent)
"""
import math
import sys


def main():
    pub = {}
    with open(sys.argv[1]) as f:
        for line in f:
            p = line.split()
            if len(p) != 6:
                continue
            pub[int(p[0])] = (int(p[1]), int(p[2]), int(p[4]), p[5])
    seen = {}
    dups = 0
    try:
        f = open(sys.argv[2])
    except FileNotFoundError:
        f = []
    for line in f:
        p = line.split()
        if len(p) != 5:
            continue
        seq = int(p[0])
        if seq not in pub:
            continue
        if seq in seen:
            dups += 1
            continue
        seen[seq] = (int(p[1]), int(p[2]), int(p[3]), p[4])
    published = [s for s, v in pub.items() if 200 <= v[0] <= 299]
    identical = mismatched = lost = 0
    lat = []
    first_sent = None
    last_recv = None
    for s in published:
        st, sent, ln, sha = pub[s]
        if first_sent is None or sent < first_sent:
            first_sent = sent
        if s not in seen:
            lost += 1
            continue
        hsent, recv, rlen, rsha = seen[s]
        if rlen == ln and rsha == sha and hsent == sent:
            identical += 1
            lat.append((recv - sent) / 1e6)
            if last_recv is None or recv > last_recv:
                last_recv = recv
        else:
            mismatched += 1
    unpublished = sum(1 for s in seen if not 200 <= pub[s][0] <= 299)
    lat.sort()

    def pct(q):
        if not lat:
            return 0.0
        return lat[max(0, math.ceil(q / 100.0 * len(lat)) - 1)]

    span = (last_recv - first_sent) / 1e9 if lat else 0
    eps = identical / span if span > 0 else 0
    print("published=%d received=%d identical=%d mismatched=%d lost=%d duplicates=%d "
          "unpublished=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.1f eps=%.0f identical_pct=%.2f" % (
              len(published), len(seen), identical, mismatched, lost, dups, unpublished,
              pct(50), pct(99), pct(100), eps,
              100.0 * identical / len(published) if published else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
