# tlsaudit capture client: urllib with the default context, as an application would use it.
# Usage: python probe.py URL    (runs on Python 2.7 and 3.x)
# Prints "OK <detail>" (exit 0) or "FAIL <error>" (exit 1).
import sys

try:
    from urllib.request import urlopen
except ImportError:  # Python 2
    from urllib2 import urlopen  # type: ignore[import-not-found,no-redef]

try:
    response = urlopen(sys.argv[1], timeout=15)
    response.read()
    print("OK HTTP %s" % response.getcode())  # noqa: UP031  (runs on Python 2 too)
except Exception as exc:  # every failure is the answer we report
    print("FAIL %s: %s" % (exc.__class__.__name__, exc))  # noqa: UP031
    sys.exit(1)
