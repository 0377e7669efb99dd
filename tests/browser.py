"""A real headless Chromium driven over the DevTools protocol: load a page, collect console errors,
evaluate expressions, take a screenshot and print to PDF.

Only file:// pages are loaded, and Chromium runs with networking features off; a test that needs it is
skipped with the name of the missing tool when Chromium or `websockets` is not installed.
"""

from __future__ import annotations

import base64
import itertools
import json
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT = 180.0
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


@contextmanager
def chromium_or_skip() -> Iterator[Browser]:
    """A running Chromium for a test, or a pytest skip that names what is missing."""
    import pytest

    pytest.importorskip("websockets", reason="websockets (CDP client for the browser tests) is not installed")
    executable = find_chromium()
    if executable is None:
        pytest.fail("chromium is not installed (apt-get install chromium)")
    browser = Browser(executable)
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


class Browser:
    """One Chromium process; `open_page` gives a fresh tab each time."""

    def __init__(self, executable: str, timeout: float = 30.0) -> None:
        from websockets.sync.client import connect

        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="tlsaudit-chromium-")
        argv = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile.name}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        url = self._read_ws_url()
        self._stack = ExitStack()
        self._ws = self._stack.enter_context(
            connect(url, max_size=None, open_timeout=timeout, close_timeout=5)
        )
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    def _read_ws_url(self) -> str:
        """The DevTools address Chromium prints on stderr; a thread keeps draining stderr afterwards."""
        lines: queue.Queue[str | None] = queue.Queue()

        def drain(stream: IO[str]) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        assert self._proc.stderr is not None
        threading.Thread(target=drain, args=(self._proc.stderr,), daemon=True).start()
        deadline = time.monotonic() + self.timeout
        seen: list[str] = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                return match.group(1)
        self.close()
        raise BrowserError("Chromium did not start: " + "".join(seen[-20:]))

    def close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            with suppress(Exception):  # the browser may already be gone
                self.call("Browser.close")
            self._stack.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._profile.cleanup()

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        wait = timeout or self.timeout
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no answer to {method} within {wait} s")
            reply = json.loads(self._ws.recv(timeout=remaining))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._events.append(reply)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self._events.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no {method} within {self.timeout} s")
            self._events.append(json.loads(self._ws.recv(timeout=remaining)))

    @contextmanager
    def open_page(self, path: Path, width: int = 1280, height: int = 900) -> Iterator[Page]:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        try:
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=session)
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            self.call("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
            self.wait_event("Page.loadEventFired", session)
            yield page
        finally:
            self.call("Target.closeTarget", {"targetId": target})


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str) -> Any:
        reply = self.browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def console_errors(self) -> list[str]:
        """Errors the page logged so far: console.error, uncaught exceptions, CSP and loading errors."""
        self.evaluate("0")  # drain pending events
        errors = []
        for event in self.browser._events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(json.dumps(params.get("args")))
            elif method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params.get("exceptionDetails")))
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                errors.append(params["entry"].get("text", ""))
        return errors

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 16000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.browser.call("Page.captureScreenshot", params, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def print_pdf(self, path: Path) -> Path:
        data = self.browser.call(
            "Page.printToPDF",
            {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False},
            session=self.session,
            timeout=PRINT_TIMEOUT,  # a thousand-endpoint report takes a while on a busy 2-core machine
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path
