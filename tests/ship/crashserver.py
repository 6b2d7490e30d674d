"""crashserver.py — a minimal Breakpad-protocol collector on 127.0.0.1 for the tests that need to see the
wire or to make a server fail on purpose: it records every request (path, query, headers, the multipart
fields and files, or the items of a Sentry envelope, gunzipped when the body says Content-Encoding: gzip)
and answers from a script of responses (status, headers, body, or hang: accept and never answer), then with
200 {"id": N}.
"""
import gzip
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_multipart(body, ctype):
    """{'fields': {name: str}, 'files': {name: (filename, content_type, bytes)}}; strict about the framing
    (a broken body is an assertion error, so the test sees it)."""
    assert ctype.startswith("multipart/form-data; boundary="), ctype
    boundary = ctype.split("boundary=", 1)[1].encode()
    assert body.endswith(b"--" + boundary + b"--\r\n"), "body does not end with the closing boundary"
    fields, files = {}, {}
    parts = body.split(b"--" + boundary)
    assert parts[0] == b"" and parts[-1] == b"--\r\n", "text outside the parts"
    for part in parts[1:-1]:
        assert part.startswith(b"\r\n") and part.endswith(b"\r\n")
        head, _, content = part[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        disp = headers["Content-Disposition"]
        assert disp.startswith("form-data; name=\"")
        params = {}
        for item in disp.split("; ")[1:]:
            k, v = item.split("=", 1)
            params[k] = v.strip('"')
        if "filename" in params:
            files[params["name"]] = (params["filename"], headers.get("Content-Type"), content)
        else:
            assert params["name"] not in fields, f"field {params['name']} sent twice"
            fields[params["name"]] = content.decode()
    return {"fields": fields, "files": files}


def parse_envelope(body):
    """{'envelope': {'headers': {...}, 'items': [(item_headers, bytes)]}}; strict about the framing: every item
    has an explicit length and ends with a newline (develop.sentry.dev/sdk/data-model/envelopes)."""
    line, _, rest = body.partition(b"\n")
    headers = json.loads(line)
    items = []
    while rest:
        line, _, rest = rest.partition(b"\n")
        h = json.loads(line)
        n = h["length"]
        assert len(rest) >= n + 1 and rest[n:n + 1] == b"\n", "item shorter than its length, or no newline"
        items.append((h, rest[:n]))
        rest = rest[n + 1:]
    return {"envelope": {"headers": headers, "items": items}, "fields": {}, "files": {}}


class CrashServer:
    def __init__(self):
        self.requests = []
        self.script = []          # responses to give, in order; then 200
        self.lock = threading.Lock()
        self.hang = threading.Event()  # set to release hung requests
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(n)
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                url = urllib.parse.urlsplit(self.path)
                rec = {"path": url.path, "query": urllib.parse.parse_qs(url.query), "headers": dict(self.headers),
                       "raw_len": len(raw), "time": time.monotonic()}
                if self.headers["Content-Type"] == "application/x-sentry-envelope":
                    rec.update(parse_envelope(body))
                else:
                    rec.update(parse_multipart(body, self.headers["Content-Type"]))
                with server.lock:
                    server.requests.append(rec)
                    step = server.script.pop(0) if server.script else None
                    number = len(server.requests)
                if step == "hang":
                    server.hang.wait(60)
                    return
                status, headers, text = step or (200, {}, json.dumps({"id": f"event{number}"}))
                data = text.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.hang.set()
        self.httpd.shutdown()
        self.httpd.server_close()
