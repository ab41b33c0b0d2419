"""Listing manifests: one listing shared by every rank of a job through an object of its own.

Listing a large prefix once per rank multiplies the LIST requests by the world size (and each rank may
see a slightly different listing if objects change meanwhile). With a manifest URI, rank 0 lists and
writes the listing (zstd-compressed JSON: source URI, pattern, relative keys, sizes) to that URI; the
other ranks wait for it and read it. An existing manifest made for the same source URI and pattern is
reused by every rank without listing (pass `refresh=True` to list again).

The write is a single PUT (object stores make it visible atomically; file:// writes a temporary name and
renames), so a reader never sees half a manifest.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from s3dlio_core import InvalidUriError, ObjectNotFoundError

from .listing import Listing, list_dataset
from .source import StoreSource

__all__ = ["write_manifest", "read_manifest", "shared_listing", "MANIFEST_FORMAT"]

log = logging.getLogger("s3dlio.loaders")
MANIFEST_FORMAT = "s3dlio-listing-manifest"
_VERSION = 1
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _encode(listing: Listing) -> bytes:
    uris = listing.uris
    base = _common_base(uris)
    doc = {"format": MANIFEST_FORMAT, "version": _VERSION, "source": listing.source_uri,
           "pattern": listing.pattern, "key_start": listing.key_start, "base": base, "written_at": time.time(),
           "keys": [u[len(base):] for u in uris], "sizes": list(listing.sizes)}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(raw)


def _decode(data: Any, uri: str) -> dict[str, Any]:
    raw = bytes(data)
    if raw[:4] == _ZSTD_MAGIC:
        import zstandard

        raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 34)
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise InvalidUriError(f"{uri} is not a listing manifest ({e})", uri) from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise InvalidUriError(f"{uri} is not an s3dlio listing manifest", uri)
    if doc.get("version") != _VERSION:
        raise InvalidUriError(f"listing manifest {uri} has version {doc.get('version')!r}; this s3dlio reads "
                              f"version {_VERSION}", uri)
    return doc


def _common_base(uris: list[str]) -> str:
    if not uris:
        return ""
    a, b = min(uris), max(uris)
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[: a.rfind("/", 0, n) + 1]


def write_manifest(listing: Listing, manifest_uri: str, *, source: StoreSource | None = None) -> None:
    """Write `listing` to `manifest_uri` (one PUT)."""
    from s3dlio_core import store_for_uri

    store_for_uri(manifest_uri)[0].put(manifest_uri, _encode(listing))


def read_manifest(manifest_uri: str) -> tuple[Listing, dict[str, Any]]:
    """(the listing, the manifest's header fields). Raises ObjectNotFoundError if it does not exist,
    InvalidUriError if the object is not a listing manifest."""
    from s3dlio_core import store_for_uri

    doc = _decode(store_for_uri(manifest_uri)[0].get(manifest_uri), manifest_uri)
    base = doc["base"]
    keys = doc["keys"]
    listing = Listing([base + k for k in keys], doc["sizes"], key_start=doc["key_start"],
                      source_uri=doc["source"], pattern=doc["pattern"])
    header = {k: v for k, v in doc.items() if k not in ("keys", "sizes")}
    return listing, header


def _matches(header: dict[str, Any], uri: str, pattern: str | None) -> bool:
    return header.get("source") == uri and header.get("pattern") == pattern


def _existing(manifest_uri: str, uri: str, pattern: str | None) -> Listing | None:
    """The listing in an existing manifest made for this source and pattern, else None."""
    try:
        listing, header = read_manifest(manifest_uri)
    except ObjectNotFoundError:
        return None
    if not _matches(header, uri, pattern):
        return None
    log.debug("listing of %s read from manifest %s", uri, manifest_uri)
    return listing


def shared_listing(uri: str, manifest_uri: str, *, rank: int, pattern: str | None = None,
                   source: StoreSource | None = None, refresh: bool = False,
                   barrier: Callable[[], None] | None = None, timeout: float = 600.0,
                   poll: float = 0.5) -> Listing:
    """The listing of `uri`, made once per job: rank 0 lists and writes `manifest_uri`, every other rank
    reads it. `barrier` (e.g. torch.distributed.barrier) orders the ranks when they share a process
    group; without one, the other ranks poll for a manifest of this source and pattern (written after
    they started, when `refresh`) for up to `timeout` seconds (then TimeoutError).
    """
    started = time.time()
    if barrier is not None:  # every rank passes the barrier exactly once, whatever it finds
        listing = None
        if rank == 0:
            listing = None if refresh else _existing(manifest_uri, uri, pattern)
            if listing is None:
                listing = list_dataset(uri, pattern=pattern, source=source)
                write_manifest(listing, manifest_uri)
                log.info("listed %s (%d objects) and wrote manifest %s", uri, len(listing), manifest_uri)
        barrier()
        if listing is not None:
            return listing
        listing, header = read_manifest(manifest_uri)
        if not _matches(header, uri, pattern):
            raise InvalidUriError(f"listing manifest {manifest_uri} was written for {header.get('source')!r} "
                                  f"(pattern {header.get('pattern')!r}), not {uri!r}", manifest_uri)
        return listing
    if not refresh:
        existing = _existing(manifest_uri, uri, pattern)
        if existing is not None:
            return existing
    if rank == 0:
        listing = list_dataset(uri, pattern=pattern, source=source)
        write_manifest(listing, manifest_uri)
        log.info("listed %s (%d objects) and wrote manifest %s", uri, len(listing), manifest_uri)
        return listing
    deadline = started + timeout
    while True:
        try:
            listing, header = read_manifest(manifest_uri)
            fresh = not refresh or float(header.get("written_at") or 0) >= started - 1.0
            if _matches(header, uri, pattern) and fresh:
                return listing
        except ObjectNotFoundError:
            pass
        if time.time() >= deadline:
            raise TimeoutError(f"rank {rank}: no listing manifest for {uri} appeared at {manifest_uri} within "
                               f"{timeout:.0f} s (rank 0 writes it)")
        time.sleep(poll)
