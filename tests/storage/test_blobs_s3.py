"""The blob stores' shared contract, on local disk and on a real S3-compatible server.

A session fixture starts moto's standalone S3 server (`python -m moto.server`) on a free port of
127.0.0.1 with IAM authentication on, so wrong keys are refused as on AWS; each test writes under
its own prefix. Without moto the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unreachable
from vitaphone.config import load_settings
from vitaphone.storage.blobs import (BlobNotFound, BlobStore, BlobStoreUnavailable, LocalBlobStore,
                                     copy_out, open_blob_store, probe_blob_store, sha256_file)

ASSETS = Path(__file__).parents[1] / "assets"
PORTRAIT = ASSETS / "portraits" / "einstein.jpg"
BUCKET = "vitaphone-test"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"

    def client(self):  # boto3: an independent client to look inside the bucket
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_http(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer from {url} after {timeout_s:g} s") from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 with bucket BUCKET and an IAM user's keys that may use it."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    log = log_path.open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    try:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                    "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                   env=env)
    except OSError as exc:
        unreachable("moto S3 server (pip install 'moto[server]')", exc)
    try:
        try:
            _wait_for_http(f"{endpoint}/moto-api/data.json", process, 30)
            server = _provision(endpoint)
        except Exception as exc:
            tail = log_path.read_text(errors="replace")[-300:]
            unreachable(f"moto S3 server on {endpoint} ({tail!r})", exc)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _provision(endpoint: str) -> S3Server:
    """Create the bucket and a user with its keys, then make moto check every signature."""
    import boto3

    anyone = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup",
                  aws_secret_access_key="setup")
    iam = boto3.client("iam", **anyone)
    iam.create_user(UserName="vitaphone")
    iam.put_user_policy(UserName="vitaphone", PolicyName="blobs", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="vitaphone")["AccessKey"]
    boto3.client("s3", **anyone).create_bucket(Bucket=BUCKET)
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=5).read()
    return S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])


def _object_key(prefix: str, sha: str) -> str:
    return f"{prefix}/{sha[:2]}/{sha[2:4]}/{sha}"


def _s3_store(server: S3Server, cache_dir: Path, **overrides) -> BlobStore:
    from vitaphone.storage.blobs_s3 import S3BlobStore

    options = dict(endpoint_url=server.endpoint_url, region=server.region,
                   access_key_id=server.access_key_id, secret_access_key=server.secret_access_key,
                   cache_dir=cache_dir)
    options.update(overrides)
    bucket = options.pop("bucket", BUCKET)
    prefix = options.pop("prefix", f"t-{secrets.token_hex(4)}")
    return S3BlobStore(bucket, prefix, **options)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same contract tests on both stores."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return _s3_store(request.getfixturevalue("s3_server"), tmp_path / "cache")


# --- the shared contract ----------------------------------------------------------------------
def test_put_get_exists_delete(store: BlobStore, tmp_path: Path) -> None:
    assert isinstance(store, BlobStore)
    data = PORTRAIT.read_bytes()
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.exists(sha) and store.get(sha) == data and store.size(sha) == len(data)
    assert store.path_for(sha).read_bytes() == data
    with store.open(sha) as handle:
        assert handle.read(4) == data[:4]
    assert store.fetch_to(sha, tmp_path / "copy.jpg").read_bytes() == data
    assert store.put(data) == sha  # idempotent
    assert store.delete(sha) and not store.exists(sha) and not store.delete(sha)
    with pytest.raises(BlobNotFound):
        store.get(sha)


async def test_async_twins(store: BlobStore, tmp_path: Path) -> None:
    data = PORTRAIT.read_bytes()
    sha = await store.aput(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert await store.aexists(sha) and await store.aget(sha) == data
    assert await store.asize(sha) == len(data)
    out = await store.afetch_to(sha, tmp_path / "sub" / "out.jpg")
    assert out.read_bytes() == data
    source = tmp_path / "voice.bin"
    source.write_bytes(os.urandom(300_000))
    file_sha = await store.aput_file(source)
    assert file_sha == sha256_file(source) and store.get(file_sha) == source.read_bytes()
    assert await store.adelete(sha) and not await store.aexists(sha)
    assert not await store.adelete(sha)


def test_missing_blob(store: BlobStore, tmp_path: Path) -> None:
    absent = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
    assert not store.exists(absent) and not store.delete(absent)
    for call in (store.get, store.size, store.path_for, store.open,
                 lambda sha: store.fetch_to(sha, tmp_path / "never")):
        with pytest.raises(BlobNotFound):
            call(absent)
    assert not (tmp_path / "never").exists()
    assert not list(tmp_path.glob("**/.incoming-*"))  # no half-written file left behind


async def test_missing_blob_async(store: BlobStore, tmp_path: Path) -> None:
    absent = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
    assert not await store.aexists(absent)
    with pytest.raises(BlobNotFound):
        await store.asize(absent)
    with pytest.raises(BlobNotFound):
        await store.aget(absent)
    with pytest.raises(BlobNotFound):
        await store.afetch_to(absent, tmp_path / "never")


def test_rejects_non_hashes(store: BlobStore) -> None:
    for bad in ("../etc/passwd", "ABC", "g" * 64, "A" * 64):
        with pytest.raises(ValueError):
            store.exists(bad)


def test_concurrent_writers_of_the_same_content(store: BlobStore) -> None:
    data = PORTRAIT.read_bytes() + secrets.token_bytes(8)
    shas: list[str] = []
    threads = [threading.Thread(target=lambda: shas.append(store.put(data))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(shas) == 8 and len(set(shas)) == 1 and store.get(shas[0]) == data


async def test_concurrent_async_writers_of_the_same_content(store: BlobStore,
                                                             tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * 1024 * 1024))
    shas = await asyncio.gather(*[store.aput_file(big) for _ in range(4)],
                                *[store.aput(big.read_bytes()) for _ in range(4)])
    assert len(set(shas)) == 1 and await store.aget(shas[0]) == big.read_bytes()


# --- S3 specifics -----------------------------------------------------------------------------
def test_large_file_goes_up_in_parts_and_comes_back_whole(s3_server: S3Server,
                                                          tmp_path: Path) -> None:
    store = _s3_store(s3_server, tmp_path / "cache")
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:  # 20 MiB: three 8 MiB parts
        for _ in range(20):
            handle.write(os.urandom(1024 * 1024))
    sha = store.put_file(big)
    assert sha == sha256_file(big)
    head = s3_server.client().head_object(Bucket=BUCKET, Key=_object_key(store.prefix, sha))
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    assert copy_out(store, sha, tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert store.put_file(big) == sha


def test_layout_matches_the_local_store(s3_server: S3Server, tmp_path: Path) -> None:
    store = _s3_store(s3_server, tmp_path / "cache", prefix="fleet/blobs")
    sha = store.put(b"layout " + secrets.token_bytes(8))
    key = _object_key("fleet/blobs", sha)
    assert key == f"fleet/blobs/{sha[:2]}/{sha[2:4]}/{sha}"
    assert s3_server.client().head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 15
    assert store.path_for(sha) == tmp_path / "cache" / sha[:2] / sha[2:4] / sha
    store.delete(sha)


def test_path_for_cache_stays_within_its_bound(s3_server: S3Server, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    store = _s3_store(s3_server, cache, cache_max_bytes=5 * 1024 * 1024)
    shas = [store.put(os.urandom(2 * 1024 * 1024)) for _ in range(4)]
    for sha in shas:
        path = store.path_for(sha)
        old = time.time() - 3600  # as if used an hour ago: past the eviction grace period
        os.utime(path, (old, old))
    cached = [p for p in cache.glob("??/??/*")]
    assert sum(p.stat().st_size for p in cached) <= 5 * 1024 * 1024
    assert store.path_for(shas[-1]).exists() and len(cached) == 2
    assert store.get(shas[0]) and store.path_for(shas[0]).exists()  # evicted ones come back


def test_corrupt_object_is_refused(s3_server: S3Server, tmp_path: Path) -> None:
    store = _s3_store(s3_server, tmp_path / "cache")
    sha = store.put(b"the real bytes " + secrets.token_bytes(8))
    s3_server.client().put_object(Bucket=BUCKET, Key=_object_key(store.prefix, sha),
                                  Body=b"tampered")
    with pytest.raises(BlobStoreUnavailable, match="corrupt"):
        store.get(sha)
    with pytest.raises(BlobStoreUnavailable, match="corrupt"):
        store.path_for(sha)
    with pytest.raises(BlobStoreUnavailable, match="corrupt"):
        asyncio.run(store.aget(sha))
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # nothing cached


def _one_line(exc: BlobStoreUnavailable) -> str:
    assert "\n" not in exc.message and len(exc.message) < 300
    return exc.message


@pytest.mark.parametrize("key_id", ["right", "unknown"])
def test_wrong_credentials_name_the_settings(s3_server: S3Server, tmp_path: Path,
                                             key_id: str) -> None:
    access = s3_server.access_key_id if key_id == "right" else "AKIAUNKNOWN0000000000"
    store = _s3_store(s3_server, tmp_path / "cache", access_key_id=access,
                      secret_access_key="not-the-secret")
    for call in (lambda: store.put(b"x"), lambda: store.exists("0" * 64),
                 lambda: asyncio.run(store.aget("0" * 64))):
        with pytest.raises(BlobStoreUnavailable) as caught:
            call()
        message = _one_line(caught.value)
        assert message.startswith("VITAPHONE_S3_ACCESS_KEY_ID / VITAPHONE_S3_SECRET_ACCESS_KEY")
        assert "not-the-secret" not in str(caught.value)


def test_missing_bucket_names_the_setting(s3_server: S3Server, tmp_path: Path) -> None:
    store = _s3_store(s3_server, tmp_path / "cache", bucket="no-such-bucket")
    for call in (lambda: store.put(b"x"), lambda: store.get("0" * 64),
                 lambda: asyncio.run(store.aput(b"y"))):
        with pytest.raises(BlobStoreUnavailable) as caught:
            call()
        assert _one_line(caught.value).startswith("VITAPHONE_BLOB_URL: bucket 'no-such-bucket'")


def test_unreachable_endpoint_names_the_setting_quickly(tmp_path: Path) -> None:
    from vitaphone.storage.blobs_s3 import S3BlobStore

    endpoint = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    store = S3BlobStore(BUCKET, "p", endpoint_url=endpoint, access_key_id="k",
                        secret_access_key="s", cache_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(BlobStoreUnavailable) as caught:
        store.put(b"x")
    assert time.monotonic() - started < 15
    assert _one_line(caught.value) == (f"VITAPHONE_S3_ENDPOINT_URL: cannot reach {endpoint} "
                                       "(Connection refused).")


# --- settings, doctor and the Studio ----------------------------------------------------------
def _s3_env(monkeypatch: pytest.MonkeyPatch, server: S3Server, prefix: str) -> None:
    monkeypatch.setenv("VITAPHONE_BLOB_URL", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setenv("VITAPHONE_S3_ENDPOINT_URL", server.endpoint_url)
    monkeypatch.setenv("VITAPHONE_S3_REGION", server.region)
    monkeypatch.setenv("VITAPHONE_S3_ACCESS_KEY_ID", server.access_key_id)
    monkeypatch.setenv("VITAPHONE_S3_SECRET_ACCESS_KEY", server.secret_access_key)


def test_settings_pick_the_store(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch,
                                 tmp_path: Path) -> None:
    from vitaphone.storage.blobs_s3 import S3BlobStore

    default = open_blob_store(load_settings())
    assert isinstance(default, LocalBlobStore) and default.root == load_settings().blobs_path
    monkeypatch.setenv("VITAPHONE_BLOB_URL", str(tmp_path / "elsewhere"))
    local = open_blob_store(load_settings())
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "elsewhere"
    _s3_env(monkeypatch, s3_server, "from-settings/")
    settings = load_settings()
    assert settings.blob_url == f"s3://{BUCKET}/from-settings"
    assert settings.redacted()["s3_secret_access_key"] == "**********"
    assert s3_server.secret_access_key not in repr(settings)
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore) and store.prefix == "from-settings"
    probe_blob_store(store)


def test_doctor_reports_the_blob_store(s3_server: S3Server,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from vitaphone.cli.doctor import check_blob_store

    check = check_blob_store(load_settings())
    assert check.status == "ok" and "local" in check.detail
    _s3_env(monkeypatch, s3_server, "doctor")
    check = check_blob_store(load_settings())
    assert check.status == "ok", check
    assert f"s3://{BUCKET}/doctor" in check.detail and "writable" in check.detail
    monkeypatch.setenv("VITAPHONE_S3_SECRET_ACCESS_KEY", "wrong")
    check = check_blob_store(load_settings())
    assert check.status == "missing" and "VITAPHONE_S3_SECRET_ACCESS_KEY" in check.detail
    assert "wrong" not in check.detail


@pytest.mark.slow
async def test_studio_renders_into_the_bucket(s3_server: S3Server, migrated_sqlite_url: str,
                                              monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from vitaphone.consent import ConsentBasis
    from vitaphone.core.pipeline import AnimateInputs, AnimateOptions
    from vitaphone.storage.blobs_s3 import S3BlobStore
    from vitaphone.studio import Requester, Studio

    prefix = f"studio-{secrets.token_hex(4)}"
    _s3_env(monkeypatch, s3_server, prefix)
    settings = load_settings(database_url=migrated_sqlite_url)
    studio = Studio(settings)
    assert isinstance(studio.blobs, S3BlobStore)
    portrait = PORTRAIT.read_bytes()
    try:
        submitted = await studio.submit(
            AnimateInputs(portrait=portrait, portrait_name="einstein.jpg", text="Hello there."),
            AnimateOptions(device="cpu"), ConsentBasis.PUBLIC_DOMAIN_HISTORICAL,
            Requester(platform="cli", user_id=f"s3-{secrets.token_hex(4)}"))
        rendered = await studio.run(submitted.job_id, tmp_path / "out.mp4")
    finally:
        await studio.aclose()
    bucket = s3_server.client()
    sha = rendered.output_sha256
    video = bucket.get_object(Bucket=BUCKET, Key=_object_key(prefix, sha))["Body"].read()
    assert hashlib.sha256(video).hexdigest() == sha and video == rendered.path.read_bytes()
    key = _object_key(prefix, hashlib.sha256(portrait).hexdigest())
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == portrait
    assert not settings.blobs_path.exists()  # nothing went to the local blob directory
