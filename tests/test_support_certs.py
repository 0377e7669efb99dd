"""The certificate factory produces exactly the certificates the specs ask for."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from tests.support.certs import XSS_COMMON_NAME, CertSpec, KeyType, SignatureHash, Validity, make_cert


def _load(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_default_chain_is_leaf_intermediate_root() -> None:
    files = make_cert()
    leaf, intermediate = _load(files.chain)
    (root,) = _load(files.ca)
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert files.intermediate is not None
    assert _load(files.intermediate) == [intermediate]
    assert _load(files.leaf) == [leaf]


def test_same_spec_is_cached() -> None:
    spec = CertSpec(common_name="cached.test")
    assert make_cert(spec) is make_cert(spec)


@pytest.mark.parametrize(
    ("key_type", "key_class", "size"),
    [
        (KeyType.RSA_1024, rsa.RSAPublicKey, 1024),
        (KeyType.RSA_2048, rsa.RSAPublicKey, 2048),
        (KeyType.EC_P256, ec.EllipticCurvePublicKey, 256),
    ],
)
def test_key_types(key_type: KeyType, key_class: type, size: int) -> None:
    (leaf, _) = _load(make_cert(CertSpec(key_type=key_type)).chain)
    key = leaf.public_key()
    assert isinstance(key, key_class)
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    assert key.key_size == size


def test_sha1_signature() -> None:
    (leaf, intermediate) = _load(make_cert(CertSpec(signature_hash=SignatureHash.SHA1)).chain)
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA1)
    issuer_key = intermediate.public_key()
    assert isinstance(issuer_key, rsa.RSAPublicKey)
    issuer_key.verify(leaf.signature, leaf.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())


@pytest.mark.parametrize("validity", list(Validity))
def test_validity_windows(validity: Validity) -> None:
    (leaf, _) = _load(make_cert(CertSpec(validity=validity)).chain)
    now = datetime.datetime.now(datetime.UTC)
    valid_now = leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc
    assert valid_now is (validity is Validity.VALID)
    if validity is Validity.EXPIRED:
        assert leaf.not_valid_after_utc < now
    if validity is Validity.NOT_YET_VALID:
        assert leaf.not_valid_before_utc > now


def test_self_signed_leaf_is_its_own_anchor() -> None:
    files = make_cert(CertSpec(self_signed=True))
    (leaf,) = _load(files.chain)
    assert leaf.issuer == leaf.subject
    leaf.verify_directly_issued_by(leaf)
    assert files.ca == files.leaf
    assert files.intermediate is None


def test_attacker_controlled_subject_is_kept_verbatim() -> None:
    spec = CertSpec(common_name=XSS_COMMON_NAME, organization='"><img src=x onerror=alert(2)>', sans=())
    (leaf, _) = _load(make_cert(spec).chain)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == XSS_COMMON_NAME
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == spec.organization
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
