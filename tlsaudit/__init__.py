"""tlsaudit: TLS readiness compliance scanner."""

__version__ = "0.1.0"
