"""`capture --http`: the page a browser gets back, showing what that browser offered on this connection.

Everything the client sent is escaped: a hostile hello cannot put markup into the page.
"""

from __future__ import annotations

import html

from tlsaudit.capture.listener import Capture
from tlsaudit.capture.probe import capture_to_facts
from tlsaudit.models import CaptureFacts

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem}"
    "td,th{text-align:left;padding:.2rem .6rem;vertical-align:top}"
    "code{overflow-wrap:anywhere}"
)


def _row(label: str, values: tuple[str, ...] | str | None) -> str:
    if isinstance(values, tuple):
        shown = "<br>".join(f"<code>{html.escape(v)}</code>" for v in values) or "none"
    else:
        shown = html.escape(values) if values else "none"
    return f"<tr><th>{html.escape(label)}</th><td>{shown}</td></tr>"


def offer_page(facts: CaptureFacts) -> str:
    """A self-contained HTML page describing one client's offer."""
    from tlsaudit.capture.serve import verdict

    rows = "".join(
        (
            _row("Negotiated", f"{facts.negotiated_version or '-'} {facts.negotiated_cipher or ''}".strip()),
            _row("Versions offered", facts.versions_offered),
            _row("TLS 1.2-only server", verdict(facts)),
            _row("Server name (SNI)", facts.sni),
            _row("Groups", facts.groups),
            _row("Cipher suites", facts.cipher_suites),
            _row("Weak suites", facts.weak_suites),
            _row("Signature algorithms", facts.signature_algorithms),
            _row("ALPN", facts.alpn),
            _row("Extensions", facts.extensions),
        )
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>tlsaudit: what your client offered</title><style>{_STYLE}</style></head><body>"
        "<h1>What your client offered</h1>"
        f'<table id="offer">{rows}</table>'
        f'<details><summary>ClientHello (hex)</summary><code id="hello">{html.escape(facts.raw_hello)}</code>'
        "</details></body></html>"
    )


def http_page(capture: Capture) -> bytes:
    """The full HTTP response for `capture --http`."""
    body = offer_page(capture_to_facts(capture, client=capture.peer)).encode("utf-8")
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body
