"""JSON: the report itself, the public contract (reports/report.schema.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as json_encoder

from tlsaudit.formats.base import RenderOptions
from tlsaudit.report_types import Report

SEPARATORS = (", ", ": ")


def render(report: Report, options: RenderOptions) -> str:
    """Pretty at the top, one line per endpoint, runtime, capture and finding: readable, diffable, and fast
    (json's C encoder only runs without `indent`)."""
    return "".join(render_chunks(report, options))


def render_chunks(report: Report, options: RenderOptions) -> list[str]:
    """`render`'s text in pieces, one per item: written one after another, a large report is never held
    as one string (nor as one encoded copy of it)."""
    chunks: list[str] = ["{\n"]
    separator = ""
    for key, value in report.items():
        name = json.dumps(key)
        chunks.append(separator)
        separator = ",\n"
        if isinstance(value, list) and value:
            chunks.append(f"  {name}: [\n    ")
            chunks.append(_compact(value[0]))
            for item in value[1:]:
                chunks.append(",\n    ")
                chunks.append(_compact(item))
            chunks.append("\n  ]")
        else:
            chunks.append(f"  {name}: {_compact(value)}")
    chunks.append("\n}\n")
    return chunks


def compact_encoder() -> Callable[[object], str]:
    """`json.dumps(value, ensure_ascii=False, separators=SEPARATORS)` for one value after another: the C
    encoder is made once (json.dumps makes one per call, which costs more than encoding a finding), and
    without the check for circular references, which a report (plain data from JSON or to_json) has none
    of. Where json has no C encoder, json.dumps itself."""
    reference = json.JSONEncoder(ensure_ascii=False, separators=SEPARATORS)
    make = getattr(json_encoder, "c_make_encoder", None)
    if make is None:
        return reference.encode
    encode = make(
        None,
        reference.default,
        json_encoder.encode_basestring,
        None,
        SEPARATORS[1],
        SEPARATORS[0],
        False,
        False,
        True,
    )

    def compact(value: object) -> str:
        if isinstance(value, str):
            return reference.encode(value)
        return "".join(encode(value, 0))

    return compact


_compact = compact_encoder()
