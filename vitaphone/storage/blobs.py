"""Content-addressed blob storage: portraits, voice samples, audio and output videos by sha256.

`BlobStore` is the small interface the rest of Vitaphone uses; `LocalBlobStore` keeps files on
local disk under `<root>/<aa>/<bb>/<sha256>`. A multi-host deployment can add an S3-compatible
store implementing the same Protocol. Writes are atomic (temporary file, fsync, rename), so a
reader never sees half a blob and two writers of the same content cannot corrupt it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK_BYTES = 1 << 20


class BlobNotFound(KeyError):
    """No blob with this sha256 in the store."""


@runtime_checkable
class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; return its sha256 (64 lowercase hex). Idempotent."""
        ...

    def put_file(self, path: str | Path) -> str:
        """Store a copy of the file at `path` (streamed, any size); return its sha256."""
        ...

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; BlobNotFound if absent."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A binary file object to read the blob; BlobNotFound if absent."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def path_for(self, sha256: str) -> Path:
        """A local file holding the blob (for libraries that want a path); BlobNotFound if absent."""
        ...

    def delete(self, sha256: str) -> bool:
        """Remove the blob; True if it existed."""
        ...


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _check(sha256: str) -> str:
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return sha256


class LocalBlobStore:
    """Blobs as files under `root` (created on first write)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _location(self, sha256: str) -> Path:
        sha256 = _check(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _commit(self, tmp: Path, sha256: str) -> str:
        final = self._location(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)  # atomic on POSIX; the same content may race here harmlessly
        return sha256

    def _tempfile(self) -> tuple[BinaryIO, Path]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        return os.fdopen(fd, "wb"), Path(name)

    def put(self, data: bytes) -> str:
        sha256 = sha256_bytes(data)
        if self.exists(sha256):
            return sha256
        handle, tmp = self._tempfile()
        try:
            with handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            return self._commit(tmp, sha256)
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(self, path: str | Path) -> str:
        digest = hashlib.sha256()
        handle, tmp = self._tempfile()
        try:
            with handle, open(path, "rb") as source:
                while chunk := source.read(_CHUNK_BYTES):
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            sha256 = digest.hexdigest()
            return sha256 if self.exists(sha256) else self._commit(tmp, sha256)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._location(sha256).is_file()

    def path_for(self, sha256: str) -> Path:
        location = self._location(sha256)
        if not location.is_file():
            raise BlobNotFound(sha256)
        return location

    def delete(self, sha256: str) -> bool:
        location = self._location(sha256)
        try:
            location.unlink()
        except FileNotFoundError:
            return False
        return True

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"


def copy_out(store: BlobStore, sha256: str, destination: str | Path) -> Path:
    """Write the blob to `destination` (e.g. to hand a user their video); returns the path."""
    destination = Path(destination)
    with store.open(sha256) as source, open(destination, "wb") as target:
        shutil.copyfileobj(source, target, _CHUNK_BYTES)
    return destination
