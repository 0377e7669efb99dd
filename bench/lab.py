"""The loopback lab: endpoint profiles with known truth, nginx, silent listeners, verified at start."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.certs import KEY_TYPES, write_self_signed
from bench.model import Endpoint
from bench.nginx import LabError, NginxServer, reserve_ports, start_nginx
from bench.silent import SilentListeners
from bench.truth import verify

# profile name -> versions the endpoint accepts (everything else, SSLv2/SSLv3 included, is rejected)
PROFILES: dict[str, frozenset[str]] = {
    "tls12": frozenset({"TLSv1.2"}),
    "tls13": frozenset({"TLSv1.3"}),
    "tls12-13": frozenset({"TLSv1.2", "TLSv1.3"}),
    "tls10": frozenset({"TLSv1.0"}),
    "tls11": frozenset({"TLSv1.1"}),
    "tls10-11": frozenset({"TLSv1.0", "TLSv1.1"}),
    "tls10-13": frozenset({"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}),
}
START_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Lab:
    tls: list[Endpoint]
    silent: list[Endpoint]
    nginx_pid: int
    # key type -> certificate file served by the endpoints of that key type
    certs: dict[str, Path] = field(default_factory=dict)

    @property
    def all(self) -> list[Endpoint]:
        return self.tls + self.silent


def plan_endpoints(count: int, ports: list[int]) -> list[Endpoint]:
    """Round-robin over the profiles, alternating RSA and ECDSA certificates."""
    names = sorted(PROFILES)
    return [
        Endpoint(
            port=port,
            profile=names[i % len(names)],
            key_type=KEY_TYPES[(i // len(names)) % len(KEY_TYPES)],
            accepted=PROFILES[names[i % len(names)]],
        )
        for i, port in enumerate(ports[:count])
    ]


@contextmanager
def running_lab(*, tls_count: int, silent_count: int, workers: int | None = None) -> Iterator[Lab]:
    """Start everything, verify the truth, yield, and always stop what was started."""
    with tempfile.TemporaryDirectory(prefix="tlsaudit-bench-") as tmp:
        prefix = Path(tmp)
        os.chmod(prefix, 0o755)  # nginx workers (nobody) only need to traverse
        certs = {key_type: write_self_signed(prefix, key_type) for key_type in KEY_TYPES}
        server: NginxServer | None = None
        last_error: LabError | None = None
        endpoints: list[Endpoint] = []
        for _ in range(START_ATTEMPTS):  # a port taken by someone else in between: pick again
            endpoints = plan_endpoints(tls_count, reserve_ports(tls_count))
            try:
                server = start_nginx(
                    prefix=prefix / "nginx",
                    endpoints=endpoints,
                    certs=certs,
                    workers=workers or os.cpu_count() or 1,
                )
                break
            except LabError as exc:
                last_error = exc
        if server is None:
            raise LabError(f"nginx could not start after {START_ATTEMPTS} attempts: {last_error}")
        listeners = SilentListeners(silent_count)
        listeners.start()
        try:
            silent = [
                Endpoint(port=port, profile="silent", key_type="none", accepted=frozenset(), silent=True)
                for port in listeners.ports
            ]
            problems = verify(endpoints)
            if problems:
                raise LabError(
                    "endpoint truth does not hold, the benchmark would be meaningless:\n  "
                    + "\n  ".join(problems)
                )
            yield Lab(
                tls=endpoints,
                silent=silent,
                nginx_pid=server.process.pid,
                certs={key_type: paths[0] for key_type, paths in certs.items()},
            )
        finally:
            listeners.stop()
            server.stop()
