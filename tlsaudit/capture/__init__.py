"""Capture: what clients really offer, seen by a loopback listener.

Public entry points:
- `probe_runtimes(runtimes, timeout)` runs every runtime's default HTTPS clients (`runtimes --probe`);
- `run_capture_server(host, port, on_capture, ...)` / `serve_capture(...)` serve `tlsaudit capture`.
"""

from tlsaudit.capture.probe import probe_runtimes, probe_runtimes_async
from tlsaudit.capture.serve import format_line, run_capture_server, serve_capture

__all__ = ["format_line", "probe_runtimes", "probe_runtimes_async", "run_capture_server", "serve_capture"]
