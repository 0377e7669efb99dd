"""analyse_chain on chains made with cryptography: every defect the certificate rules look for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.probe import pki
from tlsaudit.probe.certificates import (
    CaFileError,
    TrustAnchors,
    analyse_chain,
    hostname_matches,
    load_trust_anchors,
)

NOW = pki.NOW


@pytest.fixture(scope="module")
def chain() -> pki.Pki:
    return pki.make_pki()


def anchors_with(*certs: pki.Issued) -> TrustAnchors:
    return TrustAnchors(system=(), extra=tuple(c.cert for c in certs))


def test_valid_chain_trusted_through_ca_file(chain: pki.Pki, tmp_path: Path) -> None:
    leaf = pki.make_leaf(chain.intermediate)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(chain.root.pem)
    anchors = load_trust_anchors(str(ca_file))
    info = analyse_chain([leaf.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW)
    assert info.trusted is True, info.trust_error
    assert info.trust_error == ""
    assert info.chain_complete is True
    assert info.chain_in_order is True
    assert info.hostname_match is True
    assert info.self_signed is False
    assert info.not_yet_valid is False
    assert info.chain_length == 2
    assert info.key_type == "RSA" and info.key_bits == 2048
    assert info.signature_hash == "sha256"
    assert info.chain_signature_hashes == ("sha256", "sha256")
    assert info.days_left == 90
    assert "DNS:localhost" in info.san and "IP:127.0.0.1" in info.san
    assert "CN=tlsaudit test intermediate" in info.issuer


def test_same_chain_untrusted_without_ca_file(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate)
    anchors = load_trust_anchors(None)
    assert anchors.system, "the OS trust store should be found"
    info = analyse_chain([leaf.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW)
    assert info.trusted is False
    assert info.trust_error
    # The intermediate was sent; only its (private) root is unknown: completeness cannot be told.
    assert info.chain_complete is None


def test_ip_address_and_mismatched_name(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate, names=("www.example.test", "192.0.2.7"))
    anchors = anchors_with(chain.root)
    ders = [leaf.der, chain.intermediate.der]
    assert analyse_chain(ders, hostname="www.example.test", anchors=anchors, now=NOW).hostname_match is True
    assert analyse_chain(ders, hostname="192.0.2.7", anchors=anchors, now=NOW).hostname_match is True
    wrong = analyse_chain(ders, hostname="localhost", anchors=anchors, now=NOW)
    assert wrong.hostname_match is False
    assert wrong.trusted is True, "a name mismatch is its own finding, not a trust failure"
    assert analyse_chain(ders, hostname=None, anchors=anchors, now=NOW).hostname_match is None


def test_hostname_rules() -> None:
    leaf = pki.make_leaf(None, names=("*.example.test", "exact.test", "::1"), cn="cn-only.test").cert
    assert hostname_matches(leaf, "a.example.test")
    assert hostname_matches(leaf, "A.Example.Test.")
    assert not hostname_matches(leaf, "a.b.example.test"), "a wildcard covers one label"
    assert not hostname_matches(leaf, "example.test")
    assert hostname_matches(leaf, "exact.test")
    assert not hostname_matches(leaf, "cn-only.test"), "the CN is not a name, as in every browser"
    assert hostname_matches(leaf, "[::1]")
    assert not hostname_matches(leaf, "127.0.0.1")
    bare_ip = pki.make_leaf(None, names=("127.0.0.1",)).cert
    assert not hostname_matches(bare_ip, "localhost")
    assert not hostname_matches(pki.make_leaf(None, names=("*.test",)).cert, "a.test"), (
        "no public-suffix wildcard"
    )


def test_incomplete_chain(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate)
    only_root = analyse_chain([leaf.der], hostname="localhost", anchors=anchors_with(chain.root), now=NOW)
    assert only_root.chain_complete is False
    assert only_root.trusted is False
    # Supplying the missing intermediate makes the path valid, yet the server still did not send it.
    both = analyse_chain(
        [leaf.der], hostname="localhost", anchors=anchors_with(chain.root, chain.intermediate), now=NOW
    )
    assert both.trusted is True
    assert both.chain_complete is False


def test_wrong_order(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate)
    info = analyse_chain(
        [leaf.der, chain.root.der, chain.intermediate.der],
        hostname="localhost",
        anchors=anchors_with(chain.root),
        now=NOW,
    )
    assert info.chain_in_order is False
    assert info.chain_complete is True
    assert info.trusted is True
    in_order = analyse_chain(
        [leaf.der, chain.intermediate.der, chain.root.der],
        hostname="localhost",
        anchors=anchors_with(chain.root),
        now=NOW,
    )
    assert in_order.chain_in_order is True


def test_expired_and_not_yet_valid(chain: pki.Pki) -> None:
    anchors = anchors_with(chain.root)
    expired = pki.make_leaf(
        chain.intermediate, not_before=NOW - dt.timedelta(days=5), not_after=NOW - dt.timedelta(hours=1)
    )
    ders = [expired.der, chain.intermediate.der]
    info = analyse_chain(ders, hostname="localhost", anchors=anchors, now=NOW)
    assert info.expired is True
    assert info.days_left == 0, "expired an hour ago: less than a whole day ago"
    long_ago = pki.make_leaf(
        chain.intermediate,
        not_before=NOW - dt.timedelta(days=90),
        not_after=NOW - dt.timedelta(days=36, hours=5),
    )
    old = analyse_chain(
        [long_ago.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW
    )
    assert (old.expired, old.days_left) == (True, -36), "expired 36 days (and 5 hours) ago"
    assert info.trusted is True, "expiry is its own finding; the chain is otherwise trusted"
    future = pki.make_leaf(
        chain.intermediate, not_before=NOW + dt.timedelta(days=2), not_after=NOW + dt.timedelta(days=60)
    )
    info = analyse_chain([future.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW)
    assert info.not_yet_valid is True
    assert info.days_left == 60
    assert info.trusted is True
    # An expired certificate from an unknown CA is still untrusted.
    other = anchors_with(pki.make_ca("another root"))
    info = analyse_chain(ders, hostname="localhost", anchors=other, now=NOW)
    assert info.trusted is False and info.trust_error


def test_self_signed() -> None:
    leaf = pki.make_leaf(None)
    info = analyse_chain([leaf.der], hostname="localhost", anchors=load_trust_anchors(None), now=NOW)
    assert info.self_signed is True
    assert info.trusted is False
    assert "self-signed certificate that is not a trust anchor" in info.trust_error
    assert info.chain_complete is True
    assert info.chain_signature_hashes == ()
    pinned = analyse_chain([leaf.der], hostname="localhost", anchors=anchors_with(leaf), now=NOW)
    assert pinned.trusted is True, "a self-signed certificate given as --ca-file is trusted"
    assert pinned.self_signed is True


def test_weak_key_and_weak_signatures(chain: pki.Pki) -> None:
    anchors = anchors_with(chain.root)
    small = pki.make_leaf(chain.intermediate, key_kind="rsa1024")
    info = analyse_chain([small.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW)
    assert (info.key_type, info.key_bits) == ("RSA", 1024)
    # cryptography's Web PKI profile does not check key sizes: that is the job of its own rule.
    assert info.trusted is True, info.trust_error
    for weak in ("sha1", "md5"):
        leaf = pki.make_leaf(chain.intermediate, weak_hash=weak)
        info = analyse_chain(
            [leaf.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW
        )
        assert info.signature_hash == weak
        assert info.chain_signature_hashes == (weak, "sha256")
        assert info.chain_in_order is True, "a weak signature still links the chain"
        assert info.trusted is False


def test_ecdsa(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate, key_kind="p256")
    info = analyse_chain(
        [leaf.der, chain.intermediate.der], hostname="localhost", anchors=anchors_with(chain.root), now=NOW
    )
    assert (info.key_type, info.key_bits) == ("EC", 256)
    assert info.trusted is True, info.trust_error


def test_no_trust_store_is_unknown(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate)
    info = analyse_chain([leaf.der], hostname="localhost", anchors=TrustAnchors(system=()), now=NOW)
    assert info.trusted is None


def test_bad_ca_file(tmp_path: Path) -> None:
    with pytest.raises(CaFileError, match=r"missing\.pem"):
        load_trust_anchors(str(tmp_path / "missing.pem"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(CaFileError, match="no PEM certificate"):
        load_trust_anchors(str(garbage))


def test_garbage_is_a_value_error(chain: pki.Pki) -> None:
    leaf = pki.make_leaf(chain.intermediate)
    with pytest.raises(ValueError):
        analyse_chain([b"\x30\x03\x02\x01\x00"], hostname="localhost", anchors=anchors_with(), now=NOW)
    with pytest.raises(ValueError):
        analyse_chain([leaf.der[:-20]], hostname="localhost", anchors=anchors_with(), now=NOW)
    with pytest.raises(ValueError):
        analyse_chain([], hostname="localhost", anchors=anchors_with(), now=NOW)


def test_a_malformed_name_does_not_hide_a_trusted_chain(chain: pki.Pki) -> None:
    anchors = anchors_with(chain.root)
    mixed = pki.make_leaf(chain.intermediate, names=("exa_mple.test", "localhost"))
    info = analyse_chain([mixed.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW)
    assert info.trusted is True, info.trust_error
    only_bad = pki.make_leaf(chain.intermediate, names=("bad name with spaces",))
    info = analyse_chain(
        [only_bad.der, chain.intermediate.der], hostname="localhost", anchors=anchors, now=NOW
    )
    # OpenSSL-based clients do not judge the syntax of names during path validation: the chain is
    # trusted, the name mismatch is its own fact, and the strict profile's objection is a profile issue.
    assert info.trusted is True
    assert any("name" in issue for issue in info.profile_issues), info.profile_issues
    assert info.hostname_match is False
