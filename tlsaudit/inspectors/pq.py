"""`pq_hybrid_default`: does a runtime's TLS stack offer a hybrid post-quantum group (X25519MLKEM768) by
default? Derived from the TLS library the runtime uses, for every kind; `runtimes --probe` then shows what
its client really put in the ClientHello (capture.offers_pq_hybrid).

Thresholds (each cited in rules/runtime/pq.toml):
- OpenSSL 3.5: X25519MLKEM768 in the default groups and key shares (OpenSSL 3.5 NEWS / release notes);
  Python, PHP, curl, .NET on Linux and Node follow the OpenSSL they use.
- Node: its own OpenSSL (process.versions.openssl) decides; without it, Node 24.5 / 22.20 (bundled 3.5).
- Java: JEP 527 (JDK 27) puts X25519MLKEM768 first in the default named groups; a `jdk.tls.namedGroups`
  list overrides the default.
- Chromium-family browsers: Chrome/Chromium/Edge 131 (hybrid ML-KEM 0x11EC by default); Firefox 132
  (desktop, ESR included).
- BoringSSL as Mono bundles it (2016 fork, btls): no ML-KEM.
Everything else (Schannel, Apple, other TLS libraries) stays unknown: no cited default to go by.
"""

from __future__ import annotations

import dataclasses
import re

from tlsaudit.models import FactValue, RuntimeFacts

OPENSSL_PQ = (3, 5)
NODE_PQ = ((24, 5), (22, 20))  # a bundled OpenSSL 3.5 from these releases of each line
JAVA_PQ = 27
CHROMIUM_PQ = 131
FIREFOX_PQ = 132


def _numbers(text: object, count: int = 3) -> tuple[int, ...] | None:
    found = re.findall(r"\d+", str(text or ""))
    return tuple(int(n) for n in found[:count]) if found else None


def openssl_verdict(library: object, version: object) -> tuple[bool | None, str]:
    """(offers by default, why) for a TLS library name and version as the inspectors report them."""
    name = str(library or "")
    if not name:
        return None, "TLS library unknown"
    if name in ("OpenSSL", "quictls"):
        numbers = _numbers(version, 2)
        if numbers is None:
            return None, f"{name} version unknown"
        on = numbers >= OPENSSL_PQ
        return on, f"{name} {version} {'>=' if on else '<'} 3.5"
    if name.startswith("BoringSSL (Mono"):
        return False, "Mono's btls (a 2016 BoringSSL) has no ML-KEM"
    return None, f"{name}: no cited default"


def derive(rt: RuntimeFacts) -> tuple[bool | None, str]:
    d = rt.details
    if "inspect_error" in d:
        return None, ""
    if rt.kind == "java":
        major = d.get("java_major")
        if not isinstance(major, int):
            return None, "Java feature release unknown"
        if major < JAVA_PQ:
            return False, f"Java {major} < {JAVA_PQ} (JEP 527)"
        return True, f"Java {major} >= {JAVA_PQ} (JEP 527: X25519MLKEM768 first in the default groups)"
    if rt.kind == "browser":
        browser = str(d.get("browser") or "")
        major = (_numbers(rt.version, 1) or (0,))[0]
        for names, threshold in ((("Chromium", "Chrome", "Edge"), CHROMIUM_PQ), (("Firefox",), FIREFOX_PQ)):
            if browser.startswith(names):
                on = major >= threshold
                return on, f"{browser} {major} {'>=' if on else '<'} {threshold}"
        return None, f"{browser or 'browser'}: no cited default; see --probe"
    if rt.kind == "node":
        if d.get("tls_library_version"):
            return openssl_verdict(d.get("tls_library"), d.get("tls_library_version"))
        version = _numbers(rt.version, 2)
        if version is None:
            return None, "Node version unknown"
        on = any(version[0] == line[0] and version >= line for line in NODE_PQ) or version[0] > 24
        return on, f"Node {rt.version} (bundled OpenSSL 3.5 from 22.20 / 24.5)"
    if rt.kind == "php":
        return openssl_verdict(
            d.get("tls_library") or d.get("openssl_runtime_library"),
            d.get("tls_library_version") or d.get("openssl_runtime_version"),
        )
    if rt.kind == "openssl":
        return openssl_verdict(d.get("tls_library") or "OpenSSL", d.get("tls_library_version") or rt.version)
    return openssl_verdict(d.get("tls_library"), d.get("tls_library_version"))


def with_pq_hybrid(rt: RuntimeFacts) -> RuntimeFacts:
    """The runtime with `details.pq_hybrid_default` (when decidable) and `details.pq_hybrid_source`."""
    offered, why = derive(rt)
    if not why:
        return rt
    extra: dict[str, FactValue] = {"pq_hybrid_source": why}
    if offered is not None:
        extra["pq_hybrid_default"] = offered
    return dataclasses.replace(rt, details={**rt.details, **extra})
