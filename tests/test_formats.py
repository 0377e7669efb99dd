"""Every output format, rendered from real reports, checked by the tools that read it."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from tests.report_samples import HOSTILE_SUBJECT, HOSTILE_TEXT, hostile_report, sample_report
from tlsaudit.errors import UsageError
from tlsaudit.formats import FORMATS, RenderFailure, RenderOptions, format_for_path, render, write_outputs
from tlsaudit.formats.csv_format import COLUMNS, spreadsheet_safe
from tlsaudit.formats.html import LogoError, logo_data_uri
from tlsaudit.formats.markdown import md
from tlsaudit.report import merge_reports, schema_errors

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)
OPTIONS = RenderOptions()
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d1b0a30000000049454e44ae426082"
)


def all_reports() -> list[dict[str, Any]]:
    return [
        sample_report(),
        hostile_report(),
        dict(merge_reports([sample_report(), hostile_report_same_policy()])),
    ]


def hostile_report_same_policy() -> dict[str, Any]:
    report = hostile_report()
    report["policy"] = sample_report()["policy"]
    return report


# ---------------------------------------------------------------- registry and paths


def test_registry_covers_every_format() -> None:
    assert set(FORMATS) == {"text", "json", "html", "junit", "sarif", "markdown", "csv", "jsonl"}
    for name, fmt in FORMATS.items():
        assert fmt.name == name
        assert fmt.extensions


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("out.json", "json"),
        ("dir/Report.HTML", "html"),
        ("x.htm", "html"),
        ("junit.xml", "junit"),
        ("a.sarif", "sarif"),
        ("a.sarif.json", "sarif"),
        ("summary.md", "markdown"),
        ("f.csv", "csv"),
        ("t.txt", "text"),
    ],
)
def test_format_follows_the_extension(path: str, fmt: str) -> None:
    assert format_for_path(path) == fmt


def test_unknown_extension_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--format"):
        format_for_path("report.pdf")
    with pytest.raises(UsageError, match="unknown format"):
        render(sample_report(), "yaml", OPTIONS)


# ---------------------------------------------------------------- JSON


def test_json_output_follows_the_schema_and_round_trips() -> None:
    for report in all_reports():
        text = render(report, "json", OPTIONS)
        parsed = json.loads(text)
        assert parsed == report
        assert schema_errors(parsed) == []


# ---------------------------------------------------------------- SARIF


def test_sarif_is_valid_against_the_official_schema() -> None:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    for report in all_reports():
        log = json.loads(render(report, "sarif", OPTIONS))
        errors = [e.message for e in validator.iter_errors(log)]
        assert errors == []


def test_sarif_results_map_statuses() -> None:
    log = json.loads(render(sample_report(), "sarif", OPTIONS))
    run = log["runs"][0]
    results = run["results"]
    problems = [f for f in sample_report()["findings"] if f["status"] in ("fail", "warn", "error")]
    assert len(results) == len(problems)
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        status = result["properties"]["status"]
        if status == "error":
            assert (result["kind"], result["level"]) == ("open", "none")
        elif status == "warn":
            assert (result["kind"], result["level"]) == ("fail", "warning")
        else:
            assert result["kind"] == "fail"
            assert result["level"] == "error"  # every failure in the sample is high or critical
    php = next(r for r in results if r["ruleId"] == "runtime.php.openssl-too-old")
    artifact = php["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "usr/bin/php5.6", "uriBaseId": "ROOTPATH"}
    assert run["originalUriBaseIds"]["ROOTPATH"] == {"uri": "file:///"}
    fingerprints = [r["partialFingerprints"]["tlsauditSubject/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_sarif_keeps_hostile_text_as_data() -> None:
    log = json.loads(render(hostile_report(), "sarif", OPTIONS))
    messages = [r["message"]["text"] for r in log["runs"][0]["results"]]
    assert any(HOSTILE_SUBJECT in m for m in messages)


# ---------------------------------------------------------------- JUnit


def test_junit_parses_with_one_suite_per_host_and_a_case_per_rule_and_subject(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "junit.xml"
    path.write_text(render(report, "junit", OPTIONS), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {
        "api.example.com:443",
        "legacy.example.com:443",
        "shop.example.com:443",
        "runtimes on build-01",
    }
    cases = [case for suite in xml for case in suite]
    assert len(cases) == len(report["findings"])
    by_status: dict[str, int] = {"fail": 0, "error": 0, "skipped": 0}
    for case in cases:
        for result in case.result:
            if isinstance(result, Failure):
                by_status["fail"] += 1
            elif isinstance(result, Error):
                by_status["error"] += 1
            elif isinstance(result, Skipped):
                by_status["skipped"] += 1
    counts = report["summary"]["counts"]
    assert by_status == {"fail": counts["fail"], "error": counts["error"], "skipped": counts["skipped"]}
    shop = suites["shop.example.com:443"]
    assert shop.tests == 8
    assert shop.failures == 3
    root = ET.parse(path).getroot()
    assert root.get("failures") == str(counts["fail"])
    assert root.get("errors") == str(counts["error"])


def test_junit_survives_hostile_text(tmp_path: Path) -> None:
    text = render(hostile_report(), "junit", OPTIONS)
    root = ET.fromstring(text.encode("utf-8"))  # well-formed despite <, ", control characters
    failure = root.find(".//failure")
    assert failure is not None
    assert HOSTILE_SUBJECT in (failure.get("message") or "")
    assert "\x1b" not in text and "\x07" not in text
    path = tmp_path / "h.xml"
    path.write_text(text, encoding="utf-8")
    assert len(list(JUnitXml.fromfile(str(path)))) == 2


# ---------------------------------------------------------------- Markdown


def _table_rows(markdown: str, header_start: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([c.strip() for c in cells])
    return rows


def _unescape(cell: str) -> str:
    cell = re.sub(r"\\(.)", r"\1", cell)
    return cell.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_markdown_tables_keep_their_shape() -> None:
    report = sample_report()
    text = render(report, "markdown", OPTIONS)
    assert text.startswith("## ❌ FAIL: TLS readiness review")
    rows = _table_rows(text, "| Endpoint |")
    assert len(rows) == len(report["endpoints"])
    for row, ep in zip(rows, report["endpoints"], strict=True):
        assert len(row) == 8
        assert _unescape(row[0]) == ep["id"]
        assert row[3].startswith(ep["protocols"]["TLSv1.0"]["status"])


def test_markdown_neutralises_hostile_text() -> None:
    report = hostile_report()
    text = render(report, "markdown", OPTIONS)
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)  # the brackets are escaped: no link
    assert "\x1b" not in text
    rows = _table_rows(text, "| Severity |")
    assert all(len(row) == 5 for row in rows)
    fail_row = next(r for r in rows if r[1] == "fail")
    assert _unescape(fail_row[4]) == report["findings"][0]["message"].replace("\n", " ").replace(
        "\x1b", "\ufffd"
    ).replace("\x07", "\ufffd")


def test_md_escape_round_trips() -> None:
    for value in [HOSTILE_SUBJECT, "a|b", "x_y*z", "`tick`", "[a](b)", "# h", "a\\|b"]:
        assert _unescape(md(value)) == value.replace("\n", " ")


# ---------------------------------------------------------------- CSV


def test_csv_one_row_per_finding_round_trips() -> None:
    report = sample_report()
    rows = list(csv.reader(io.StringIO(render(report, "csv", OPTIONS))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 1 + len(report["findings"])
    for row, f in zip(rows[1:], report["findings"], strict=True):
        record = dict(zip(COLUMNS, row, strict=True))
        assert record["rule_id"] == f["rule_id"]
        assert record["subject"] == f["subject"]
        assert record["status"] == f["status"]
        assert record["references"] == " ".join(f["references"])


def test_csv_defuses_formulas() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1"):
        assert spreadsheet_safe(dangerous).startswith("'")
    assert spreadsheet_safe("safe text") == "safe text"
    rows = list(csv.reader(io.StringIO(render(hostile_report(), "csv", OPTIONS))))
    cells = [cell for row in rows[1:] for cell in row]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)
    messages = [dict(zip(COLUMNS, row, strict=True))["message"] for row in rows[1:]]
    assert any(m.startswith("'=HYPERLINK") for m in messages)


# ---------------------------------------------------------------- text


def test_text_view_words_and_verdict() -> None:
    text = render(sample_report(), "text", OPTIONS)
    assert "\x1b[" not in text
    assert "shop.example.com:443 (192.0.2.10)" in text
    table = text[text.index("Endpoints") : text.index("Versions listed under neither heading")]
    assert "TLSv1.0 TLSv1.1 TLSv1.2" in table  # the accepted versions of shop.example.com
    assert "shop.example.com:443 (192.0.2.10)  FAIL" in text  # its section
    assert "Fix: Disable TLS 1.0" in text
    assert text.rstrip().splitlines()[-1].startswith("Verdict: FAIL")
    assert "disagree on TLSv1.0" in text


def test_interrupted_runs_say_so() -> None:
    report = sample_report()
    report["interrupted"] = True
    for fmt in ("text", "markdown", "html"):
        assert "interrupted before every subject finished" in render(report, fmt, OPTIONS), fmt
    assert "interrupted before" not in render(sample_report(), "text", OPTIONS)


def test_text_colour_only_when_asked() -> None:
    coloured = render(sample_report(), "text", RenderOptions(color=True))
    assert "\x1b[31m" in coloured and "\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render(sample_report(), "text", OPTIONS)


def test_text_strips_terminal_control_sequences() -> None:
    text = render(hostile_report(), "text", RenderOptions(color=False))
    assert "\x1b" not in text and "\x07" not in text
    assert HOSTILE_SUBJECT.split('"')[0] in text


# ---------------------------------------------------------------- HTML, static checks


def test_html_escapes_hostile_text() -> None:
    html = render(hostile_report(), "html", OPTIONS)
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=window", "")
    assert "&lt;script&gt;document.title=" in html
    assert "Content-Security-Policy" in html


def test_html_is_self_contained() -> None:
    html = render(sample_report(), "html", OPTIONS)
    assert not re.search(
        r"""(src|href)\s*=\s*["']?(https?:|//)""", html.replace('href="https://datatracker', "")
    )
    assert "<link" not in html and "@import" not in html and "url(" not in html


def test_html_options_override_scope() -> None:
    html = render(
        sample_report(), "html", RenderOptions(title="Q4 review", client="Acme", assessor="B. Consultant")
    )
    assert "<title>Q4 review: Acme</title>" in html
    assert "B. Consultant" in html


def test_logo_png_embedded_as_data_uri(tmp_path: Path) -> None:
    logo = tmp_path / "logo.bin"
    logo.write_bytes(PNG_1X1)
    html = render(sample_report(), "html", RenderOptions(logo=logo))
    assert 'src="data:image/png;base64,' in html


def test_svg_logo_is_an_image_never_inline_markup(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    uri = logo_data_uri(logo)
    assert uri.startswith("data:image/svg+xml;base64,")
    html = render(sample_report(), "html", RenderOptions(logo=logo))
    assert "<svg xmlns" not in html
    assert "alert(1)" not in html


def test_logo_must_be_an_image(tmp_path: Path) -> None:
    bad = tmp_path / "logo.png"
    bad.write_text("<html><script>alert(1)</script></html>")
    with pytest.raises(LogoError, match="not a PNG, JPEG or SVG"):
        logo_data_uri(bad)
    with pytest.raises(LogoError, match="cannot read"):
        logo_data_uri(tmp_path / "missing.png")
    big = tmp_path / "big.png"
    big.write_bytes(PNG_1X1 + b"\0" * (3 * 1024 * 1024))
    with pytest.raises(LogoError, match="larger"):
        logo_data_uri(big)


# ---------------------------------------------------------------- writing


def test_write_outputs_follows_extensions(tmp_path: Path) -> None:
    report = sample_report()
    outputs = [
        str(tmp_path / name) for name in ("r.json", "r.html", "r.xml", "r.sarif", "r.md", "r.csv", "r.txt")
    ]
    write_outputs(report, outputs, None, OPTIONS)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == report
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "r.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("## ")
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("severity,")
    assert "Verdict: FAIL" in (tmp_path / "r.txt").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(o).name for o in outputs)


def test_forced_format_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = sample_report()
    write_outputs(report, ["-", str(tmp_path / "odd.name")], "json", OPTIONS)
    assert json.loads(capsys.readouterr().out) == report
    assert json.loads((tmp_path / "odd.name").read_text(encoding="utf-8")) == report
    write_outputs(report, ["-"], None, OPTIONS)
    assert "Verdict: FAIL" in capsys.readouterr().out


def test_a_failing_renderer_costs_no_other_format_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = sample_report()
    good = tmp_path / "report.json"
    good.write_text("previous report\n", encoding="utf-8")

    def broken(_report: object, _options: RenderOptions) -> str:
        raise RuntimeError("renderer bug")

    monkeypatch.setitem(FORMATS, "markdown", dataclasses.replace(FORMATS["markdown"], render=broken))
    with pytest.raises(RenderFailure, match="markdown") as caught:
        write_outputs(report, [str(good), str(tmp_path / "new.md"), str(tmp_path / "r.csv")], None, OPTIONS)
    assert isinstance(caught.value.failures[0][2], RuntimeError)
    # the other formats were written whole; the failed one left nothing behind, not even a temporary file
    assert json.loads(good.read_text(encoding="utf-8"))["findings"]
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("severity,status")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "report.json"]


def test_atomic_write_into_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        write_outputs(sample_report(), [str(tmp_path / "nope" / "r.json")], None, OPTIONS)


def test_atomic_write_replaces_and_cleans_up_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")

    def interrupted(src: str, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(sample_report(), [str(target)], None, OPTIONS)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_hostile_text_constants_are_hostile() -> None:
    # guards the guard: the payloads the tests rely on really hold markup, formulas and control characters
    assert "<script>" in HOSTILE_SUBJECT and "onerror" in HOSTILE_SUBJECT
    assert HOSTILE_TEXT.startswith("=") and "\x1b" in HOSTILE_TEXT and "|" in HOSTILE_TEXT


def test_html_replaces_control_characters() -> None:
    html = render(hostile_report(), "html", OPTIONS)
    assert "\x1b" not in html and "\x07" not in html and "\ufffd[31mred" in html


def test_breakable_escapes_before_adding_break_points() -> None:
    from tlsaudit.formats.html import breakable

    assert str(breakable('<b x="1">a.b:c</b>')) == "&lt;b x=&#34;1&#34;&gt;a.<wbr>b:<wbr>c&lt;/b&gt;"


def test_starttls_rows_are_marked_in_html_and_markdown() -> None:
    """Issue 17, item 19: an endpoint reached through STARTTLS says so in its row (the terminal test
    checks the terminal under a real SMTP server)."""
    report = sample_report()
    report["endpoints"][0]["starttls"] = "smtp"
    assert schema_errors(report) == []
    label = report["endpoints"][0]["id"]
    html = render(report, "html", OPTIONS)
    assert html.count('<span class="tag">STARTTLS smtp</span>') == 1
    row = re.search(r"<th class=\"ep-col\" scope=\"row\">.*?</th>", html, re.S)
    assert row is not None and "STARTTLS smtp" in row.group(0)
    markdown = render(report, "markdown", OPTIONS)
    assert any("STARTTLS" in line and md(label.split(" ")[0]) in line for line in markdown.splitlines())


def test_the_json_items_are_what_json_dumps_writes() -> None:
    """The JSON format encodes each item with one reusable C encoder: byte for byte what json.dumps gives."""
    from tests.report_samples import big_report, hostile_report
    from tlsaudit.formats.json_format import SEPARATORS, compact_encoder

    compact = compact_encoder()
    for report in (sample_report(), hostile_report(), big_report(50)):
        for value in (report, *report["endpoints"], *report["findings"], report["summary"]):
            assert compact(value) == json.dumps(value, ensure_ascii=False, separators=SEPARATORS)
    odd_values: list[object] = ['é"\n\x00', 1, 2.5, float("nan"), None, True, [], {}, {"k": [1, None, "ü"]}]
    for odd in odd_values:
        assert compact(odd) == json.dumps(odd, ensure_ascii=False, separators=SEPARATORS)


def test_the_json_file_written_in_pieces_is_the_rendered_text(tmp_path: Path) -> None:
    """A JSON report is written piece by piece (never held as one string): the file is exactly `render`'s
    text, one line per item, and parses back to the normalized report."""
    from tests.report_samples import big_report
    from tlsaudit.formats.json_format import render_chunks
    from tlsaudit.report import normalized

    for report in (sample_report(), hostile_report(), big_report(30)):
        text = render(report, "json", OPTIONS)
        prepared = normalized(report)
        assert "".join(render_chunks(prepared, OPTIONS)) == text
        target = tmp_path / "report.json"
        write_outputs(report, [str(target)], "json", OPTIONS)
        assert target.read_text(encoding="utf-8") == text
        assert json.loads(text) == json.loads(json.dumps(prepared))
        lines = text.splitlines()
        # "{", one line per top-level key, and for a list: its opening line, one per item, "]"; "}"
        expected = 2 + sum(
            len(value) + 2 if isinstance(value, list) and value else 1 for value in prepared.values()
        )
        assert len(lines) == expected


def test_the_verdict_line_reads_the_counts_tally_gives() -> None:
    """The plain verdict line takes its numbers from a normalized report's summary: they are tally's."""
    from tests.report_samples import big_report
    from tlsaudit.counts import tally
    from tlsaudit.formats.base import STATUS_WORDS, plain_verdict_line
    from tlsaudit.report import normalized

    for report in (normalized(sample_report()), normalized(hostile_report()), normalized(big_report(40))):
        counts = tally(report).checks
        expected = ", ".join(f"{counts[k]} {k}" for k in STATUS_WORDS)
        assert plain_verdict_line(report) == f"Verdict: {report['summary']['verdict'].upper()}  ({expected})"
        bare = {**report, "summary": {"verdict": report["summary"]["verdict"]}}
        assert plain_verdict_line(bare) == plain_verdict_line(report)  # no counts: tallied
