"""C2PA Content Credentials for our MP4s: the signing chain, signing, and reading back.

Signing is the last step of making a video (after the label and the watermark are in the
pixels and the file is encoded): c2pa-python hashes the MP4's boxes (bmffHash) and embeds a
manifest saying "created by a trained algorithm" (IPTC trainedAlgorithmicMedia), by Vitaphone
of this version, plus our own `org.vitaphone.provenance` assertion with the provenance id, the
watermark payload and the consent basis. No personal data goes in the manifest.

The certificate chain is created on first use in the data directory (an ES256 root CA and a
leaf with the key usages C2PA validators require), unless the operator provides a certificate
chain and key. A manifest signed by our own root reads `Valid` anywhere (the signature and
hashes check out) and `Trusted` where our root is given as a trust anchor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from vitaphone.core.errors import ConfigError

ASSERTION_LABEL = "org.vitaphone.provenance"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
# Our chain lives in <data dir>/CREDENTIALS_SUBDIR; the root certificate is the trust anchor.
CREDENTIALS_SUBDIR = "c2pa"
ROOT_CERT_FILE = "root-ca.pem"
_CHAIN_FILE, _KEY_FILE = "signer-chain.pem", "signer-key.pem"

# What a manifest's validation says, mapped from c2pa-python's `validation_state` (Invalid /
# Valid / Trusted) and its failure codes:
# absent     no manifest (never signed, or stripped: most apps drop it when they re-encode);
# trusted    intact, and the signer chains to a root we were told to trust;
# untrusted  intact (signature and hashes check out) but the signer is not on our trust list;
# valid      intact, and no trust list was given, so the signer was not checked at all;
# invalid    the file changed after signing, or the signature or certificate is bad.
STATUS_ABSENT, STATUS_VALID, STATUS_UNTRUSTED, STATUS_TRUSTED, STATUS_INVALID = (
    "absent",
    "valid",
    "untrusted",
    "trusted",
    "invalid",
)
# Failure codes about who signed, not about what was signed: on their own (state Valid) they
# mean "intact, signer unknown here", never "tampered".
TRUST_CODES = frozenset({"signingCredential.untrusted"})


@dataclass(frozen=True)
class SigningCredentials:
    """PEM bytes: the chain (leaf first), the leaf's private key, and the root to trust (None
    for an operator's chain whose root we do not hold)."""

    cert_chain_pem: bytes
    private_key_pem: bytes
    trust_anchor_pem: bytes | None

    def __repr__(self) -> str:
        # The private key must never reach a log or a traceback (and the certificates are noise).
        anchor = "yes" if self.trust_anchor_pem else "no"
        return (
            f"SigningCredentials(chain={self.cert_chain_pem.count(b'BEGIN CERTIFICATE')} "
            f"certificate(s), private_key=<hidden>, trust_anchor={anchor})"
        )


@dataclass(frozen=True)
class ProvenanceAssertion:
    """Our assertion's content: ids that lead to the provenance record, nothing personal."""

    watermark_payload_hex: str
    consent_basis: str
    provenance_id: str | None = None
    job_id: str | None = None
    instance: str = "vitaphone"

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class CredentialsReport:
    """status: absent | valid | untrusted | trusted | invalid (see STATUS_*); manifest_id: the
    active manifest's label; failures: c2pa's failure codes, e.g. assertion.bmffHash.mismatch
    (invalid) or signingCredential.untrusted (untrusted); validation_state: c2pa's own word."""

    status: str
    manifest_id: str | None = None
    claim_generator: str | None = None
    digital_source_type: str | None = None
    assertion: dict[str, Any] | None = None
    signer: str | None = None
    failures: tuple[str, ...] = field(default_factory=tuple)
    validation_state: str | None = None


# --- the signing chain ------------------------------------------------------------------------
def load_or_create_credentials(
    directory: Path, *, cert_path: Path | None = None, key_path: Path | None = None
) -> SigningCredentials:
    """The operator's chain + key when both paths are given, else ours from `directory`
    (created there on first use: root CA, leaf chain, leaf key; the root's key is discarded)."""
    if cert_path is not None or key_path is not None:
        if cert_path is None or key_path is None:
            raise ConfigError(
                "Only one of the C2PA certificate and key was given.", "Give both or neither."
            )
        return SigningCredentials(Path(cert_path).read_bytes(), Path(key_path).read_bytes(), None)
    paths = [directory / name for name in (ROOT_CERT_FILE, _CHAIN_FILE, _KEY_FILE)]
    if not all(p.is_file() for p in paths):
        _write_new_chain(directory)
    root, chain, key = (p.read_bytes() for p in paths)
    return SigningCredentials(chain, key, root)


def _write_new_chain(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    root_pem, chain_pem, key_pem = create_chain()
    for name, data, mode in (
        (ROOT_CERT_FILE, root_pem, 0o644),
        (_CHAIN_FILE, chain_pem, 0o644),
        (_KEY_FILE, key_pem, 0o600),
    ):
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.replace(directory / name)  # atomic: a crash never leaves half a key


def create_chain(common_name: str = "Vitaphone") -> tuple[bytes, bytes, bytes]:
    """(root certificate PEM, leaf + root chain PEM, leaf private key PEM), all ES256 (P-256).

    The leaf carries what C2PA's validators check: digitalSignature only, CA:false, the EKUs
    emailProtection, documentSigning and C2PA claimSigning, subject and authority key ids.
    """
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} local root CA"),
        ]
    )
    root = (
        _builder(root_name, root_name, root_key.public_key(), now, years=20)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} content signer"),
        ]
    )
    ekus = [ExtendedKeyUsageOID.EMAIL_PROTECTION, _DOCUMENT_SIGNING, _C2PA_CLAIM_SIGNING]
    leaf = (
        _builder(leaf_name, root_name, leaf_key.public_key(), now, years=5)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    root_pem = root.public_bytes(pem)
    return root_pem, leaf.public_bytes(pem) + root_pem, key_pem


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key, now: dt.datetime, years: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * years))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --- signing ----------------------------------------------------------------------------------
def sign_mp4(
    src: Path,
    dest: Path,
    credentials: SigningCredentials,
    assertion: ProvenanceAssertion,
    *,
    version: str,
) -> str:
    """Write `dest`: `src` (an unfragmented MP4) with an embedded, signed C2PA manifest.
    Returns the manifest id (its label, `urn:c2pa:...`). `dest` must differ from `src`."""
    manifest = {
        "claim_generator_info": [{"name": "Vitaphone", "version": version}],
        "title": dest.name,
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": "Vitaphone", "version": version},
                        }
                    ]
                },
            },
            {"label": ASSERTION_LABEL, "data": assertion.as_json()},
        ],
    }
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, credentials.cert_chain_pem, credentials.private_key_pem, None
    )
    settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    with (
        c2pa.Context(settings) as context,
        c2pa.Builder(manifest, context) as builder,
        c2pa.Signer.from_info(info) as signer,
        open(src, "rb") as source,
        open(dest, "w+b") as out,
    ):
        builder.sign(signer, "video/mp4", source, out)
    report = read_credentials(dest)
    if report.manifest_id is None:
        raise RuntimeError(f"C2PA signing wrote no readable manifest into {dest}")
    return report.manifest_id


# --- reading ----------------------------------------------------------------------------------
def read_credentials(path: Path, trust_anchor_pem: bytes | None = None) -> CredentialsReport:
    """Read and validate the C2PA manifest of `path`.

    absent: no manifest; invalid: c2pa says Invalid (one flipped byte in the video reads
    `assertion.bmffHash.mismatch`); trusted: intact and chaining to `trust_anchor_pem`;
    untrusted: intact, but the signer does not chain to `trust_anchor_pem`; valid: intact and
    no trust anchor given (the signer was not checked).
    """
    config: dict[str, Any] = {"verify": {"verify_trust": trust_anchor_pem is not None}}
    if trust_anchor_pem is not None:
        config["trust"] = {"trust_anchors": trust_anchor_pem.decode()}
    try:
        with c2pa.Context(c2pa.Settings.from_dict(config)) as context, open(path, "rb") as handle:
            reader = c2pa.Reader.try_create("video/mp4", handle, context=context)
            if reader is None:
                return CredentialsReport(STATUS_ABSENT)
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as err:
        # A manifest is there but cannot even be parsed: as bad as a failed signature.
        return CredentialsReport(STATUS_INVALID, failures=(type(err).__name__,))
    return _report(store)


def _report(store: dict[str, Any]) -> CredentialsReport:
    manifest_id = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(manifest_id, {}) if manifest_id else {}
    assertions = {a.get("label"): a.get("data") for a in manifest.get("assertions", [])}
    actions = (assertions.get("c2pa.actions.v2") or assertions.get("c2pa.actions") or {}).get(
        "actions", []
    )
    created = next((a for a in actions if a.get("action") == "c2pa.created"), {})
    generator = manifest.get("claim_generator_info", [{}])[0]
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = tuple(f.get("code", "?") for f in results.get("failure", []))
    state = store.get("validation_state", "")
    status = _status(state, failures)
    return CredentialsReport(
        status=status,
        manifest_id=manifest_id,
        claim_generator=" ".join(str(generator.get(k, "")) for k in ("name", "version")).strip()
        or None,
        digital_source_type=created.get("digitalSourceType"),
        assertion=assertions.get(ASSERTION_LABEL),
        signer=(manifest.get("signature_info") or {}).get("common_name"),
        failures=failures,
        validation_state=state or None,
    )


def _status(state: str, failures: tuple[str, ...]) -> str:
    """c2pa's validation_state + failure codes -> one of STATUS_* (faithfully: a signer we do not
    trust is not a file that was changed)."""
    if state == "Trusted" and not failures:
        return STATUS_TRUSTED
    if state in ("Valid", "Trusted"):
        if not failures:
            return STATUS_VALID
        if set(failures) <= TRUST_CODES:
            return STATUS_UNTRUSTED
    return STATUS_INVALID  # "Invalid", an unknown state, or failures beyond trust
