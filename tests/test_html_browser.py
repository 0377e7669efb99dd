"""The HTML report in a real headless Chromium: no console errors, sections present, nothing executes,
a clean print to PDF, and a layout that holds from one endpoint to a thousand."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_or_skip
from tests.html_checks import PWNED_PROBE, assert_report_html_inert, render_html
from tests.report_samples import HOSTILE_SUBJECT, big_report, hostile_report, sample_report
from tlsaudit.formats import RenderOptions

pytest.importorskip("websockets", reason="websockets (CDP client for the browser tests) is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf (PDF checks) is not installed")

# no Chromium: the `browser` fixture fails and names the Debian package (.ci/system-deps installs it)

SECTIONS = ("#cover", "#summary", "#endpoints", "#runtimes", "#findings", "#evidence")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_or_skip() as instance:
        yield instance


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _pdf_pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(str(path))
    return [page.extract_text() or "" for page in reader.pages]


def test_report_loads_cleanly_with_every_section(browser: Browser, tmp_path: Path) -> None:
    report = sample_report()
    path = render_html(report, tmp_path / "report.html", RenderOptions(assessor="C. Consultant"))
    with browser.open_page(path) as page:
        assert page.console_errors() == []
        for selector in SECTIONS:
            assert page.evaluate(f"document.querySelector('{selector}') !== null"), selector
        assert page.evaluate("document.querySelectorAll('table.matrix tbody tr').length") == len(
            report["endpoints"]
        )
        cells = page.evaluate(
            "Array.from(document.querySelectorAll('table.matrix td.cell')).map(c => c.innerText)"
        )
        assert set(cells) <= {"accepted", "rejected", "unknown"} and len(cells) == 6 * len(
            report["endpoints"]
        )
        assert "Not compliant" in page.evaluate("document.querySelector('.cover-verdict').innerText")
        assert page.evaluate("document.querySelector('svg.chart') !== null")
        assert "C. Consultant" in page.evaluate("document.querySelector('#cover').innerText")
        # nothing outside the page: no horizontal scrolling at a laptop width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot = page.screenshot(tmp_path / "report.png")
    width, height = _png_size(shot)
    assert width == 1280 and height > 2000


def test_hostile_subjects_execute_nothing(browser: Browser, tmp_path: Path) -> None:
    assert_report_html_inert(
        hostile_report(), browser, tmp_path, expected_text="<script>document.title='pwned'"
    )
    assert "<script>" in HOSTILE_SUBJECT


def test_svg_logo_with_script_stays_inert(browser: Browser, tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" onload="window.__pwned=7">'
        '<script>window.__pwned=8;document.title="pwned"</script>'
        '<rect width="120" height="40" fill="#1f3a5f"/></svg>'
    )
    path = render_html(sample_report(), tmp_path / "logo.html", RenderOptions(logo=logo))
    with browser.open_page(path) as page:
        assert page.evaluate("document.querySelector('img.logo').naturalWidth") == 120
        assert page.evaluate(PWNED_PROBE) is False
        assert page.console_errors() == []


def test_print_to_pdf_gives_a_cover_then_the_sections(browser: Browser, tmp_path: Path) -> None:
    path = render_html(sample_report(), tmp_path / "print.html")
    with browser.open_page(path) as page:
        pdf = page.print_pdf(tmp_path / "report.pdf")
    pages = _pdf_pages(pdf)
    assert len(pages) >= 4
    cover = pages[0]
    assert "TLS readiness review" in cover and "Example Corp" in cover and "Not compliant" in cover
    assert "Executive summary" not in cover
    rest = "\n".join(pages[1:])
    for heading in (
        "Executive summary",
        "Endpoints and protocol versions",
        "Client runtimes",
        "Findings and remediation",
        "Appendix: evidence",
    ):
        assert heading in rest, heading
    assert "Executive summary" in pages[1]
    box = pypdf.PdfReader(str(pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


def test_layout_holds_for_one_endpoint(browser: Browser, tmp_path: Path) -> None:
    report = big_report(1)
    path = render_html(report, tmp_path / "one.html")
    with browser.open_page(path, width=820) as page:
        assert page.console_errors() == []
        assert page.evaluate("document.querySelectorAll('table.matrix tbody tr').length") == 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("document.querySelector('#runtimes')") is None  # no empty sections


@pytest.mark.timeout(400)  # rendering and printing 1000 endpoints on a busy machine
def test_layout_holds_for_a_thousand_endpoints(browser: Browser, tmp_path: Path) -> None:
    report = big_report(1000)
    path = render_html(report, tmp_path / "thousand.html")
    assert path.stat().st_size < 3_000_000
    with browser.open_page(path) as page:
        assert page.console_errors() == []
        assert page.evaluate("document.querySelectorAll('table.matrix tbody tr').length") == 1000
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # the summary stays a summary: the main-issues table lists rules, not endpoints
        assert page.evaluate("document.querySelectorAll('table.issues tbody tr').length") <= 8
        pdf = page.print_pdf(tmp_path / "thousand.pdf")
    reader = pypdf.PdfReader(str(pdf))
    assert 20 < len(reader.pages) < 200
    first = reader.pages[0].extract_text() or ""
    assert "Estate-wide TLS review" in first and "Executive summary" not in first
    # the matrix spans pages and its header repeats on each of them (pypdf is slow: sample a few pages)
    sampled = [reader.pages[i].extract_text() or "" for i in range(3, 8)]
    assert all("host0" in text and "TLSv1.0" in text and "Verdict" in text for text in sampled)
