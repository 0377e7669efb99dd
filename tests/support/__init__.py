"""Real loopback servers, certificates and runtimes for the tlsaudit test suite.

from tests.support.servers import python_tls_server
from tests.support.certs import CertSpec, make_cert
"""
