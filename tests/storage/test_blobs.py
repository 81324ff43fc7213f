"""The local content-addressed blob store: its on-disk layout and streamed puts. The contract
it shares with the S3 store (hash checks, concurrent writers, missing blobs, async twins) runs
on both stores in test_blobs_s3.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import vitaphone
from vitaphone.storage.blobs import BlobNotFound, BlobStore, LocalBlobStore, copy_out, sha256_file

PORTRAIT = Path(vitaphone.__file__).parent / "assets" / "einstein.jpg"


def test_put_get_exists_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    assert isinstance(store, BlobStore)
    data = PORTRAIT.read_bytes()
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.exists(sha) and store.get(sha) == data
    assert store.path_for(sha) == tmp_path / "blobs" / sha[:2] / sha[2:4] / sha
    with store.open(sha) as handle:
        assert handle.read(4) == data[:4]
    assert store.put(data) == sha  # idempotent
    assert store.delete(sha) and not store.exists(sha) and not store.delete(sha)
    with pytest.raises(BlobNotFound):
        store.get(sha)
    assert not [p for p in (tmp_path / "blobs").iterdir() if p.name.startswith(".incoming-")]


def test_put_file_streams_and_matches(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    big = tmp_path / "big.bin"
    big.write_bytes(PORTRAIT.read_bytes() * 50)  # ~2.5 MB: several read chunks
    sha = store.put_file(big)
    assert sha == sha256_file(big)
    assert store.get(sha) == big.read_bytes()
    out = copy_out(store, sha, tmp_path / "out.bin")
    assert out.read_bytes() == big.read_bytes()
    assert store.put_file(big) == sha
