"""The HTML report's layout in a real headless Chromium at phone, tablet and laptop widths and in print
(the CSS print media at the width of an A4 page, then a real print to PDF): the page never scrolls sideways,
no text overflows or is clipped by its box (badges included), and the numbers it shows agree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Browser, Page, chromium_or_skip
from tests.html_checks import render_html
from tests.report_samples import big_report, hostile_report, sample_report
from tlsaudit.formats import RenderOptions
from tlsaudit.report import normalized

pytest.importorskip("websockets", reason="websockets (CDP client for the browser tests) is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf (PDF checks) is not installed")
# no Chromium: the `browser` fixture fails and names the Debian package (.ci/system-deps installs it)

A4_PRINTABLE_PX = 688  # 210 mm - 2 x 14 mm margins, at 96 px per inch

# Every element whose content is wider than its box, unless the box scrolls (wide tables on a phone scroll
# inside their own box): such content is clipped or spills over its neighbours.
OVERFLOWS = """
(() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) out.push('page: ' + doc.scrollWidth + ' > ' + window.innerWidth);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || el.tagName === 'WBR' || el.tagName === 'BR') continue;
    const style = getComputedStyle(el);
    if (style.display === 'inline' || style.display === 'none') continue;
    if (['auto', 'scroll'].includes(style.overflowX)) continue;
    if (el.tagName === 'TABLE' && el.parentElement.classList.contains('table-scroll')) continue;
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      out.push(el.tagName + '.' + el.className + ': ' + el.scrollWidth + ' > ' + el.clientWidth
               + ' "' + el.innerText.slice(0, 40) + '"');
    }
    if (style.textOverflow === 'ellipsis') out.push('ellipsis: ' + el.className);
  }
  return out;
})()
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_or_skip() as instance:
        yield instance


def _ignored_report() -> dict[str, Any]:
    """The sample with its unreachable endpoint ignored (--unreachable ignore): an IGNORED badge."""
    report = sample_report()
    down = next(ep for ep in report["endpoints"] if ep["verdict"] == "error")
    theirs = [f for f in report["findings"] if f["subject"] == down["id"]]
    ignored = {
        **theirs[0],
        "rule_id": "endpoint.unreachable",
        "status": "skipped",
        "title": "Endpoint could not be reached",
        "message": f"{down['id']}: could not connect. Ignored (--unreachable ignore).",
    }
    report["findings"] = [f for f in report["findings"] if f["subject"] != down["id"]] + [ignored]
    ready = normalized(report)
    assert "skipped" in {ep["verdict"] for ep in ready["endpoints"]}
    return dict(ready)


def _reports() -> dict[str, dict[str, Any]]:
    return {
        "sample": sample_report(),
        "hostile": hostile_report(),
        "fleet": big_report(40),
        "ignored": _ignored_report(),
    }


def _check_counts(page: Page, report: dict[str, Any]) -> None:
    rows = page.evaluate("document.querySelectorAll('table.matrix tbody tr').length")
    assert rows == len(report["endpoints"])
    scope = page.evaluate("document.querySelector('.cover-facts').innerText")
    names = len({ep["host"].lower() for ep in report["endpoints"]})
    total = len(report["endpoints"])
    endpoint_word = "endpoint" if total == 1 else "endpoints"
    name_word = "host name" if names == 1 else "host names"
    assert f"{total} {endpoint_word} on {names} {name_word}" in scope
    tiles = page.evaluate(
        "Array.from(document.querySelectorAll('.tile')).map(t => t.innerText.replace(/\\s+/g, ' ').trim())"
    )
    singular = {"endpoint assessed", "endpoint failing", "client runtime", "runtime needs an upgrade"}
    singular.add("check not assessed")
    for tile in tiles:
        number, label = tile.split(" ", 1)
        assert (number == "1") == (label in singular), tile
    assert tiles[0] == f"{total} {'endpoint assessed' if total == 1 else 'endpoints assessed'}"


@pytest.mark.parametrize("width", [375, 600, 800, 1280])
@pytest.mark.parametrize("name", ["sample", "hostile", "fleet", "ignored"])
def test_no_overflow_and_no_clipping_on_screen(
    browser: Browser, tmp_path: Path, width: int, name: str
) -> None:
    report = _reports()[name]
    path = render_html(report, tmp_path / f"{name}.html", RenderOptions())
    with browser.open_page(path, width=width) as page:
        assert page.console_errors() == []
        assert page.evaluate(OVERFLOWS) == []
        _check_counts(page, report)


@pytest.mark.parametrize("name", ["sample", "fleet", "ignored"])
def test_no_overflow_and_no_clipping_in_print(browser: Browser, tmp_path: Path, name: str) -> None:
    report = _reports()[name]
    path = render_html(report, tmp_path / f"{name}.html", RenderOptions())
    with browser.open_page(path, width=A4_PRINTABLE_PX) as page:
        page.browser.call("Emulation.setEmulatedMedia", {"media": "print"}, session=page.session)
        assert page.evaluate("matchMedia('print').matches") is True
        assert page.evaluate(OVERFLOWS) == []
        badges = page.evaluate(
            """Array.from(document.querySelectorAll('.matrix .badge')).filter(b => {
                 const cell = b.closest('td').getBoundingClientRect(), box = b.getBoundingClientRect();
                 return box.left < cell.left - 0.5 || box.right > cell.right + 0.5;
               }).length"""
        )
        assert badges == 0
        pdf = page.print_pdf(tmp_path / f"{name}.pdf")
    text = "\n".join((p.extract_text() or "") for p in pypdf.PdfReader(str(pdf)).pages[:6])
    verdicts = {ep["verdict"] for ep in report["endpoints"]}
    if "error" in verdicts:
        assert re.search(r"NOT\s+ASSESSED", text)  # the badge's words survive whole in the PDF
    if "skipped" in verdicts:
        assert "IGNORED" in text
