"""browser.py — load a page in headless Chromium and report what a person would see, over the DevTools protocol.

Chromium is driven through --remote-debugging-pipe: the protocol's JSON messages, each ended by a NUL byte,
on file descriptors 3 (commands in) and 4 (replies and events out). That needs nothing beyond the Python
standard library (no websocket, no port, no network). Chromium runs as the tests do, as root, hence
--no-sandbox, with a fresh profile and every background service that could reach the network turned off.

load(path) returns a Page: the console errors and uncaught exceptions seen while the page loaded (CSP
violations included: Chromium reports them as console errors), values computed in the page, and a PNG
screenshot of the whole page (up to MAX_SHOT_HEIGHT pixels).
"""
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

WIDTH = 1280
MAX_SHOT_HEIGHT = 6000
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--remote-debugging-pipe"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class ProtocolError(Exception):
    pass


class Browser:
    def __init__(self, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="lastgasp-chromium-")
        cmd_r, self._cmd_w = os.pipe()  # we write commands, Chromium reads fd 3
        self._out_r, out_w = os.pipe()  # Chromium writes fd 4, we read

        def fds():  # in the child, before exec: the two pipe ends at the numbers Chromium expects
            # Through copies: a pipe end may already be fd 3 or 4, and dup2 onto itself would leave it
            # close-on-exec. os.dup2 makes the target inheritable.
            a, b = os.dup(cmd_r), os.dup(out_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=fds, close_fds=False)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("timed out waiting for Chromium")
            ready, _, _ = select.select([self._out_r], [], [], left)
            if ready:
                chunk = os.read(self._out_r, 1 << 20)
                if not chunk:
                    raise ProtocolError(f"Chromium closed the pipe (exit status {self.proc.poll()})")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        """One command; returns its result. Events that arrive meanwhile are kept in self.events."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._next_id:
                if "error" in m:
                    raise ProtocolError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, session, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method and e.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.send("Browser.close")
        except (ProtocolError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._out_r)
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def eval(self, expression):
        r = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                              self.session)
        if "exceptionDetails" in r:
            raise ProtocolError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def errors(self):
        """Console errors, uncaught exceptions and error log entries (CSP violations among them)."""
        out = []
        for e in self.browser.events:
            if e.get("sessionId") != self.session:
                continue
            p = e["params"]
            if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append("console." + p["type"] + ": " + " ".join(str(a.get("value")) for a in p["args"]))
            elif e["method"] == "Runtime.exceptionThrown":
                out.append("exception: " + p["exceptionDetails"].get("text", ""))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log ({p['entry']['source']}): {p['entry']['text']}")
        return out

    def screenshot(self, path):
        """The whole page as PNG (cut at MAX_SHOT_HEIGHT), written to path."""
        height = min(MAX_SHOT_HEIGHT, int(self.eval("document.documentElement.scrollHeight")))
        self.browser.send("Emulation.setDeviceMetricsOverride",
                          {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
                          self.session)
        shot = self.browser.send("Page.captureScreenshot", {"format": "png"}, self.session)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(shot["data"]))
        return path


def load(browser, path):
    """Open path (a local file) in a new tab and wait for its load event."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable", None, session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    nav = browser.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session)
    if nav.get("errorText"):
        raise ProtocolError(f"navigation failed: {nav['errorText']}")
    browser.wait_event("Page.loadEventFired", session)
    return Page(browser, session)
