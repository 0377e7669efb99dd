"""Reading a JSONL stream back: blank lines, CRLF and a BOM are fine; a last line cut short is set aside
with the size of what is whole (what a resumed scan keeps before appending); a complete last line without
its newline still counts; any other bad line names its file and line. Appending continues such a file on a
line of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tlsaudit.audit import endpoint_record
from tlsaudit.endpoint_lines import looks_like_jsonl, parse_endpoint_lines
from tlsaudit.engine import DEFAULT_POLICY, load_ruleset
from tlsaudit.errors import ReportInputError
from tlsaudit.formats.jsonl import EndpointStream, endpoint_line
from tlsaudit.models import ReasonCode
from tlsaudit.probe.scanner import unknown_endpoint
from tlsaudit.probe.targets import parse_target


def _endpoint(text: str) -> dict[str, Any]:
    facts = unknown_endpoint(parse_target(text), "", "connection refused", ReasonCode.CONNECTION_REFUSED)
    return endpoint_record(load_ruleset(DEFAULT_POLICY, []), facts)


A, B, C = (_endpoint(t) for t in ("127.0.0.1:1", "[::1]:2", "name.test:3{127.0.0.9}"))


def _ids(data: bytes) -> list[str]:
    return [e["id"] for _, e in parse_endpoint_lines(data, "s.jsonl").endpoints]


def test_whole_lines_blank_lines_crlf_and_a_bom() -> None:
    data = "\ufeff" + endpoint_line(A) + "\n" + endpoint_line(B).replace("\n", "\r\n") + endpoint_line(C)
    lines = parse_endpoint_lines(data.encode(), "s.jsonl")
    assert [n for n, _ in lines.endpoints] == [1, 3, 4]
    assert [e["id"] for _, e in lines.endpoints] == [A["id"], B["id"], C["id"]]
    assert lines.incomplete_line is None and lines.complete_size == len(data.encode())


def test_a_cut_off_last_line_is_set_aside_and_a_whole_one_without_newline_kept() -> None:
    whole = (endpoint_line(A) + endpoint_line(B)).encode()
    cut = parse_endpoint_lines(whole + endpoint_line(C).encode()[:50], "s.jsonl")
    assert [e["id"] for _, e in cut.endpoints] == [A["id"], B["id"]]
    assert cut.incomplete_line == 3 and cut.complete_size == len(whole)
    unterminated = whole + endpoint_line(C).rstrip("\n").encode()
    assert _ids(unterminated) == [A["id"], B["id"], C["id"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"id": "x"\n' + endpoint_line(A).encode(), "s.jsonl:1: not a JSON line"),
        (endpoint_line(A).encode() + b'{"id": "x"}\n', "s.jsonl:2: not a tlsaudit endpoint object"),
        (endpoint_line(A).encode() + b"[1, 2]\n", "s.jsonl:2: not a tlsaudit endpoint object"),
        (endpoint_line({**A, "verdict": "maybe"}).encode(), "s.jsonl:1: not a tlsaudit endpoint object"),
    ],
)
def test_bad_lines_name_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(ReportInputError, match=message):
        parse_endpoint_lines(data, "s.jsonl")


def test_appending_after_a_cut_off_line_starts_a_line_of_its_own(tmp_path: Path) -> None:
    stream = tmp_path / "s.jsonl"
    stream.write_bytes(endpoint_line(A).encode() + endpoint_line(B).encode()[:30])
    keep = parse_endpoint_lines(stream.read_bytes(), str(stream)).complete_size
    with EndpointStream(str(stream), append=True, keep=keep) as out:
        out.write(C)
    assert _ids(stream.read_bytes()) == [A["id"], C["id"]]
    # a whole last line without its newline is kept, and the next one goes on a line of its own
    stream.write_bytes(endpoint_line(A).rstrip("\n").encode())
    keep = parse_endpoint_lines(stream.read_bytes(), str(stream)).complete_size
    with EndpointStream(str(stream), append=True, keep=keep) as out:
        out.write(B)
    assert _ids(stream.read_bytes()) == [A["id"], B["id"]]


def test_a_stream_is_told_from_a_report(tmp_path: Path) -> None:
    line = endpoint_line(A).encode()
    assert looks_like_jsonl(tmp_path / "x.jsonl", b"")
    assert looks_like_jsonl(tmp_path / "x.out", line)
    assert not looks_like_jsonl(tmp_path / "x.json", json.dumps({"schema_version": "1.0"}).encode())
    assert not looks_like_jsonl(tmp_path / "x.json", b'{\n  "schema_version": "1.0"\n}\n')
