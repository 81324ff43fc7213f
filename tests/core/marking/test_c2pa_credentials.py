"""Content Credentials: our chain, a signed MP4 that reads Valid / Trusted, and tampering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from tests.core.marking.clips import PAYLOAD, as_frames
from vitaphone.core.marking import c2pa_credentials as cc
from vitaphone.core.media.encode import encode_mp4

ASSERTION = cc.ProvenanceAssertion(
    PAYLOAD, "public_domain_historical", provenance_id="7", job_id="job42"
)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> cc.SigningCredentials:
    return cc.load_or_create_credentials(tmp_path_factory.mktemp("data") / cc.CREDENTIALS_SUBDIR)


@pytest.fixture(scope="module")
def unsigned(portrait_clip: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("c2pa") / "unsigned.mp4"
    tone = (0.1 * np.sin(np.arange(48000) * 2 * np.pi * 220 / 16000)).astype(np.float32)
    encode_mp4(as_frames(portrait_clip[:25]), tone, 16000, path)
    return path


@pytest.fixture(scope="module")
def signed(unsigned: Path, credentials: cc.SigningCredentials) -> tuple[Path, str]:
    path = unsigned.with_name("signed.mp4")
    return path, cc.sign_mp4(unsigned, path, credentials, ASSERTION, version="0.1.0")


def test_chain_is_created_once_with_the_c2pa_key_usages(tmp_path: Path) -> None:
    first = cc.load_or_create_credentials(tmp_path)
    again = cc.load_or_create_credentials(tmp_path)
    assert first == again
    assert oct((tmp_path / "signer-key.pem").stat().st_mode & 0o777) == "0o600"
    leaf, root = x509.load_pem_x509_certificates(first.cert_chain_pem)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    ekus = set(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
        ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),
    } <= ekus
    assert leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert first.trust_anchor_pem == (tmp_path / cc.ROOT_CERT_FILE).read_bytes()


def test_signed_file_reads_valid_with_the_expected_assertions(signed: tuple[Path, str]) -> None:
    path, manifest_id = signed
    report = cc.read_credentials(path)
    assert report.status == cc.STATUS_VALID
    assert report.manifest_id == manifest_id and manifest_id.startswith("urn:")
    assert report.claim_generator == "Vitaphone 0.1.0"
    assert report.digital_source_type == cc.TRAINED_ALGORITHMIC_MEDIA
    assert report.assertion == {
        "watermark_payload_hex": PAYLOAD,
        "consent_basis": "public_domain_historical",
        "provenance_id": "7",
        "job_id": "job42",
        "instance": "vitaphone",
    }


def test_trusted_with_our_root_as_anchor(
    signed: tuple[Path, str], credentials: cc.SigningCredentials
) -> None:
    assert cc.read_credentials(signed[0], credentials.trust_anchor_pem).status == cc.STATUS_TRUSTED


def test_another_root_reads_untrusted_not_tampered(signed: tuple[Path, str]) -> None:
    """An intact file whose signer is not on our trust list: c2pa says Valid with the one code
    signingCredential.untrusted, which is "signed by someone we do not trust", not "changed"."""
    stranger_root, _, _ = cc.create_chain("Someone else")
    report = cc.read_credentials(signed[0], stranger_root)
    assert report.status == cc.STATUS_UNTRUSTED
    assert report.failures == ("signingCredential.untrusted",)
    assert report.validation_state == "Valid"


def test_no_trust_list_reads_valid(signed: tuple[Path, str]) -> None:
    report = cc.read_credentials(signed[0])
    assert (report.status, report.failures, report.validation_state) == (
        cc.STATUS_VALID, (), "Valid")  # fmt: skip


def test_tampered_file_signed_by_a_stranger_reads_invalid(
    signed: tuple[Path, str], tmp_path: Path
) -> None:
    data = bytearray(signed[0].read_bytes())
    data[len(data) * 2 // 3] ^= 0x01
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    stranger_root, _, _ = cc.create_chain("Someone else")
    report = cc.read_credentials(tampered, stranger_root)
    assert report.status == cc.STATUS_INVALID and report.validation_state == "Invalid"
    assert "assertion.bmffHash.mismatch" in report.failures


def test_repr_hides_the_private_key(credentials: cc.SigningCredentials) -> None:
    from vitaphone.core.pipeline import Marking

    marking = Marking(watermark_payload_hex=PAYLOAD, credentials=credentials, consent_basis="self")
    key_body = credentials.private_key_pem.decode().splitlines()[1]
    for text in (repr(credentials), str(credentials), repr(marking), str(marking)):
        assert "PRIVATE KEY" not in text and key_body not in text
        assert "private_key=<hidden>" in text


def test_one_flipped_byte_reads_invalid(
    signed: tuple[Path, str], tmp_path: Path, credentials: cc.SigningCredentials
) -> None:
    data = bytearray(signed[0].read_bytes())
    data[len(data) * 2 // 3] ^= 0x01  # inside the media data
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = cc.read_credentials(tampered, credentials.trust_anchor_pem)
    assert report.status == cc.STATUS_INVALID
    assert any("mismatch" in code for code in report.failures)


def test_unsigned_file_reads_absent(unsigned: Path) -> None:
    assert cc.read_credentials(unsigned).status == cc.STATUS_ABSENT


def test_operator_chain_is_used_as_given(tmp_path: Path, unsigned: Path) -> None:
    _, chain, key = cc.create_chain("Operator")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    creds = cc.load_or_create_credentials(
        tmp_path / "ours", cert_path=tmp_path / "chain.pem", key_path=tmp_path / "key.pem"
    )
    assert creds.trust_anchor_pem is None and not (tmp_path / "ours").exists()
    out = tmp_path / "operator.mp4"
    cc.sign_mp4(unsigned, out, creds, ASSERTION, version="0.1.0")
    assert cc.read_credentials(out).signer == "Operator content signer"
