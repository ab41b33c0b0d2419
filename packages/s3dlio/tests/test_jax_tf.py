"""s3dlio.jax_tf with the real jax[cpu] and tensorflow-cpu: JaxIterable, S3JaxIterable (pattern=,
batch_size=) and make_tf_dataset (pattern=, batch_size=, shuffle=, map_fn=) on file:// and S3."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import s3dlio
from s3dlio.jax_tf import JaxIterable, S3JaxIterable, make_tf_dataset
from s3dlio_testsupport import server_fixtures

_s3 = server_fixtures("s3")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_prefix = _s3.s3_prefix

N = 20


@pytest.fixture(params=["file", "s3"])
def data(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    prefix = f"file://{tmp_path}/jt/" if request.param == "file" else request.getfixturevalue("s3_prefix")
    items = [(f"{prefix}{'a' if i % 2 else 'b'}/{i:03d}.{'npz' if i % 2 else 'tfrecord'}",
              struct.pack("<q", i) + bytes(range(24 + i % 3))) for i in range(N)]
    s3dlio.put_many(items)
    return prefix


def _id(arr: np.ndarray) -> int:
    return int(np.frombuffer(np.asarray(arr)[:8].tobytes(), "<i8")[0])


def test_jax_iterable(data: str) -> None:
    import jax.numpy as jnp

    it = JaxIterable.from_prefix(data, shuffle=True, seed=1, transform=lambda a: jnp.asarray(a[:8]))
    got = [_id(x) for x in it]
    assert sorted(got) == list(range(N)) and got != sorted(got)
    assert [_id(x) for x in it] != got  # a new epoch, a new order
    arrays = list(JaxIterable(data, loader_opts={"batch_size": 4}))  # loader batching: still one per object
    assert len(arrays) == N and all(a.dtype == np.uint8 for a in arrays)
    with pytest.warns(DeprecationWarning):
        spec = S3JaxIterable(uri=data, pattern="*.npz", batch_size=4)
    batches = list(spec)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(_id(a) for b in batches for a in b) == list(range(1, N, 2))
    stacked = jnp.asarray([a[:8] for a in batches[0]])
    assert stacked.shape == (4, 8)


def test_make_tf_dataset(data: str) -> None:
    import tensorflow as tf

    ds = make_tf_dataset(data)
    assert isinstance(ds, tf.data.Dataset)
    got = [_id(t.numpy()) for t in ds]
    assert got == list(range(N)) or sorted(got) == list(range(N))
    spec = make_tf_dataset(uri=data, pattern="*.tfrecord", batch_size=4, shuffle=True)
    batches = list(spec)
    assert [int(b.shape[0]) for b in batches] == [4, 4, 2]
    ids = [_id(row.numpy()) for b in batches for row in b]
    assert sorted(ids) == list(range(0, N, 2))
    mapped = make_tf_dataset(data, map_fn=lambda x: tf.reshape(x[:8], [8]), batch_size=5, drop_last=True)
    out = list(mapped)
    assert [tuple(b.shape) for b in out] == [(5, 8)] * 4 and isinstance(out[0], tf.Tensor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        epochs = [[_id(t.numpy()) for t in make_tf_dataset(data, shuffle=True, seed=2)] for _ in range(1)]
    assert sorted(epochs[0]) == list(range(N))
