"""Facts back from a saved report: the subjects of a schema-valid JSON report as the frozen models the
collectors produce, so that a report can be judged again under another policy without scanning again.

The inverse of `models.to_json` for the subject models: keys the report adds (`id`, `verdict`,
`readiness`, `source_host`) are dropped, omitted optionals take their defaults.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from tlsaudit.models import CaptureFacts, EndpointFacts, RuntimeFacts

T = TypeVar("T")


def _convert(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg)
            except (TypeError, ValueError, KeyError):
                continue
        return value
    if origin is tuple:
        return tuple(_convert(v, args[0]) for v in value)
    if origin in (Mapping, dict) or (origin is not None and origin.__name__ == "Mapping"):
        key_type, value_type = args
        return {_convert(k, key_type): _convert(v, value_type) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_json(hint, value)
    if hint is Any or hint is object:
        return value
    if hint in (str, int, float, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise TypeError(f"{value!r} is not {hint.__name__}")
        return value
    return _fact_value(value)


def _fact_value(value: Any) -> Any:
    """A runtime detail: JSON lists become tuples, as collectors store them."""
    if isinstance(value, list):
        return tuple(value)
    return value


def from_json(cls: type[T], data: Mapping[str, Any]) -> T:
    """One model from its JSON object (unknown keys ignored)."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in data:
            kwargs[field.name] = _convert(data[field.name], hints[field.name])
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            kwargs[field.name] = None  # a required optional: to_json omits None
    return cls(**kwargs)


def endpoints_of(report: Mapping[str, Any]) -> list[EndpointFacts]:
    return [from_json(EndpointFacts, ep) for ep in report.get("endpoints", [])]


def runtimes_of(report: Mapping[str, Any]) -> list[RuntimeFacts]:
    return [from_json(RuntimeFacts, _pins_apart(rt)) for rt in report.get("runtimes", [])]


def _pins_apart(runtime: Mapping[str, Any]) -> Mapping[str, Any]:
    """`details.pins` (objects) is the model's `pins` field, not a detail."""
    details = runtime.get("details", {})
    if "pins" not in details:
        return runtime
    return {
        **runtime,
        "details": {k: v for k, v in details.items() if k != "pins"},
        "pins": details["pins"],
    }


def captures_of(report: Mapping[str, Any]) -> list[CaptureFacts]:
    return [from_json(CaptureFacts, cap) for cap in report.get("captures", [])]
