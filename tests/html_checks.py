"""Checks that a rendered HTML report is inert and whole, in a real Chromium.

`assert_report_html_inert(report, browser, workdir)` is meant for any test that holds a report dict built
from attacker-controlled input (e.g. a certificate served by a loopback server): it renders the HTML, loads
it once as shipped and once with its Content-Security-Policy removed (so that escaping alone is proven), and
asserts that no script ran, no event handler exists and the hostile text is shown as text.

    with chromium_or_skip() as browser:
        assert_report_html_inert(report, browser, tmp_path, expected_text=XSS_COMMON_NAME)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser import Browser, PageResult
from tlsaudit.formats import RenderOptions, render

# A payload that manages to run sets one of these; the tests assert none is set.
PWNED_PROBE = "document.title === 'pwned' || typeof window.__pwned !== 'undefined'"
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


def render_html(report: dict[str, Any], path: Path, options: RenderOptions | None = None) -> Path:
    path.write_text(render(report, "html", options or RenderOptions()), encoding="utf-8")
    return path


def assert_report_html_inert(
    report: dict[str, Any], browser: Browser, workdir: Path, expected_text: str | None = None
) -> PageResult:
    """Load the report's HTML (with and without CSP) and assert nothing executes. Returns console errors."""
    shipped = render_html(report, workdir / "inert.html")
    bare = workdir / "inert-no-csp.html"
    html, count = _CSP.subn("", shipped.read_text(encoding="utf-8"))
    assert count == 1, "the report must carry exactly one Content-Security-Policy"
    bare.write_text(html, encoding="utf-8")
    result = PageResult()
    for path in (shipped, bare):
        with browser.open_page(path) as page:
            result.console_errors += page.console_errors()
            assert page.evaluate(PWNED_PROBE) is False, f"a payload ran in {path.name}"
            assert page.evaluate("document.scripts.length") == 0
            handlers = page.evaluate(
                "Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes))"
                ".filter(a => a.name.startsWith('on')).map(a => a.name)"
            )
            assert handlers == []
            assert page.evaluate("document.querySelectorAll('iframe, object, embed, base, form').length") == 0
            if expected_text is not None:
                assert expected_text in page.evaluate("document.body.innerText")
    assert result.console_errors == [], result.console_errors
    return result
