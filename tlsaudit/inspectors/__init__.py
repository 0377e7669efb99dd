"""Local client runtimes (PHP/cURL, Java, .NET, Python, curl, OpenSSL, Node): find them, inspect them."""

from tlsaudit.inspectors.base import InspectOptions
from tlsaudit.inspectors.discover import INSPECTORS, discover_runtimes, inspect_runtimes

__all__ = ["INSPECTORS", "InspectOptions", "discover_runtimes", "inspect_runtimes"]
