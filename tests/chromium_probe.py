"""Open a page in headless Chromium and say what it did: the DOM after its scripts ran (or did
not), and every request that reached a local canary server.

For the tests that a page made from hostile input is inert: payloads point at
:attr:`Canary.url` (``http://127.0.0.1:PORT/<name>``) and try to set ``document.title``; a
page is inert when :meth:`Canary.hits` stays empty and the title is unchanged. A control
payload (:func:`live_control`) shows the probe can see a script that does run.
"""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-dev-shm-usage",
         # nothing leaves this machine, whatever a page asks for (the canary is local)
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


def chromium() -> str | None:
    """The Chromium on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    return None


class Canary:
    """A local http.server that records the path of every request (any method)."""

    def __init__(self) -> None:
        self._hits: list[str] = []
        lock = threading.Lock()
        hits = self._hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self) -> None:
                with lock:
                    hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = _record

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def hits(self) -> list[str]:
        return sorted(set(self._hits))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def dump_dom(page: Path, browser: str, budget_ms: int = 5000) -> str:
    """The page's DOM after ``budget_ms`` of virtual time (timers, refreshes, loads run)."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
             "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), f"Chromium printed no DOM: {proc.stderr[-2000:]}"
    return proc.stdout


def title(dom: str) -> str:
    found = re.search(r"<title>(.*?)</title>", dom, re.S)
    return found.group(1).strip() if found else ""


def live_control(canary: Canary, name: str = "control") -> str:
    """A payload that does run when put in a page as is: the probe must see it."""
    return (f"<img src=x onerror=\"document.title='PWNED';fetch('{canary.url}/{name}')\">")
