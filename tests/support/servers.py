"""Every loopback test server in one place.

TLS servers (context managers yielding a `TlsServer` with `host`, `port`, `target`, `versions`, `cert`):
    python_tls_server(versions, host=, cert=, ciphers=, tls13_suites=, send_intermediate=)
    tlslite_server(versions, host=, cert=)                   the only one speaking SSLv3
    openssl_s_server(args, host=, cert=, www=, send_intermediate=)
    nginx_server([NginxServerBlock(...), ...], host=)       yields NginxServers (addresses per block)
    tls_server(versions, host=, cert=)   tlslite for SSLv3, else Python ssl; see VERSION_SETS
Hostile peers (yielding a `ServerAddress`):
    silent_server, garbage_server, http_server, close_server, reset_server, huge_record_server, drip_server
`host` is "127.0.0.1" by default; pass "::1" for IPv6. Ports are always ephemeral.
Other real stacks (GnuTLS, wolfSSL, Botan, JSSE, Node, OpenSSL 1.0.2): see stacks.py and its STACK_VARIANTS.
"""

from .acceptor import CONNECTION_TIMEOUT, ServerAddress
from .hostile import (
    ALERT_HANDSHAKE_FAILURE,
    HUGE_RECORD,
    SERVER_HELLO_TLS12,
    close_server,
    drip_server,
    garbage_server,
    http_server,
    huge_record_server,
    reset_server,
    silent_server,
)
from .nginx import NginxServerBlock, NginxServers, nginx_server
from .tls_servers import (
    DEFAULT_CIPHERS,
    VERSION_SETS,
    OpensslServer,
    TlsServer,
    openssl_s_server,
    python_server_context,
    python_tls_server,
    tls_server,
    tlslite_server,
)

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "::1")

__all__ = [
    "ALERT_HANDSHAKE_FAILURE",
    "CONNECTION_TIMEOUT",
    "DEFAULT_CIPHERS",
    "HUGE_RECORD",
    "LOOPBACK_HOSTS",
    "SERVER_HELLO_TLS12",
    "VERSION_SETS",
    "NginxServerBlock",
    "NginxServers",
    "OpensslServer",
    "ServerAddress",
    "TlsServer",
    "close_server",
    "drip_server",
    "garbage_server",
    "http_server",
    "huge_record_server",
    "nginx_server",
    "openssl_s_server",
    "python_server_context",
    "python_tls_server",
    "reset_server",
    "silent_server",
    "tls_server",
    "tlslite_server",
]
