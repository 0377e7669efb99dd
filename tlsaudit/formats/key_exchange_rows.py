"""Display rows for the key-exchange, handshake and known-flaw facts of each endpoint (text and HTML share
them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlsaudit.formats.base import subject_label

_HANDSHAKE_LABELS = (
    ("secure_renegotiation", "secure renegotiation"),
    ("client_renegotiation", "client renegotiation"),
    ("fallback_scsv", "fallback SCSV"),
    ("compression", "compression"),
    ("extended_master_secret", "EMS"),
    ("encrypt_then_mac", "ETM"),
    ("session_id_resumption", "resumption (ID)"),
    ("session_ticket_resumption", "resumption (ticket)"),
)

_FLAW_LABELS = (("heartbleed", "Heartbleed"), ("ccs_injection", "CCS injection"), ("robot", "ROBOT"))


def _flag(value: Any) -> str:
    return "not assessed" if value is None else ("yes" if value else "no")


def key_exchange_rows(report: Mapping[str, Any], with_source: bool) -> list[dict[str, Any]]:
    """One row per endpoint that carries key_exchange, handshake or known_flaws facts."""
    rows: list[dict[str, Any]] = []
    for ep in report["endpoints"]:
        kx = ep.get("key_exchange")
        hs = ep.get("handshake")
        kf = ep.get("known_flaws")
        if kx is None and hs is None and kf is None:
            continue
        row: dict[str, Any] = {"label": subject_label(dict(ep), with_source), "groups": [], "facts": []}
        if kx is not None:
            row["groups"] = [
                f"{v}: {', '.join(names) or 'none'}" for v, names in kx.get("groups", {}).items()
            ]
            row["facts"] += [
                f"post-quantum hybrid: {_flag(kx.get('pq_hybrid'))}",
                f"DH: {kx['dh_bits']} bits" if kx.get("dh_bits") else "DH: none accepted or not assessed",
                f"forward secrecy: {_flag(kx.get('forward_secrecy'))}",
                f"large hello answered: {_flag(kx.get('large_hello_tolerant'))}",
            ]
        if hs is not None:
            row["facts"] += [f"{label}: {_flag(hs.get(key))}" for key, label in _HANDSHAKE_LABELS]
            if hs.get("ticket_lifetime_hint") is not None:
                row["facts"].append(f"ticket lifetime hint: {hs['ticket_lifetime_hint']} s")
        if kf is not None:
            for key, label in _FLAW_LABELS:
                check = kf.get(key)
                if check is not None:
                    row["facts"].append(f"{label}: {check['status']} ({check['reason']})")
        rows.append(row)
    return rows
