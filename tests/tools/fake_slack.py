#!/usr/bin/env python3
"""fake_slack.py PORTFILE LOG TOKEN — a stand-in for Slack's Web API and its
response_url endpoints on 127.0.0.1, for tests/e2e/runner_slack.sh.

Listens on a free loopback port (written to PORTFILE once listening) and
answers, under /api/:
  chat.postMessage  {"ok":true,"channel":…,"ts":"<n>.000100"}  (a new ts each)
  chat.update       {"ok":true,"channel":…,"ts":…}   (ts must be one it posted)
  views.open        {"ok":true,"view":{"id":"V…"}}
  usergroups.users.list ?usergroup=S…  {"ok":true,"users":[…]} (groups set below)
and POST /response/<anything> (a response_url: no token, JSON).

It checks what Slack checks and answers as Slack does:
  - "Authorization: Bearer TOKEN" on every /api/ call: else ok:false
    not_authed / invalid_auth;
  - POST bodies: Content-Type "application/json; charset=utf-8" and valid
    JSON: else HTTP 400 ok:false invalid_content_type / invalid_json;
  - the Block Kit limits it knows: at most 50 blocks (100 in a modal),
    section text 3000, header 150, ten section fields of 2000, button text
    75 and value 2000, action_id 255, message text 40000, modal title 24
    and private_metadata 3000: else ok:false invalid_blocks.
Every call is appended to LOG as one JSON line: {"t", "path", "method",
"auth", "content_type", "body", "status", "answer"}.

Control (POST /control, JSON, no token):
  {"fault": {"method": M, "kind": "429"|"500"|"error"|"hang", "count": N,
             "retry_after": S, "error": "channel_not_found", "seconds": S}}
      the next N calls of M (N = -1: all until cleared) fail that way
      (hang: sleep S seconds, then answer normally);
  {"clear": true}  drop every fault;
  {"groups": {"S1": ["U1", "U2"]}}  set group members.
GET /control answers {"calls": n}. Exits after 600 s without a request.
"""
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logpath, token = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()
state = {"faults": [], "groups": {}, "ts": 0, "posted": set(), "calls": 0,
         "last": time.monotonic()}
JSON_CT = "application/json; charset=utf-8"


def text_len(t):
    return len(t.get("text", "")) if isinstance(t, dict) else 0


def blocks_ok(blocks, limit):
    """None when BLOCKS fit Block Kit's limits, else why."""
    if not isinstance(blocks, list) or len(blocks) > limit:
        return "too many blocks"
    for b in blocks:
        kind = b.get("type")
        if kind == "section":
            if "text" in b and not 1 <= text_len(b["text"]) <= 3000:
                return "section text length"
            fields = b.get("fields", [])
            if len(fields) > 10 or any(text_len(f) > 2000 for f in fields):
                return "section fields"
            if "text" not in b and not fields:
                return "empty section"
        elif kind == "header":
            if not 1 <= text_len(b.get("text")) <= 150:
                return "header text length"
        elif kind == "actions":
            els = b.get("elements", [])
            if not 1 <= len(els) <= 25:
                return "actions elements"
            for e in els:
                if len(e.get("action_id", "")) > 255 or len(e.get("value", "")) > 2000:
                    return "button action_id/value"
                if text_len(e.get("text")) > 75:
                    return "button text"
        elif kind in ("context", "divider", "input"):
            pass
        else:
            return "unknown block type %r" % kind
    return None


def take_fault(method):
    with lock:
        for f in state["faults"]:
            if f.get("method") == method and f.get("count", 1) != 0:
                if f.get("count", 1) > 0:
                    f["count"] = f.get("count", 1) - 1
                return dict(f)
    return None


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, obj, headers=()):
        """An answer to send (by finish), after the call is recorded."""
        return status, obj, tuple(headers)

    def send(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def done(self, method, body, ans):
        """Record the call, then answer it: a client that has its answer
        finds its call in the log."""
        self.record(method, body, ans[0], ans[1])
        self.send(*ans)

    def record(self, method, body, status, answer):
        line = {"t": time.time(), "path": self.path, "method": method,
                "auth": self.headers.get("Authorization", "") == "Bearer " + token,
                "content_type": self.headers.get("Content-Type", ""),
                "body": body, "status": status, "answer": answer}
        with lock:
            state["calls"] += 1
            with open(logpath, "a") as f:
                f.write(json.dumps(line) + "\n")

    def do_GET(self):
        self.handle_any(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(n) if n else b"")

    def handle_any(self, raw):
        state["last"] = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/control":
            return self.control(raw)
        body = None
        if self.command == "POST":
            ct = self.headers.get("Content-Type", "")
            if ct != JSON_CT:
                return self.done(url.path, raw.decode("utf-8", "replace"),
                                   self.answer(400, {"ok": False, "error": "invalid_content_type"}))
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return self.done(url.path, raw.decode("utf-8", "replace"),
                                   self.answer(400, {"ok": False, "error": "invalid_json"}))
        if url.path.startswith("/response/"):
            return self.done("response_url", body, self.answer(200, {"ok": True}))
        if not url.path.startswith("/api/"):
            return self.done(url.path, body, self.answer(404, {"ok": False, "error": "unknown_method"}))
        method = url.path[5:]
        if method == "usergroups.users.list" and body is None:
            body = dict(urllib.parse.parse_qsl(url.query))
        fault = take_fault(method)
        if fault and fault["kind"] == "hang":
            time.sleep(float(fault.get("seconds", 30)))
        self.done(method, body, self.api(method, body or {}, fault))

    def api(self, method, body, fault):
        auth = self.headers.get("Authorization")
        if not auth:
            return self.answer(200, {"ok": False, "error": "not_authed"})
        if auth != "Bearer " + token:
            return self.answer(200, {"ok": False, "error": "invalid_auth"})
        if fault and fault["kind"] == "429":
            ra = str(int(fault.get("retry_after", 1)))
            return self.answer(429, {"ok": False, "error": "ratelimited"}, [("Retry-After", ra)])
        if fault and fault["kind"] == "500":
            return self.answer(500, {"ok": False, "error": "internal_error"})
        if fault and fault["kind"] == "error":
            return self.answer(200, {"ok": False, "error": fault.get("error", "fatal_error")})
        if method in ("chat.postMessage", "chat.update"):
            if not body.get("channel"):
                return self.answer(200, {"ok": False, "error": "channel_not_found"})
            if len(body.get("text", "")) > 40000:
                return self.answer(200, {"ok": False, "error": "msg_too_long"})
            why = blocks_ok(body.get("blocks", []), 50)
            if why:
                return self.answer(200, {"ok": False, "error": "invalid_blocks", "why": why})
            if method == "chat.update":
                with lock:
                    known = (body.get("channel"), body.get("ts")) in state["posted"]
                if not known:
                    return self.answer(200, {"ok": False, "error": "message_not_found"})
                return self.answer(200, {"ok": True, "channel": body["channel"], "ts": body["ts"]})
            with lock:
                state["ts"] += 1
                ts = "%d.000100" % (1700000000 + state["ts"])
                if not body.get("thread_ts"):
                    state["posted"].add((body["channel"], ts))
            return self.answer(200, {"ok": True, "channel": body["channel"], "ts": ts})
        if method == "views.open":
            view = body.get("view") or {}
            if not body.get("trigger_id"):
                return self.answer(200, {"ok": False, "error": "invalid_trigger_id"})
            title = view.get("title") or {}
            if (view.get("type") != "modal" or not 1 <= text_len(title) <= 24 or
                    len(view.get("private_metadata", "")) > 3000 or
                    blocks_ok(view.get("blocks", []), 100)):
                return self.answer(200, {"ok": False, "error": "invalid_arguments"})
            return self.answer(200, {"ok": True, "view": {"id": "V%d" % state["calls"]}})
        if method == "usergroups.users.list":
            g = body.get("usergroup", "")
            with lock:
                users = state["groups"].get(g)
            if users is None:
                return self.answer(200, {"ok": False, "error": "no_such_subteam"})
            return self.answer(200, {"ok": True, "users": users})
        return self.answer(200, {"ok": False, "error": "unknown_method"})

    def control(self, raw):
        if self.command == "GET":
            with lock:
                n = state["calls"]
            return self.send(200, {"calls": n})
        c = json.loads(raw or b"{}")
        with lock:
            if c.get("clear"):
                state["faults"] = []
            if "fault" in c:
                state["faults"].append(c["fault"])
            if "groups" in c:
                state["groups"].update(c["groups"])
        self.send(200, {"ok": True})


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)


def idle():
    while time.monotonic() - state["last"] < 600:
        time.sleep(5)
    srv.shutdown()


threading.Thread(target=idle, daemon=True).start()
srv.serve_forever()
