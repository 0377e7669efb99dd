from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.certs import make_cert


@pytest.fixture(scope="session")
def rsa_cert() -> tuple[Path, Path]:
    """Certificate chain and key files of the default RSA-2048 test certificate."""
    cert = make_cert()
    return cert.chain, cert.key
