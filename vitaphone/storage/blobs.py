"""Content-addressed blob storage: portraits, voice samples, audio and output videos by sha256.

`BlobStore` is the small interface the rest of Vitaphone uses; `LocalBlobStore` keeps files on
local disk under `<root>/<aa>/<bb>/<sha256>`, `S3BlobStore` (blobs_s3.py) keeps the same layout in
an S3-compatible bucket shared by a fleet of hosts. `open_blob_store(settings)` picks one from
`VITAPHONE_BLOB_URL`. Writes are atomic (temporary file, fsync, rename), so a reader never sees
half a blob and two writers of the same content cannot corrupt it.

Every method has an `a`-prefixed twin for async callers, which never blocks the event loop; the
plain ones are for code already running in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

from vitaphone.core.errors import VitaphoneError

if TYPE_CHECKING:
    from vitaphone.config import Settings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK_BYTES = 1 << 20


class BlobNotFound(KeyError):
    """No blob with this sha256 in the store."""


class BlobStoreUnavailable(VitaphoneError):
    """The store cannot be used: bucket missing, credentials refused, endpoint unreachable.

    `message` is one line naming the setting to fix; `hint` says what to do. Not a
    UserFacingError: it is the operator's to fix (a job fails "Something went wrong" or retries).
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


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

    def size(self, sha256: str) -> int:
        """The blob's length in bytes (without fetching it); BlobNotFound if absent."""
        ...

    def path_for(self, sha256: str) -> Path:
        """A local file holding the blob (for libraries that want a path); BlobNotFound if absent."""
        ...

    def delete(self, sha256: str) -> bool:
        """Remove the blob; True if it existed."""
        ...

    def fetch_to(self, sha256: str, destination: str | Path) -> Path:
        """Write the blob to `destination` (streamed; its folder is created); BlobNotFound if
        absent, and then `destination` is left untouched."""
        ...

    # Async twins: same contracts, never block the event loop.
    async def aput(self, data: bytes) -> str: ...

    async def aput_file(self, path: str | Path) -> str: ...

    async def aget(self, sha256: str) -> bytes: ...

    async def aexists(self, sha256: str) -> bool: ...

    async def asize(self, sha256: str) -> int: ...

    async def adelete(self, sha256: str) -> bool: ...

    async def afetch_to(self, sha256: str, destination: str | Path) -> Path: ...


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

    def size(self, sha256: str) -> int:
        return self.path_for(sha256).stat().st_size

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

    def fetch_to(self, sha256: str, destination: str | Path) -> Path:
        destination = Path(destination)
        source = self.path_for(sha256)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        return destination

    # Local disk I/O has no async API: each call runs in a thread.
    async def aput(self, data: bytes) -> str:
        return await asyncio.to_thread(self.put, data)

    async def aput_file(self, path: str | Path) -> str:
        return await asyncio.to_thread(self.put_file, path)

    async def aget(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self.get, sha256)

    async def aexists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.exists, sha256)

    async def asize(self, sha256: str) -> int:
        return await asyncio.to_thread(self.size, sha256)

    async def adelete(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.delete, sha256)

    async def afetch_to(self, sha256: str, destination: str | Path) -> Path:
        return await asyncio.to_thread(self.fetch_to, sha256, destination)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"


def open_blob_store(settings: Settings) -> BlobStore:
    """The store `settings` name: `VITAPHONE_BLOB_URL=s3://bucket/prefix` -> S3BlobStore; a
    directory there -> LocalBlobStore of it; unset -> LocalBlobStore of `blob_dir`.

    Builds a client but makes no request: a wrong bucket or key shows on first use (or in
    `vitaphone doctor`, through `probe_blob_store`).
    """
    url = settings.blob_url
    if url is None:
        return LocalBlobStore(settings.blobs_path)
    if not url.startswith("s3://"):
        return LocalBlobStore(Path(url).expanduser().absolute())
    from vitaphone.storage.blobs_s3 import S3BlobStore, parse_s3_url

    bucket, prefix = parse_s3_url(url)
    secret = settings.s3_secret_access_key
    return S3BlobStore(
        bucket, prefix, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
        cache_dir=settings.data_dir / "blob-cache", cache_max_bytes=settings.blob_cache_max_bytes)


def probe_blob_store(store: BlobStore) -> None:
    """Write, read back and delete a small unique blob; raises what the store raises.

    Unique content, so concurrent probes from several hosts never delete each other's blob.
    """
    data = f"vitaphone blob store probe {uuid.uuid4()}".encode()
    sha256 = store.put(data)
    try:
        if store.get(sha256) != data:
            raise BlobStoreUnavailable(f"{store!r}: a probe blob read back different bytes.",
                                       "Check the storage server's health.")
    finally:
        store.delete(sha256)


def copy_out(store: BlobStore, sha256: str, destination: str | Path) -> Path:
    """Write the blob to `destination` (e.g. to hand a user their video); returns the path."""
    destination = Path(destination)
    with store.open(sha256) as source, open(destination, "wb") as target:
        shutil.copyfileobj(source, target, _CHUNK_BYTES)
    return destination
