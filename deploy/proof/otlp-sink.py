"""Proof-only stand-in for Jaeger's OTLP receiver (scripts/compose-proof.sh): accepts OTLP/HTTP
exports on 4318 (POST /v1/traces, answered with an empty ExportTraceServiceResponse), answers
Jaeger's admin health check on 14269, and on 16686 serves GET /stats: how many exports and
bytes came from each shop process (found by its service.name in the protobuf). Not Jaeger: it
stores nothing and has no UI; it shows that the four processes export their traces to the
address docker-compose.yml gives them."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICES = ("admin-api", "admin-consumer", "main-api", "main-consumer")
stats = {"exports": 0, "bytes": 0, "by_service": {s: 0 for s in SERVICES}}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.server_address[1] != 4318 or self.path != "/v1/traces":
            return self.answer(404)
        with lock:
            stats["exports"] += 1
            stats["bytes"] += len(body)
            for s in SERVICES:
                if s.encode() in body:
                    stats["by_service"][s] += 1
        self.answer(200, b"", "application/x-protobuf")

    def do_GET(self):
        port = self.server.server_address[1]
        if port == 14269 and self.path == "/":
            return self.answer(200, b'{"status":"Server available"}')
        if port == 16686 and self.path == "/stats":
            with lock:
                return self.answer(200, json.dumps(stats).encode())
        self.answer(404)


servers = [ThreadingHTTPServer(("0.0.0.0", p), Handler) for p in (4318, 14269, 16686)]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
