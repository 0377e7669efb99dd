# -*- coding: utf-8 -*-
"""tlsaudit fleet collector: what a host's TLS client runtimes are, as raw observations, in one JSON document.

Runs unchanged on Python 2.7 and 3.6+ with the standard library alone (checked with vermin), as a single
file copied to the host (`python collector.py`, or Ansible's `script` module). It judges nothing: it finds the
runtimes (the same places tlsaudit's inspectors look), runs the same commands with the same snippets, reads the
same files (java.security, openssl.cnf and its includes, ...), and prints what it saw. The controller turns
these observations into facts with tlsaudit's own inspectors (tlsaudit.fleet.observed), so a runtime is
described by one definition whether it is inspected locally or on a fleet host.

Never crashes: anything it cannot read or run is recorded (a run's failure, a file's error, `errors[]`), and
it always exits 0 after printing the document.

Output: {"format": "tlsaudit-collector", "format_version": 1, "host", "collected_at", "os", "platform",
"env" (the TLS-relevant variables only), "targets": [{"kind", "path"}], "runs": [{"key", "argv", "exit_code",
"stdout", "stderr", "failure", "started", "truncated"}], "files": {path: {"type": "file"|"dir"|"missing",
"text"|"entries"|"error"}}, "globs": {pattern: [paths]}, "errors": [...]}
"""

from __future__ import print_function

import base64
import fnmatch
import glob
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FORMAT = "tlsaudit-collector"
FORMAT_VERSION = 1
TIMEOUT = 20.0
MAX_OUTPUT = 256 * 1024
FILES_DIR = "{files}"  # in a command's key: the directory the command's files were written to
MAX_TEXT = 512 * 1024
MAX_INCLUDE_DEPTH = 8

# Environment variables sent back (never the whole environment): what the inspectors read.
ENV_NAMES = (
    "PATH",
    "HOME",
    "JAVA_HOME",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
    "OPENSSL_CONF",
    "OPENSSL_MODULES",
    "CURL_SSL_BACKEND",
    "DOTNET_ROOT",
    "NODE_OPTIONS",
    "PYENV_ROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
)

# ------------------------------------------------------------------ what the inspectors run (kept equal to
# tlsaudit.inspectors.* by tests/fleet/test_collector_drift.py)

PHP_SNIPPET = "$o = array('php_version' => PHP_VERSION, 'sapi' => PHP_SAPI);\n$o['curl_loaded'] = extension_loaded('curl');\n$o['openssl_loaded'] = extension_loaded('openssl');\n$o['curl'] = function_exists('curl_version') ? curl_version() : null;\n$o['openssl_header'] = defined('OPENSSL_VERSION_TEXT') ? OPENSSL_VERSION_TEXT : null;\n$o['transports'] = stream_get_transports();\n$o['php_ini'] = function_exists('php_ini_loaded_file') ? php_ini_loaded_file() : null;\nob_start(); phpinfo(8); $i = ob_get_clean();\nif (preg_match('/^OpenSSL Library Version => (.*)$/m', $i, $m)) { $o['openssl_library'] = trim($m[1]); }\nelseif (preg_match('/^OpenSSL Version => (.*)$/m', $i, $m)) { $o['openssl_library'] = trim($m[1]); }\nif (preg_match('/^OpenSSL Header Version => (.*)$/m', $i, $m)) { $o['openssl_header_info'] = trim($m[1]); }\necho \"TLSAUDIT-JSON:\", json_encode($o), \"\\n\";"  # noqa: E501
PYTHON_SNIPPET = "import sys, json\no = {'python_version': '%d.%d.%d' % tuple(sys.version_info[:3]), 'implementation': sys.version.split()[0]}\ntry:\n    import ssl\nexcept Exception as e:\n    o['ssl_error'] = repr(e)\nelse:\n    o['openssl_version'] = getattr(ssl, 'OPENSSL_VERSION', None)\n    o['openssl_version_info'] = list(getattr(ssl, 'OPENSSL_VERSION_INFO', ()))\n    o['has_tls12'] = getattr(ssl, 'HAS_TLSv1_2', None)\n    o['has_tls13'] = getattr(ssl, 'HAS_TLSv1_3', None)\n    o['protocol_tlsv1_2'] = hasattr(ssl, 'PROTOCOL_TLSv1_2')\n    o['has_sni'] = getattr(ssl, 'HAS_SNI', None)\n    try:\n        o['openssl_cafile'] = ssl.get_default_verify_paths().openssl_cafile\n    except Exception:\n        pass\n    try:\n        c = ssl.create_default_context()\n        for k in ('minimum_version', 'maximum_version'):\n            v = getattr(c, k, None)\n            o[k] = None if v is None else getattr(v, 'name', str(v))\n        o['security_level'] = getattr(c, 'security_level', None)\n    except Exception as e:\n        o['context_error'] = repr(e)\ntry:\n    import sysconfig\n    args = sysconfig.get_config_var('CONFIG_ARGS') or ''\n    o['default_suites_openssl'] = '--with-ssl-default-suites=openssl' in args\nexcept Exception:\n    pass\nsys.stdout.write('TLSAUDIT-JSON:' + json.dumps(o) + '\\n')"  # noqa: E501
NODE_SNIPPET = "var t=require('tls');var v=process.versions;console.log('TLSAUDIT-JSON:'+JSON.stringify({node:v.node,openssl:v.openssl||null,min:t.DEFAULT_MIN_VERSION||null,max:t.DEFAULT_MAX_VERSION||null,node_options:process.env.NODE_OPTIONS||null}))"  # noqa: E501
JAVA_PROBE_CLASS = "TlsauditProbe"
JAVA_PROBE_B64 = (
    "yv66vgAAADEAggEADVRsc2F1ZGl0UHJvYmUHAAEBABBqYXZhL2xhbmcvT2JqZWN0BwADAQAQamF2YS9sYW5nL1N5c3RlbQc"
    "ABQEAA291dAEAFUxqYXZhL2lvL1ByaW50U3RyZWFtOwwABwAICQAGAAkBABNqYXZhL2lvL1ByaW50U3RyZWFtBwALAQAFcHJpbnQ"
    "BABUoTGphdmEvbGFuZy9TdHJpbmc7KVYMAA0ADgoADAAPAQAHcHJpbnRsbgwAEQAOCgAMABIBABUoTGphdmEvbGFuZy9PYmplY3Q"
    "7KVYMABEAFAoADAAVAQALZ2V0UHJvcGVydHkBACYoTGphdmEvbGFuZy9TdHJpbmc7KUxqYXZhL2xhbmcvU3RyaW5nOwwAFwAYCgA"
    "GABkBABZqYXZhL3NlY3VyaXR5L1NlY3VyaXR5BwAbCgAcABkBAB5qYXZheC9uZXQvc3NsL1NTTFNvY2tldEZhY3RvcnkHAB4BAAp"
    "nZXREZWZhdWx0AQAbKClMamF2YXgvbmV0L1NvY2tldEZhY3Rvcnk7DAAgACEKAB8AIgEAF2phdmF4L25ldC9Tb2NrZXRGYWN0b3J"
    "5BwAkAQAMY3JlYXRlU29ja2V0AQATKClMamF2YS9uZXQvU29ja2V0OwwAJgAnCgAlACgBABdqYXZheC9uZXQvc3NsL1NTTFNvY2t"
    "ldAcAKgEAE2dldEVuYWJsZWRQcm90b2NvbHMBABUoKVtMamF2YS9sYW5nL1N0cmluZzsMACwALQoAKwAuAQAVZ2V0U3VwcG9ydGV"
    "kUHJvdG9jb2xzDAAwAC0KACsAMQEAEGphdmEvdXRpbC9BcnJheXMHADMBAAZhc0xpc3QBACUoW0xqYXZhL2xhbmcvT2JqZWN0Oyl"
    "MamF2YS91dGlsL0xpc3Q7DAA1ADYKADQANwEAEnByb3AuamF2YS52ZXJzaW9uPQgAOQEADGphdmEudmVyc2lvbggAOwEAEXByb3A"
    "uamF2YS52ZW5kb3I9CAA9AQALamF2YS52ZW5kb3IIAD8BABlwcm9wLmphdmEudmVuZG9yLnZlcnNpb249CABBAQATamF2YS52ZW5"
    "kb3IudmVyc2lvbggAQwEAF3Byb3AuamF2YS5ydW50aW1lLm5hbWU9CABFAQARamF2YS5ydW50aW1lLm5hbWUIAEcBABpwcm9wLmp"
    "hdmEucnVudGltZS52ZXJzaW9uPQgASQEAFGphdmEucnVudGltZS52ZXJzaW9uCABLAQAScHJvcC5qYXZhLnZtLm5hbWU9CABNAQA"
    "MamF2YS52bS5uYW1lCABPAQAUcHJvcC5qYXZhLnZtLnZlbmRvcj0IAFEBAA5qYXZhLnZtLnZlbmRvcggAUwEAFXByb3AuamF2YS5"
    "2bS52ZXJzaW9uPQgAVQEAD2phdmEudm0udmVyc2lvbggAVwEAD3Byb3AuamF2YS5ob21lPQgAWQEACWphdmEuaG9tZQgAWwEAIHB"
    "yb3AuamF2YS5zcGVjaWZpY2F0aW9uLnZlcnNpb249CABdAQAaamF2YS5zcGVjaWZpY2F0aW9uLnZlcnNpb24IAF8BAB5wcm9wLmp"
    "kay50bHMuY2xpZW50LnByb3RvY29scz0IAGEBABhqZGsudGxzLmNsaWVudC5wcm90b2NvbHMIAGMBABVwcm9wLmh0dHBzLnByb3R"
    "vY29scz0IAGUBAA9odHRwcy5wcm90b2NvbHMIAGcBAB5wcm9wLmphdmEuc2VjdXJpdHkucHJvcGVydGllcz0IAGkBABhqYXZhLnN"
    "lY3VyaXR5LnByb3BlcnRpZXMIAGsBACZwcm9wLmNvbS5pYm0uanNzZTIub3ZlcnJpZGVEZWZhdWx0VExTPQgAbQEAIGNvbS5pYm0"
    "uanNzZTIub3ZlcnJpZGVEZWZhdWx0VExTCABvAQArcHJvcC5jb20uaWJtLmpzc2UyLm92ZXJyaWRlRGVmYXVsdFByb3RvY29sPQg"
    "AcQEAJWNvbS5pYm0uanNzZTIub3ZlcnJpZGVEZWZhdWx0UHJvdG9jb2wIAHMBACRzZWN1cml0eS5qZGsudGxzLmRpc2FibGVkQWx"
    "nb3JpdGhtcz0IAHUBABpqZGsudGxzLmRpc2FibGVkQWxnb3JpdGhtcwgAdwEAEmRlZmF1bHQucHJvdG9jb2xzPQgAeQEAFHN1cHB"
    "vcnRlZC5wcm90b2NvbHM9CAB7AQAMcHJvYmUuZW5kPW9rCAB9AQAEQ29kZQEABG1haW4BABYoW0xqYXZhL2xhbmcvU3RyaW5nOyl"
    "WACEAAgAEAAAAAAABAAkAgACBAAEAfwAAAZwAAwACAAABkLIAChMAOrYAELIAChMAPLgAGrYAE7IAChMAPrYAELIAChMAQLgAGrY"
    "AE7IAChMAQrYAELIAChMARLgAGrYAE7IAChMARrYAELIAChMASLgAGrYAE7IAChMASrYAELIAChMATLgAGrYAE7IAChMATrYAELI"
    "AChMAULgAGrYAE7IAChMAUrYAELIAChMAVLgAGrYAE7IAChMAVrYAELIAChMAWLgAGrYAE7IAChMAWrYAELIAChMAXLgAGrYAE7I"
    "AChMAXrYAELIAChMAYLgAGrYAE7IAChMAYrYAELIAChMAZLgAGrYAE7IAChMAZrYAELIAChMAaLgAGrYAE7IAChMAarYAELIAChM"
    "AbLgAGrYAE7IAChMAbrYAELIAChMAcLgAGrYAE7IAChMAcrYAELIAChMAdLgAGrYAE7IAChMAdrYAELIAChMAeLgAHbYAE7gAI7Y"
    "AKcAAK0yyAAoTAHq2ABCyAAortgAvuAA4tgAWsgAKEwB8tgAQsgAKK7YAMrgAOLYAFrIAChMAfrYAE7EAAAAAAAA="
)

PHP_NAME = r"php(\d+(\.\d+)?)?(\.exe)?"
PYTHON_NAME = r"python(\d+(\.\d+)?)?(\.exe)?"
NODE_NAME = r"(node|nodejs)(\.exe)?"
CURL_NAME = r"curl(\.exe)?"
OPENSSL_NAME = r"openssl(\.exe)?"
BROWSER_NAMES = r"(chromium|chromium-browser|google-chrome(-stable)?|microsoft-edge(-stable)?|msedge|firefox(-esr)?)(\.exe)?"
BROWSER_EXEC_LINE = r"^\s*exec\s+\"?([A-Za-z0-9_./+-]+)\"?(?:\s|$)"
BROWSER_SCRIPT_LIMIT = 16384
BROWSER_PLACES = (
    "/opt/google/chrome/chrome",
    "/opt/microsoft/msedge/msedge",
    "/usr/lib/firefox-esr/firefox-esr",
    "/usr/lib/firefox/firefox",
)
PHP_GLOBS = (
    "/opt/remi/php*/root/usr/bin/php",
    "/opt/cpanel/ea-php*/root/usr/bin/php",
    "/opt/alt/php*/usr/bin/php",
    "/usr/local/php*/bin/php",
    "/opt/homebrew/opt/php*/bin/php",
    "/usr/local/opt/php*/bin/php",
)
PYTHON_GLOBS = (
    "/opt/python*/bin/python*",
    "/usr/local/opt/python*/bin/python*",
    "/opt/rh/*/root/usr/bin/python*",
)
JAVA_HOME_GLOBS = (
    "/usr/lib/jvm/*",
    "/usr/java/*",
    "/opt/*",
    "/opt/ibm/java*",
    "/opt/*/jdk*",
    "/opt/*/java*",
    "/Library/Java/JavaVirtualMachines/*/Contents/Home",
    "/System/Library/Java/JavaVirtualMachines/*/Contents/Home",
)
DOTNET_PLACES = (
    "/usr/share/dotnet/dotnet",
    "/usr/lib/dotnet/dotnet",
    "/usr/local/share/dotnet/dotnet",
    "/opt/dotnet/dotnet",
)
LIBSSL_GLOBS = ("/usr/lib*/**/libssl.so.*", "/lib*/**/libssl.so.*")
MONO_NAME = r"mono(\.exe)?"
MONO_PLACES = (
    "/usr/bin/mono",
    "/usr/local/bin/mono",
    "/opt/mono/bin/mono",
    "/Library/Frameworks/Mono.framework/Versions/Current/bin/mono",
)
KINDS = ("php", "java", "dotnet", "python", "curl", "openssl", "node", "browser", "mono")

_JAVA_VERSION_LINE = re.compile(r'^\s*(?:java|openjdk) version "([^"]+)"', re.MULTILINE)
_JAVA_VERSION_LINE_9 = re.compile(r"^\s*(?:java|openjdk) (\d+(?:\.\d+)*)\b", re.MULTILINE)

try:  # Python 2
    text_type = unicode  # type: ignore[name-defined]  # noqa: F821
except NameError:
    text_type = str


def _text(data):
    """Bytes as text the way the controller decodes a local run's output (UTF-8, undecodable bytes
    replaced)."""
    if isinstance(data, text_type):
        return data
    return data.decode("utf-8", "replace")


def _native(value):
    """A str of this Python (bytes on 2.7) for paths and argv."""
    if sys.version_info[0] < 3 and isinstance(value, text_type):
        return value.encode("utf-8")
    return value


def _strerror(exc):
    return getattr(exc, "strerror", None) or str(exc)


def _os_error(exc):
    """What a local read would have said: str(OSError) with errno and strerror."""
    return {"errno": getattr(exc, "errno", None), "strerror": _strerror(exc), "message": str(exc)}


class _Reader(threading.Thread):
    def __init__(self, stream):
        threading.Thread.__init__(self)
        self.daemon = True
        self.stream = stream
        self.data = bytearray()
        self.truncated = False

    def run(self):
        try:
            while True:
                chunk = self.stream.read(65536)
                if not chunk:
                    break
                room = MAX_OUTPUT - len(self.data)
                if room > 0:
                    self.data.extend(chunk[:room])
                if len(chunk) > max(room, 0):
                    self.truncated = True
        except (OSError, IOError, ValueError):
            pass


class Collector(object):
    def __init__(self, env=None, timeout=TIMEOUT):
        self.env = dict(os.environ if env is None else env)
        self.timeout = timeout
        self.runs = []
        self.files = {}
        self.globs = {}
        self.errors = []
        self.targets = []
        self._run_keys = set()

    # -------------------------------------------------------------- recorded I/O

    def run(self, argv, files=None):
        """Run argv (argv[0] absolute) like tlsaudit's runner: fresh working directory, stdin closed, a
        timeout, bounded output. `files` (name -> bytes) are written to a directory that replaces FILES_DIR."""
        key = list(argv)
        if tuple(key) in self._run_keys:
            return self._find(key)
        self._run_keys.add(tuple(key))
        record = {"key": key, "argv": key, "exit_code": None, "stdout": "", "stderr": "", "started": False}
        self.runs.append(record)
        program = argv[0]
        if not os.path.isfile(program) or not os.access(program, os.X_OK):
            reason = "not found" if not os.path.exists(program) else "not an executable file"
            record["failure"] = "%s: %s" % (program, reason)
            return record
        workdir = tempfile.mkdtemp(prefix="tlsaudit-run-")
        filesdir = None
        try:
            if files:
                filesdir = tempfile.mkdtemp(prefix="tlsaudit-files-")
                for name, data in files.items():
                    with open(os.path.join(filesdir, name), "wb") as handle:
                        handle.write(data)
                argv = [filesdir if a == FILES_DIR else a for a in argv]
                record["argv"] = list(argv)
            self._execute(record, [_native(a) for a in argv], workdir)
        except Exception as exc:  # never crash on a host
            record["failure"] = "cannot run %s: %s" % (program, _strerror(exc))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            if filesdir:
                shutil.rmtree(filesdir, ignore_errors=True)
        return record

    def _find(self, key):
        for record in self.runs:
            if record["key"] == key:
                return record
        return {}

    def _execute(self, record, argv, workdir):
        kwargs = {}
        if os.name != "nt":
            kwargs["preexec_fn"] = os.setsid
        try:
            devnull = open(os.devnull, "rb")
        except (OSError, IOError):
            devnull = None
        try:
            proc = subprocess.Popen(
                argv,
                stdin=devnull,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict((_native(k), _native(v)) for k, v in self.env.items()),
                cwd=workdir,
                **kwargs
            )
        except (OSError, IOError) as exc:
            record["failure"] = "cannot run %s: %s" % (argv[0], _strerror(exc))
            if devnull:
                devnull.close()
            return
        record["started"] = True
        readers = (_Reader(proc.stdout), _Reader(proc.stderr))
        for reader in readers:
            reader.start()
        deadline = time.time() + self.timeout
        timed_out = False
        while proc.poll() is None:
            if time.time() >= deadline:
                timed_out = True
                self._kill(proc)
                break
            time.sleep(0.02)
        for reader in readers:
            reader.join(5)
        for stream in (proc.stdout, proc.stderr, devnull):
            try:
                if stream:
                    stream.close()
            except (OSError, IOError):
                pass
        code = None if timed_out else proc.returncode
        record["exit_code"] = code
        record["stdout"] = _text(bytes(readers[0].data))
        record["stderr"] = _text(bytes(readers[1].data))
        record["truncated"] = [n for n, r in zip(("stdout", "stderr"), readers) if r.truncated]
        if timed_out:
            record["failure"] = "timed out after %gs" % self.timeout

    def _kill(self, proc):
        try:
            if os.name != "nt":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (OSError, IOError):
            pass
        for _ in range(250):
            if proc.poll() is not None:
                return
            time.sleep(0.02)

    def stat(self, path):
        """Record what `path` is (file, dir with its entries, missing); returns the record."""
        if path in self.files:
            return self.files[path]
        if os.path.isfile(path):
            entry = {"type": "file"}
        elif os.path.isdir(path):
            entry = {"type": "dir"}
            try:
                entry["entries"] = sorted(_text(n) if not isinstance(n, str) else n for n in os.listdir(path))
            except (OSError, IOError) as exc:
                entry["error"] = _os_error(exc)
        else:
            entry = {"type": "missing"}
        self.files[path] = entry
        return entry

    def read(self, path):
        """The text of a file (recorded); None when it is not a readable file."""
        entry = self.stat(path)
        if entry["type"] != "file":
            return None
        if "text" in entry:
            return entry["text"]
        if "error" in entry:
            return None
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_TEXT)
        except (OSError, IOError) as exc:
            entry["error"] = _os_error(exc)
            return None
        entry["text"] = _text(data)
        return entry["text"]

    def glob(self, pattern):
        """Sorted matches of an absolute pattern (`**` matches any depth), recorded."""
        if pattern not in self.globs:
            try:
                self.globs[pattern] = sorted(set(_glob(pattern)))
            except Exception as exc:
                self.errors.append("glob %s: %s" % (pattern, exc))
                self.globs[pattern] = []
        return self.globs[pattern]

    # -------------------------------------------------------------- discovery (as the inspectors do it)

    def path_dirs(self):
        return [p for p in self.env.get("PATH", "").split(os.pathsep) if p and os.path.isabs(p)]

    def on_path(self, pattern):
        found = []
        regex = re.compile("(?:%s)\\Z" % pattern)
        for directory in self.path_dirs() + ["/usr/bin", "/usr/local/bin"]:
            try:
                names = sorted(os.listdir(directory))
            except (OSError, IOError):
                continue
            for name in names:
                path = os.path.join(directory, name)
                if regex.match(name) and os.path.isfile(path) and os.access(path, os.X_OK):
                    if not _is_shim(path):
                        found.append(path)
        return found

    def discover(self, kind):
        method = getattr(self, "discover_" + kind)
        found = _dedupe(method())
        return self.without_launchers(found) if kind == "browser" else found

    def launcher_target(self, script):
        """The browser a small launcher script finally runs (Debian's /usr/bin/firefox), else None."""
        try:
            with open(script, "rb") as handle:
                head = handle.read(BROWSER_SCRIPT_LIMIT + 1)
        except (OSError, IOError):
            return None
        if not head.startswith(b"#!") or len(head) > BROWSER_SCRIPT_LIMIT:
            return None
        words = re.findall(BROWSER_EXEC_LINE, _text(head), re.MULTILINE)
        if not words:
            return None
        word = words[-1]
        if "/" in word:
            return word if os.path.isabs(word) else None
        for directory in self.path_dirs():
            candidate = os.path.join(directory, word)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    def without_launchers(self, paths):
        """Launcher scripts that only start another browser of the list are left out (as the inspector)."""
        resolved = dict((p, os.path.realpath(p)) for p in paths)
        kept = []
        for path in paths:
            target = self.launcher_target(path)
            others = set(resolved[p] for p in paths if p != path)
            if target is not None and not os.path.exists(path + ".real") and os.path.realpath(target) in others:
                continue
            kept.append(path)
        return kept

    def discover_php(self):
        return self.on_path(PHP_NAME) + [p for p in _glob_all(PHP_GLOBS) if os.path.isfile(p)]

    def discover_python(self):
        regex = re.compile("(?:%s)\\Z" % PYTHON_NAME)
        roots = [self.env.get("PYENV_ROOT", ""), os.path.join(os.path.expanduser("~"), ".pyenv")]
        patterns = ["%s/versions/*/bin/python*" % r for r in roots if r and r.startswith("/")]
        patterns += list(PYTHON_GLOBS)
        found = [p for p in _glob_all(patterns) if regex.match(os.path.basename(p)) and os.path.isfile(p)]
        return self.on_path(PYTHON_NAME) + found

    def discover_node(self):
        return self.on_path(NODE_NAME)

    def discover_curl(self):
        return self.on_path(CURL_NAME)

    def discover_openssl(self):
        return self.on_path(OPENSSL_NAME)

    def discover_browser(self):
        return self.on_path(BROWSER_NAMES) + [p for p in BROWSER_PLACES if os.path.isfile(p)]

    def discover_mono(self):
        return self.on_path(MONO_NAME) + [p for p in MONO_PLACES if os.path.isfile(p)]

    def discover_dotnet(self):
        name = "dotnet.exe" if os.name == "nt" else "dotnet"
        system = [os.path.join(d, name) for d in self.path_dirs()] + list(DOTNET_PLACES)
        if self.env.get("DOTNET_ROOT", "").startswith("/"):
            system.append(os.path.join(self.env["DOTNET_ROOT"], name))
        return [p for p in system if os.path.isfile(p) and not _is_shim(p)]

    def discover_java(self):
        exe = "java.exe" if os.name == "nt" else "java"
        found = []
        for directory in self.path_dirs():
            candidate = os.path.join(directory, exe)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                if not _is_shim(candidate):
                    found.append(candidate)
                break
        home = self.env.get("JAVA_HOME")
        if home and os.path.isabs(home):
            java = _java_from_home(home)
            if java:
                found.append(java)
        for home in _glob_all(JAVA_HOME_GLOBS):
            if os.path.isdir(home):
                java = _java_from_home(home)
                if java:
                    found.append(java)
        for tool in ("/usr/bin/update-alternatives", "/usr/sbin/alternatives"):
            if os.path.isfile(tool):
                record = self.run([tool, "--list", "java"])
                found += [
                    line.strip()
                    for line in record.get("stdout", "").splitlines()
                    if line.strip().startswith("/")
                ]
                break
        if sys.platform == "darwin" and os.path.isfile("/usr/libexec/java_home"):
            record = self.run(["/usr/libexec/java_home", "-V"])
            output = "\n".join(p for p in (record.get("stdout"), record.get("stderr")) if p)
            for home in re.findall(r"\s(/\S.*?/Contents/Home)\s*$", output, re.MULTILINE):
                java = _java_from_home(home)
                if java:
                    found.append(java)
        return [p for p in found if os.path.isfile(p)]

    # -------------------------------------------------------------- inspection (the same reads and runs)

    def gather(self, kind, target):
        getattr(self, "gather_" + kind)(target)

    def gather_php(self, target):
        self.run([target, "-r", PHP_SNIPPET])

    def gather_node(self, target):
        self.run([target, "-e", NODE_SNIPPET])

    def gather_curl(self, target):
        self.run([target, "--version"])

    def gather_mono(self, target):
        # The version only: the TLS-defaults probe is C# built with the host's mcs, not shipped yet.
        self.run([target, "--version"])

    def gather_browser(self, target):
        self.run([target, "--version"])

    def gather_dotnet(self, target):
        record = self.run([target, "--list-runtimes"])
        if record.get("exit_code") == 0 and sys.platform.startswith("linux"):
            for pattern in LIBSSL_GLOBS:
                self.glob(pattern)

    def gather_python(self, target):
        record = self.run([target, "-E", "-s", "-c", PYTHON_SNIPPET])
        payload = _payload(record.get("stdout", ""))
        if payload is None or payload.get("maximum_version") is not None:
            return
        if self.env.get("OPENSSL_CONF"):
            path = self.env["OPENSSL_CONF"]
        elif (
            isinstance(payload.get("openssl_cafile"), (str, text_type)) and payload["openssl_cafile"].strip()
        ):
            path = os.path.join(os.path.dirname(payload["openssl_cafile"].strip()), "openssl.cnf")
        else:
            return
        self.read_openssl_config(path)

    def gather_openssl(self, target):
        record = self.run([target, "version", "-a"])
        if record.get("exit_code") != 0:
            return
        if self.env.get("OPENSSL_CONF"):
            path = self.env["OPENSSL_CONF"]
        else:
            m = re.search(r'^OPENSSLDIR:\s*"([^"]*)"', record.get("stdout", ""), re.MULTILINE)
            if not m:
                return
            path = os.path.join(m.group(1), "openssl.cnf")
        self.read_openssl_config(path)

    def read_openssl_config(self, path, depth=0):
        text = self.read(path)
        if text is None:
            return
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            m = re.match(r"^\.include\s*=?\s*(.+)$", line)
            if not m or depth >= MAX_INCLUDE_DEPTH:
                continue
            target = m.group(1).strip().strip('"')
            if not os.path.isabs(target):
                target = os.path.join(os.path.dirname(path), target)
            entry = self.stat(target)
            if entry["type"] == "dir":
                names = entry.get("entries", [])
                items = [n for n in names if fnmatch.fnmatch(n, "*.cnf")]
                items += [n for n in names if fnmatch.fnmatch(n, "*.conf")]
                for name in items:
                    self.read_openssl_config(os.path.join(target, name), depth + 1)
            else:
                self.read_openssl_config(target, depth + 1)

    def gather_java(self, target):
        first = self.run([target, "-XshowSettings:security:tls", "-version"])
        output = "\n".join(p for p in (first.get("stdout"), first.get("stderr")) if p)
        if first.get("exit_code") != 0 or not (
            _JAVA_VERSION_LINE.search(output) or _JAVA_VERSION_LINE_9.search(output)
        ):
            plain = self.run([target, "-version"])
            if plain.get("exit_code") != 0:
                return
        probe = self.run(
            [target, "-cp", FILES_DIR, JAVA_PROBE_CLASS],
            files={JAVA_PROBE_CLASS + ".class": base64.b64decode(JAVA_PROBE_B64)},
        )
        home = None
        for line in probe.get("stdout", "").splitlines():
            if line.startswith("prop.java.home="):
                value = line[len("prop.java.home=") :]
                home = None if value in ("", "null") else value
        parent = os.path.dirname(os.path.dirname(target))
        for base in ([home] if home else [parent]) + [parent]:
            for candidate in _java_security_paths(base):
                if self.stat(candidate)["type"] == "file":
                    self.read(candidate)
                    return

    # -------------------------------------------------------------- the document

    def collect(self, kinds=KINDS):
        for kind in kinds:
            try:
                targets = self.discover(kind)
            except Exception as exc:
                self.errors.append("discovering %s: %s" % (kind, exc))
                continue
            for target in targets:
                self.targets.append({"kind": kind, "path": target})
                try:
                    self.gather(kind, target)
                except Exception as exc:
                    self.errors.append("inspecting %s %s: %s" % (kind, target, exc))
        return self.document()

    def document(self):
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "host": _hostname(),
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "collector_python": "%d.%d.%d" % tuple(sys.version_info[:3]),
            "os": os_facts(self),
            "platform": "linux" if sys.platform.startswith("linux") else sys.platform,
            "home": os.path.expanduser("~"),
            "env": relevant_env(self.env),
            "targets": self.targets,
            "runs": self.runs,
            "files": self.files,
            "globs": self.globs,
            "errors": self.errors,
        }


def relevant_env(env):
    return dict((k, v) for k, v in env.items() if k in ENV_NAMES)


def os_facts(collector):
    facts = {"system": platform.system(), "release": platform.release(), "machine": platform.machine()}
    text = collector.read("/etc/os-release") if os.path.isfile("/etc/os-release") else None
    collector.files.pop("/etc/os-release", None)
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("ID", "VERSION_ID", "PRETTY_NAME"):
            facts[key.lower()] = value.strip().strip('"')
    return facts


def _hostname():
    try:
        return socket.gethostname()
    except Exception:
        return ""


def _payload(text):
    for line in text.splitlines():
        if line.startswith("TLSAUDIT-JSON:"):
            try:
                value = json.loads(line[len("TLSAUDIT-JSON:") :])
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _java_from_home(home):
    exe = "java.exe" if os.name == "nt" else "java"
    for candidate in (os.path.join(home, "bin", exe), os.path.join(home, "jre", "bin", exe)):
        if os.path.isfile(candidate):
            return candidate
    return None


def _java_security_paths(home):
    return [
        os.path.join(home, "conf", "security", "java.security"),
        os.path.join(home, "jre", "lib", "security", "java.security"),
        os.path.join(home, "lib", "security", "java.security"),
    ]


def _is_shim(path):
    return "shims" in [p.lower() for p in path.split(os.sep)]


def _dedupe(paths):
    seen = set()
    out = []
    for path in paths:
        path = os.path.abspath(path)
        try:
            key = os.path.realpath(path)
        except (OSError, IOError):
            key = path
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _glob_all(patterns):
    out = []
    for pattern in patterns:
        out.extend(sorted(_glob(pattern)))
    return out


def _glob(pattern):
    """glob.glob with `**` meaning any depth (Python 2.7's glob has no recursive mode)."""
    if "/**/" not in pattern:
        return glob.glob(pattern)
    head, tail = pattern.split("/**/", 1)
    found = []
    for top in glob.glob(head):
        if not os.path.isdir(top):
            continue
        for directory, dirs, names in os.walk(top):
            dirs.sort()
            found.extend(os.path.join(directory, n) for n in names if fnmatch.fnmatch(n, tail))
            found.extend(os.path.join(directory, n) for n in dirs if fnmatch.fnmatch(n, tail))
    return found


def main():
    try:
        document = Collector().collect()
    except Exception as exc:  # the last resort: still one JSON document and exit 0
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "host": _hostname(),
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "errors": ["collector failed: %r" % (exc,)],
            "targets": [],
            "runs": [],
            "files": {},
            "globs": {},
            "env": {},
            "os": {},
        }
    text = json.dumps(document, sort_keys=True)
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except Exception:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
