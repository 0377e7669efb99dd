"""The one error hierarchy. Expected failures become recorded results; anything else is a bug."""


class TlsAuditError(Exception):
    """Base class of every error tlsaudit raises on purpose."""


class UsageError(TlsAuditError):
    """Bad command-line input: exit code 2."""


class TargetsFileError(UsageError):
    """A line of a targets file cannot be parsed."""

    def __init__(self, source: str, line_no: int, line: str, reason: str) -> None:
        super().__init__(f"{source}:{line_no}: {reason}: {line.strip()!r}")
        self.source = source
        self.line_no = line_no
        self.reason = reason


class TargetsFileErrors(UsageError):
    """Several lines of a targets file cannot be parsed: one message line per problem."""

    def __init__(self, problems: list[TargetsFileError]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class RuleFileError(UsageError):
    """A rule or policy file is invalid; the message names file, rule and line."""

    def __init__(
        self, path: str, message: str, *, line: int | None = None, rule_id: str | None = None
    ) -> None:
        where = path if line is None else f"{path}:{line}"
        if rule_id:
            where += f" [{rule_id}]"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.rule_id = rule_id


class ReportInputError(UsageError):
    """A saved JSON report cannot be read back."""


class PeerError(TlsAuditError):
    """The peer sent something that is not valid TLS. A fact about the server, never a crash."""


class NotTlsError(PeerError):
    """The peer's first bytes are not TLS at all (another protocol, or noise)."""


class ProbeError(TlsAuditError):
    """A network-level failure during a probe (timeout, refused, reset)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
