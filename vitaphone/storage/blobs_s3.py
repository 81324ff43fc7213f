"""Content-addressed blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, …), through obstore.

Same layout as the local store, under the URL's prefix: `<prefix>/<aa>/<bb>/<sha256>`, so every
host of a fleet reads the portraits the bots wrote and the videos the workers wrote. Objects are
immutable and named by their content, so a put is idempotent: a blob already there is not sent
again, and two hosts writing the same content at once both write identical bytes (S3 replaces an
object atomically; a reader sees one whole copy or the other). Files go up as multipart uploads
streamed from disk; downloads are streamed and checked against their sha256.

`path_for` (for libraries that want a file) keeps downloaded blobs in a local cache directory,
bounded in bytes: the least recently used files go first, never one used in the last minute.

Errors the operator must fix (bucket missing, credentials refused, endpoint unreachable) raise
`BlobStoreUnavailable` with one line naming the setting; a missing blob raises `BlobNotFound`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from vitaphone.storage.blobs import BlobNotFound, BlobStoreUnavailable, _check, sha256_file

# Multipart part size and parallel parts per upload: bounds an upload's memory to ~32 MiB.
_PART_BYTES = 8 * 1024 * 1024
_PARTS_IN_FLIGHT = 4
_READ_CHUNK_BYTES = 1024 * 1024
# Hashing small payloads inline costs less than a thread hop; larger ones go to a thread.
_INLINE_HASH_BYTES = 256 * 1024
# A cached file touched this recently is never evicted (another process may be about to open it).
_CACHE_GRACE_S = 60.0
# S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_S3_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"); ValueError if malformed."""
    if not url.startswith("s3://"):
        raise ValueError("not an S3 URL (expected s3://bucket or s3://bucket/prefix)")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not _BUCKET.match(bucket):
        raise ValueError(
            f"bucket name {bucket!r} is not valid (3-63 lowercase letters, digits, dots, hyphens; "
            "expected s3://bucket or s3://bucket/prefix)")
    prefix = prefix.strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise ValueError(f"prefix {prefix!r} has empty, '.' or '..' parts")
    return bucket, prefix


def _key(sha256: str) -> str:
    sha256 = _check(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class S3BlobStore:
    """Blobs in `s3://bucket/prefix`; `endpoint_url` for anything but AWS itself.

    Credentials not given here come from the usual AWS environment variables or the instance's
    role (obstore reads them), so a fleet on AWS needs no key in its settings.
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, cache_dir: str | Path,
                 cache_max_bytes: int = 2 * 1024**3, max_retries: int = 4,
                 connect_timeout_s: float = 5.0) -> None:
        from obstore.store import S3Store

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.cache_dir = Path(cache_dir)
        self.cache_max_bytes = cache_max_bytes
        config: dict[str, Any] = {}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        if region:
            config["region"] = region
        if access_key_id:
            config["access_key_id"] = access_key_id
        if secret_access_key:
            config["secret_access_key"] = secret_access_key
        # Retries cover blips (5xx, dropped connections) without hiding a dead endpoint for the
        # default three minutes.
        retry = {"max_retries": max_retries, "retry_timeout": timedelta(seconds=60),
                 "backoff": {"init_backoff": timedelta(milliseconds=100),
                             "max_backoff": timedelta(seconds=5), "base": 2}}
        client = {"connect_timeout": timedelta(seconds=connect_timeout_s),
                  "allow_http": bool(endpoint_url and endpoint_url.startswith("http://"))}
        self._store = S3Store(bucket, prefix=self.prefix or None,
                              config=config, client_options=client,  # type: ignore[arg-type]
                              retry_config=retry)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3BlobStore({self.url!r}{where})"

    # --- errors ----------------------------------------------------------------------------
    def _translate(self, exc: Exception, sha256: str | None = None) -> Exception:
        """obstore's error -> BlobNotFound or a one-line BlobStoreUnavailable."""
        from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

        text = str(exc)
        code = (match.group(1) if (match := _S3_CODE.search(text)) else "")
        where = self.endpoint_url or "AWS S3"
        if code == "NoSuchBucket":
            return BlobStoreUnavailable(
                f"VITAPHONE_BLOB_URL: bucket {self.bucket!r} does not exist on {where}.",
                "Create the bucket, or fix VITAPHONE_BLOB_URL / VITAPHONE_S3_ENDPOINT_URL.")
        if isinstance(exc, FileNotFoundError) and sha256 is not None:
            return BlobNotFound(sha256)
        if isinstance(exc, (PermissionDeniedError, UnauthenticatedError)):
            return BlobStoreUnavailable(
                f"VITAPHONE_S3_ACCESS_KEY_ID / VITAPHONE_S3_SECRET_ACCESS_KEY: {where} refused "
                f"them for bucket {self.bucket!r} ({code or 'HTTP 403'}).",
                "Check the key pair, and that it may read, write and delete in the bucket.")
        if "error sending request" in text or "HTTP error" in text or "timed out" in text:
            return BlobStoreUnavailable(
                f"VITAPHONE_S3_ENDPOINT_URL: cannot reach {where} ({_network_reason(text)}).",
                "Check the URL and that the S3 server is running and reachable from this host.")
        return BlobStoreUnavailable(
            f"S3 blob store {self.url} on {where}: {_first_line(text)[:200]}",
            "Check VITAPHONE_BLOB_URL and the VITAPHONE_S3_* settings.")

    def _call(self, fn: Any, *args: Any, sha256: str | None = None, **kwargs: Any) -> Any:
        from obstore.exceptions import BaseError

        try:
            return fn(self._store, *args, **kwargs)
        except (BaseError, FileNotFoundError, OSError) as exc:
            raise self._translate(exc, sha256) from None

    async def _acall(self, fn: Any, *args: Any, sha256: str | None = None, **kwargs: Any) -> Any:
        from obstore.exceptions import BaseError

        try:
            return await fn(self._store, *args, **kwargs)
        except (BaseError, FileNotFoundError, OSError) as exc:
            raise self._translate(exc, sha256) from None

    # --- sync API (worker threads) ---------------------------------------------------------
    def exists(self, sha256: str) -> bool:
        import obstore

        try:
            self._call(obstore.head, _key(sha256), sha256=sha256)
        except BlobNotFound:
            return False
        return True

    def size(self, sha256: str) -> int:
        import obstore

        return int(self._call(obstore.head, _key(sha256), sha256=sha256)["size"])

    def put(self, data: bytes) -> str:
        import obstore

        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self._call(obstore.put, _key(sha256), data, chunk_size=_PART_BYTES,
                       max_concurrency=_PARTS_IN_FLIGHT)
        return sha256

    def put_file(self, path: str | Path) -> str:
        """The file must not change during the call (it is read twice: hash, then upload)."""
        import obstore

        sha256 = sha256_file(path)
        if not self.exists(sha256):
            self._call(obstore.put, _key(sha256), Path(path), chunk_size=_PART_BYTES,
                       max_concurrency=_PARTS_IN_FLIGHT)
        return sha256

    def get(self, sha256: str) -> bytes:
        import obstore

        result = self._call(obstore.get, _key(sha256), sha256=sha256)
        try:
            data = result.bytes().to_bytes()
        except Exception as exc:
            raise self._translate(exc, sha256) from None
        return self._verified(sha256, data)

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def delete(self, sha256: str) -> bool:
        import obstore

        # S3 deletes succeed whether or not the object is there: ask first to report it.
        existed = self.exists(sha256)
        if existed:
            self._call(obstore.delete, _key(sha256), sha256=sha256)
        (self.cache_dir / _key(sha256)).unlink(missing_ok=True)
        return existed

    def fetch_to(self, sha256: str, destination: str | Path) -> Path:
        import obstore

        destination = Path(destination)
        result = self._call(obstore.get, _key(sha256), sha256=sha256)
        handle, tmp = _tempfile_beside(destination)
        try:
            digest = hashlib.sha256()
            with handle:
                try:
                    for chunk in result.stream(min_chunk_size=_READ_CHUNK_BYTES):
                        digest.update(chunk)
                        handle.write(chunk)
                except Exception as exc:
                    raise self._translate(exc, sha256) from None
            self._check_digest(sha256, digest.hexdigest())
            os.replace(tmp, destination)
        finally:
            tmp.unlink(missing_ok=True)
        return destination

    def path_for(self, sha256: str) -> Path:
        cached = self.cache_dir / _key(sha256)
        if cached.is_file():
            os.utime(cached)  # mark it recently used for the eviction order
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        self.fetch_to(sha256, cached)
        self._evict(keep=cached)
        return cached

    # --- async API (event loops) -----------------------------------------------------------
    async def aexists(self, sha256: str) -> bool:
        import obstore

        try:
            await self._acall(obstore.head_async, _key(sha256), sha256=sha256)
        except BlobNotFound:
            return False
        return True

    async def asize(self, sha256: str) -> int:
        import obstore

        return int((await self._acall(obstore.head_async, _key(sha256), sha256=sha256))["size"])

    async def aput(self, data: bytes) -> str:
        import obstore

        sha256 = await _ahash(data)
        if not await self.aexists(sha256):
            await self._acall(obstore.put_async, _key(sha256), data, chunk_size=_PART_BYTES,
                              max_concurrency=_PARTS_IN_FLIGHT)
        return sha256

    async def aput_file(self, path: str | Path) -> str:
        import obstore

        sha256 = await asyncio.to_thread(sha256_file, path)
        if not await self.aexists(sha256):
            # obstore reads the file on its own threads, streaming parts as it goes.
            await self._acall(obstore.put_async, _key(sha256), Path(path), chunk_size=_PART_BYTES,
                              max_concurrency=_PARTS_IN_FLIGHT)
        return sha256

    async def aget(self, sha256: str) -> bytes:
        import obstore

        result = await self._acall(obstore.get_async, _key(sha256), sha256=sha256)
        try:
            data = (await result.bytes_async()).to_bytes()
        except Exception as exc:
            raise self._translate(exc, sha256) from None
        self._check_digest(sha256, await _ahash(data))
        return data

    async def adelete(self, sha256: str) -> bool:
        import obstore

        existed = await self.aexists(sha256)
        if existed:
            await self._acall(obstore.delete_async, _key(sha256), sha256=sha256)
        (self.cache_dir / _key(sha256)).unlink(missing_ok=True)
        return existed

    async def afetch_to(self, sha256: str, destination: str | Path) -> Path:
        import obstore

        destination = Path(destination)
        result = await self._acall(obstore.get_async, _key(sha256), sha256=sha256)
        handle, tmp = await asyncio.to_thread(_tempfile_beside, destination)
        digest = hashlib.sha256()

        def write(chunk: bytes) -> None:
            digest.update(chunk)
            handle.write(chunk)

        try:
            try:
                async for chunk in result.stream(min_chunk_size=_READ_CHUNK_BYTES):
                    await asyncio.to_thread(write, chunk)  # hashing and disk stay off the loop
            except Exception as exc:
                raise self._translate(exc, sha256) from None
            finally:
                await asyncio.to_thread(handle.close)
            self._check_digest(sha256, digest.hexdigest())
            await asyncio.to_thread(os.replace, tmp, destination)
        finally:
            tmp.unlink(missing_ok=True)
        return destination

    # --- helpers ---------------------------------------------------------------------------
    def _verified(self, sha256: str, data: bytes) -> bytes:
        self._check_digest(sha256, hashlib.sha256(data).hexdigest())
        return data

    def _check_digest(self, sha256: str, actual: str) -> None:
        if actual != sha256:
            raise BlobStoreUnavailable(
                f"{self.url}: object {_key(sha256)} is corrupt (its bytes hash to {actual[:12]}…).",
                "Delete it so the next write stores it again, and check the storage server.")

    def _evict(self, keep: Path) -> None:
        """Delete least recently used cache files until the cache fits `cache_max_bytes`."""
        entries = []
        total = 0
        for path in self.cache_dir.glob("??/??/*"):
            if path.name.startswith("."):  # a download in progress
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # another process evicted it meanwhile
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
            total += stat.st_size
        if total <= self.cache_max_bytes:
            return
        recent = time.time() - _CACHE_GRACE_S
        for mtime, size, path in sorted(entries):
            if total <= self.cache_max_bytes:
                break
            if path == keep or mtime > recent:
                continue
            path.unlink(missing_ok=True)
            total -= size


def _tempfile_beside(destination: Path) -> tuple[BinaryIO, Path]:
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".incoming-", dir=destination.parent)
    return os.fdopen(fd, "wb"), Path(name)


async def _ahash(data: bytes) -> str:
    if len(data) <= _INLINE_HASH_BYTES:
        return hashlib.sha256(data).hexdigest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())


def _network_reason(text: str) -> str:
    """The OS's words from obstore's debug dump ("Connection refused"), else a short summary."""
    if match := re.search(r'message: "([^"]{1,80})"', text):
        return match.group(1)
    lowered = text.lower()
    if "dns error" in lowered:
        return "host name not found"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out"
    return "no connection"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no detail"
