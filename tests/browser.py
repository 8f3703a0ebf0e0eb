"""A real headless Chromium, driven over the Chrome DevTools Protocol (one websocket).

The system's `chromium` (Debian's package; .ci/run installs it) is started with a fresh profile
and no network services; each page is a DevTools target whose console messages, exceptions,
dialogs and network requests are recorded, so a test can say "no script ran, nothing was
requested from another host, nothing was logged". Playwright's browser download is not needed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import websocket

FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium for a test session; `page()` opens a fresh tab."""

    def __init__(self, executable: str, profile: Path, timeout: float = 30.0):
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LANG": "en_US.UTF-8"},
        )
        url = self._devtools_url()
        self.ws = websocket.create_connection(
            url, timeout=timeout, suppress_origin=True, enable_multithread=False
        )
        self._id = 0
        self.events: list[dict] = []

    def _devtools_url(self) -> str:
        deadline = time.monotonic() + self.timeout
        assert self.proc.stderr is not None  # noqa: S101
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                return m.group(1)
        self.proc.kill()
        raise BrowserError("chromium did not start:\n" + "".join(seen[-20:]))

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Sends one command and waits for its answer; events that arrive meanwhile are kept."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = self._receive()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _receive(self) -> dict:
        data = json.loads(self.ws.recv())
        if "method" in data:
            self.events.append(data)
        return data

    def wait_for(self, method: str, session: str, since: int, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for event in self.events[since:]:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {method}")
            self._receive()

    def page(self, width: int = 1100, height: int = 800) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable", session=session)
        page.resize(width, height)
        return page

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone: the process is reaped below either way
            self.send("Browser.close")
        try:
            self.ws.close()
        finally:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Page:
    """One tab. `goto` records what the page did while it loaded."""

    def __init__(self, browser: Browser, target: str, session: str):
        self.browser = browser
        self.target = target
        self.session = session
        self.start = len(browser.events)

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def resize(self, width: int, height: int, dark: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        self.send(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
        )

    def goto(self, url: str) -> None:
        self.start = len(self.browser.events)
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")
        self.browser.wait_for("Page.loadEventFired", self.session, self.start)
        self.eval("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")  # settle

    def eval(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def events(self, method: str) -> list[dict]:
        return [
            e["params"]
            for e in self.browser.events[self.start :]
            if e["method"] == method and e.get("sessionId") == self.session
        ]

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, CSP reports and dialogs since `goto`."""
        out = [
            f"console.{p['type']}: {p['args']}"
            for p in self.events("Runtime.consoleAPICalled")
            if p["type"] in ("error", "warning", "assert")
        ]
        out += [f"exception: {p['exceptionDetails']}" for p in self.events("Runtime.exceptionThrown")]
        out += [
            f"log {p['entry']['level']}: {p['entry']['text']} ({p['entry'].get('url', '')})"
            for p in self.events("Log.entryAdded")
            if p["entry"]["level"] in ("error", "warning")
        ]
        out += [f"dialog: {p['message']}" for p in self.events("Page.javascriptDialogOpening")]
        return out

    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self.events("Network.requestWillBeSent")]

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


# What a test wants to know of a loaded page, read from its live DOM.
INSPECT = """(() => {
  const all = [...document.querySelectorAll('*')];
  return {
    links: [...document.querySelectorAll('a[href], link[href], script[src], img[src], form[action]')]
      .map(e => e.href || e.src || e.action),
    scripts: [...document.scripts].map(s => s.src || 'inline: ' + s.textContent.slice(0, 60)),
    handlers: all.flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name))
      .map(a => e.tagName.toLowerCase() + ' ' + a.name)),
    images: document.images.length,
    csp: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || null,
    text: document.body.innerText,
  };
})()"""


def inspect(page: Page, url: str) -> dict:
    """Loads `url` and returns its links, scripts, event-handler attributes, CSP, text, and what
    happened while it loaded: `problems` (console, exceptions, dialogs) and `requests`."""
    page.goto(url)
    found = page.eval(INSPECT)
    found["problems"] = page.problems()
    found["requests"] = page.requests()
    return found
