#!/usr/bin/env python3
"""probe_peers.py — two peers for the TLS client-side probes.

usage: probe_peers.py PORTS_FILE
A plain HTTP server (answers every GET with 200 "plain") and a socket that
accepts but never speaks; writes "HTTP_PORT MUTE_PORT" to PORTS_FILE and
runs until killed.
"""
import http.server, socket, sys, threading, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"plain\n")
    def log_message(self, *a): pass
h = http.server.HTTPServer(("127.0.0.1", 0), H)
mute = socket.socket(); mute.bind(("127.0.0.1", 0)); mute.listen(8)
open(sys.argv[1], "w").write("%d %d\n" % (h.server_address[1], mute.getsockname()[1]))
threading.Thread(target=h.serve_forever, daemon=True).start()
time.sleep(30)
