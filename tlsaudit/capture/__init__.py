"""Capture: what clients really offer, seen by a loopback listener.

A version table says what a runtime should do; the handshake shows what it does with every setting that
applies (java.security, JAVA_TOOL_OPTIONS, openssl.cnf, .curlrc, the TLS library really loaded).

Entry points:
- `probe_runtimes(runtimes, timeout)` (`tlsaudit runtimes --probe`, `audit --probe`): run each runtime's
  default HTTPS clients against a listener of their own and return one `CaptureFacts` per connection;
- `run_capture_server(host, port, on_capture, ...)` / `serve_capture(...)` (`tlsaudit capture`): a standalone
  listener that reports each client that connects, until stopped (Ctrl-C).
"""

from tlsaudit.capture.probe import probe_runtimes, probe_runtimes_async
from tlsaudit.capture.serve import format_line, run_capture_server, serve_capture

__all__ = ["format_line", "probe_runtimes", "probe_runtimes_async", "run_capture_server", "serve_capture"]
