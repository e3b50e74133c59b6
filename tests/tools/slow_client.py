#!/usr/bin/env python3
"""slow_client.py — clients that are slow on purpose, for the slow-client tests.

usage: slow_client.py MODE HOST PORT --clients N --seconds S [--interval MS]
                     [--chunk BYTES] [--length BYTES] [--linger S] [--path P]

MODE
  headers    send a request line, then --chunk header bytes (default 1) every
             --interval ms
  body       send complete headers with Content-Length --length (100000) and a
             signature header, then --chunk body bytes every --interval ms
  idle       connect and send nothing
  keepalive  send GET /healthz, read the answer, then send nothing

Each of the N clients reconnects as soon as the server closes its connection,
until S seconds have passed; then the connections still open stop sending and
get --linger seconds (default 5) more for the server to close them. Prints one
JSON object: how many connections were made, how long each lived until the
server closed it (ms), the longest, and how many were still open at the very
end (those were never cut). Every socket is closed at the end; nothing runs
longer than S + linger + 2 seconds.
"""
import argparse
import asyncio
import json
import sys
import time


async def one_connection(args, deadline, lifetimes):
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port), timeout=2)
    except (OSError, asyncio.TimeoutError):
        await asyncio.sleep(0.05)
        return "refused"
    closed = asyncio.get_running_loop().create_future()

    async def watch():
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
        except (OSError, ConnectionError):
            pass
        if not closed.done():
            closed.set_result(time.monotonic())

    watcher = asyncio.ensure_future(watch())
    try:
        if args.mode == "headers":
            writer.write(f"POST {args.path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())
        elif args.mode == "body":
            writer.write((f"POST {args.path} HTTP/1.1\r\nHost: x\r\nContent-Length: {args.length}\r\n"
                          "x-hookdeck-signature: AAAA\r\nIdempotency-Key: slow\r\n\r\n").encode())
        elif args.mode == "keepalive":
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        dribble = args.mode in ("headers", "body")
        while not closed.done() and time.monotonic() < deadline:
            step = args.interval / 1000.0
            try:
                await asyncio.wait_for(asyncio.shield(closed), timeout=step)
            except asyncio.TimeoutError:
                pass
            if dribble and not closed.done():
                writer.write(b"a" * args.chunk)
                try:
                    await writer.drain()
                except (OSError, ConnectionError):
                    break
    except (OSError, ConnectionError):
        pass
    if not closed.done():
        try:
            await asyncio.wait_for(asyncio.shield(closed), timeout=args.linger)
        except asyncio.TimeoutError:
            pass
    result = "open"
    if closed.done():
        lifetimes.append(int((closed.result() - t0) * 1000))
        result = "closed"
    watcher.cancel()
    writer.close()
    return result


async def client(args, deadline, lifetimes, still_open):
    while time.monotonic() < deadline:
        r = await one_connection(args, deadline, lifetimes)
        if r == "open":
            still_open.append(1)
            return


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["headers", "body", "idle", "keepalive"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--interval", type=int, default=300)
    ap.add_argument("--chunk", type=int, default=1)
    ap.add_argument("--length", type=int, default=100000)
    ap.add_argument("--linger", type=float, default=5)
    ap.add_argument("--path", default="/hooks/slow")
    args = ap.parse_args()
    if args.clients > 200 or args.seconds > 120:
        sys.exit("slow_client.py: at most 200 clients for 120 s")
    if not (args.host.startswith("127.") or args.host == "::1"):
        sys.exit("slow_client.py: loopback only")
    deadline = time.monotonic() + args.seconds
    lifetimes, still_open = [], []
    await asyncio.wait_for(
        asyncio.gather(*(client(args, deadline, lifetimes, still_open)
                         for _ in range(args.clients))),
        timeout=args.seconds + args.linger + 2)
    print(json.dumps({"mode": args.mode, "connections": len(lifetimes) + len(still_open),
                      "max_ms": max(lifetimes) if lifetimes else 0,
                      "still_open": len(still_open), "lifetimes_ms": sorted(lifetimes)}))


if __name__ == "__main__":
    asyncio.run(main())
