"""Standard streams that never lose part of a large write."""

from __future__ import annotations

import io
from typing import TextIO


def with_whole_writes(stream: TextIO) -> TextIO:
    """`stream`, or a replacement for it when its binary layer is unbuffered.

    Under `PYTHONUNBUFFERED=1` or `python -u` (common in containers and CI) the text stream writes straight
    to the raw file, one `write()` call per text write, and a write into a pipe can take only part of a large
    report: the rest was silently lost. A buffered layer writes until every byte is out. Line buffering keeps
    the output as prompt as the user asked for."""
    raw = getattr(stream, "buffer", None)
    if not isinstance(raw, io.FileIO):
        return stream
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=True,
        write_through=True,
    )
