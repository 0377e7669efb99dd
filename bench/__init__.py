"""Benchmark of tlsaudit's version sweep against sslscan and sslyze on loopback endpoints."""
