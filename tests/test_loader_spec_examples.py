"""Every dataset and loader example of both spec documents (python-api-v0.8.12.md and
python-api-guide-v0.9.25.md), run as written: only bucket names, containers, local paths and endpoints
are changed to local ones (SeaweedFS, fake-gcs-server, Azurite, tmp_path)."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import s3dlio

# the guide's objects are 224x224x3 images; smaller ones keep the test quick (same shape of code)
IMG = (8, 8, 3)


@pytest.fixture
def clouds(seaweedfs_server, azurite, azure_container, fake_gcs, gcs_bucket) -> dict[str, str]:
    bucket = f"loaders-{os.urandom(4).hex()}"
    s3dlio.create_bucket(bucket)
    return {"s3": bucket, "gs": gcs_bucket, "az": azure_container}


def _npz(i: int) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, data=np.full((4, *IMG), i % 251, np.uint8), labels=np.arange(4, dtype=np.int64) + i,
             metadata=np.zeros((4, 5), np.float32))
    return buf.getvalue()


def _fill(prefix: str, n: int, suffix: str = ".npz") -> None:
    s3dlio.put_many([(f"{prefix}train_{i:06d}{suffix}", _npz(i)) for i in range(n)])


def my_transform(t):  # the guide's "Optional transform function"
    return t[:64]


@pytest.mark.torch
def test_guide_pytorch_datasets(clouds) -> None:
    bucket = clouds["s3"]
    _fill(f"s3://{bucket}/training-data/", 40)
    s3dlio.put_bytes(f"s3://{bucket}/training-data/README.txt", b"not a sample")
    from s3dlio import S3IterableDataset, S3MapDataset

    # Map-style dataset (random access)
    with pytest.warns(DeprecationWarning):
        dataset = S3MapDataset(
            uri=f"s3://{bucket}/training-data/",
            pattern="*.npz",        # Filter pattern
            transform=my_transform   # Optional transform function
        )
    assert len(dataset) == 40

    # Iterable dataset (streaming)
    with pytest.warns(DeprecationWarning):
        dataset = S3IterableDataset(
            uri=f"s3://{bucket}/training-data/",
            pattern="*.npz",
            shuffle=True,
            num_workers=4
        )

    # Use with DataLoader
    from torch.utils.data import DataLoader
    loader = DataLoader(dataset, batch_size=32)

    seen = 0
    for batch in loader:
        # Train your model
        seen += len(batch)
    assert seen == 40


def test_guide_jax_and_tensorflow(clouds) -> None:
    bucket, gcs = clouds["s3"], clouds["gs"]
    _fill(f"gs://{gcs}/training-data/", 40)
    s3dlio.put_many([(f"s3://{bucket}/training-data/part-{i:03d}.tfrecord", os.urandom(100 + i)) for i in range(40)])
    from s3dlio import S3JaxIterable

    # Create JAX-compatible iterable
    with pytest.warns(DeprecationWarning):
        jax_iter = S3JaxIterable(
            uri=f"gs://{gcs}/training-data/",
            pattern="*.npz",
            batch_size=32
        )

    # Iterate over batches
    sizes = []
    for batch in jax_iter:
        # JAX training code
        sizes.append(len(batch))
    assert sizes == [32, 8]

    from s3dlio import make_tf_dataset

    # Create TF Dataset
    ds = make_tf_dataset(
        uri=f"s3://{bucket}/training-data/",
        pattern="*.tfrecord",
        batch_size=32,
        shuffle=True
    )

    # Use in training
    rows = 0
    for batch in ds:
        # TensorFlow training code
        rows += int(batch.shape[0])
    assert rows == 40


def test_guide_generic_data_loaders(clouds) -> None:
    bucket, gcs = clouds["s3"], clouds["gs"]
    _fill(f"gs://{gcs}/data/", 5)
    _fill(f"s3://{bucket}/data/", 70)
    processed = []

    def process(batch):
        processed.append(len(batch))

    # Universal dataset (works with any backend)
    dataset = s3dlio.create_dataset(f"gs://{gcs}/data/")
    assert len(dataset) == 5

    # Async data loader
    loader = s3dlio.create_async_loader(
        uri=f"s3://{bucket}/data/",
        options=s3dlio.PyLoaderOptions()
    )

    async def main():
        # Iterate asynchronously
        async for batch in loader:
            process(batch)

    asyncio.run(main())
    assert processed == [32, 32, 6]


def test_guide_common_pattern_training_loop(clouds) -> None:
    bucket = clouds["s3"]
    _fill(f"s3://{bucket}/training-data/", 33)
    num_epochs = 2
    steps = []

    def train_step(model, batch):
        steps.append(len(batch))
        return 0.0

    model = object()

    # Load dataset
    dataset = s3dlio.create_dataset(f"s3://{bucket}/training-data/")

    # Training loop
    for _epoch in range(num_epochs):
        for batch in dataset:
            # Training step
            train_step(model, batch)
    # (the checkpoint call of this example belongs to the checkpoint tests)
    assert steps == [32, 1, 32, 1]


@pytest.mark.torch
def test_guide_distributed_data_loading(clouds) -> None:
    bucket = clouds["s3"]
    rank = 1
    _fill(f"s3://{bucket}/shard_{rank}/", 20)
    from s3dlio import S3IterableDataset
    from torch.utils.data import DataLoader

    # Each rank loads different shard
    with pytest.warns(DeprecationWarning):
        dataset = S3IterableDataset(
            uri=f"s3://{bucket}/shard_{rank}/",
            shuffle=True
        )

    loader = DataLoader(
        dataset,
        batch_size=32,
        num_workers=4
    )

    n = 0
    for batch in loader:
        # Distributed training
        n += len(batch)
    assert n == 20


@pytest.mark.torch
def test_guide_npz_pytorch_dataloader(clouds) -> None:
    bucket = clouds["s3"]
    _fill(f"s3://{bucket}/", 64)
    import torch
    from torch.utils.data import DataLoader, Dataset

    class S3NPZDataset(Dataset):
        def __init__(self, s3_uris):
            """Dataset loading NPZ files from S3.

            Args:
                s3_uris: List of S3 URIs to NPZ files
            """
            self.uris = s3_uris

        def __len__(self):
            return len(self.uris)

        def __getitem__(self, idx):
            # Fetch from S3
            npz_bytes = s3dlio.get(self.uris[idx])

            # Load into memory
            with io.BytesIO(npz_bytes) as f:
                data = np.load(f)
                return {
                    'data': torch.from_numpy(data['data']),
                    'labels': torch.from_numpy(data['labels']),
                    'metadata': torch.from_numpy(data['metadata'])
                }

    # Use with DataLoader
    uris = [f"s3://{bucket}/train_{i:06d}.npz" for i in range(64)]
    dataset = S3NPZDataset(uris)
    loader = DataLoader(dataset, batch_size=32, num_workers=4)

    n = 0
    for batch in loader:
        images = batch['data']    # Tensor: (32, 4, 8, 8, 3)
        labels = batch['labels']  # Tensor: (32, 4)
        # Train your model
        n += images.shape[0]
        assert labels.shape[0] == images.shape[0]
    assert n == 64


def test_reference_0812_enhanced_api(clouds, tmp_path: Path, capsys) -> None:
    bucket, container = clouds["s3"], clouds["az"]
    data = tmp_path / "data"
    _fill(f"file://{data}/", 3)
    (tmp_path / "path" / "to").mkdir(parents=True)
    shutil.copytree(data, tmp_path / "path" / "to" / "data")
    _fill(f"s3://{bucket}/prefix/", 3)
    s3dlio.put_bytes(f"s3://{bucket}/object.bin", b"one object")
    s3dlio.put_bytes(f"s3://{bucket}/object", b"another object")
    _fill(f"az://devstoreaccount1/{container}/prefix/", 2)
    (tmp_path / "home" / "user" / "dataset").mkdir(parents=True)
    (tmp_path / "home" / "user" / "data.txt").write_bytes(b"text")
    _fill(f"file://{tmp_path}/home/user/dataset/", 2)
    root = f"file://{tmp_path}"

    # ✅ WORKING: File system dataset
    dataset = s3dlio.create_dataset(f"{root}/path/to/data")
    assert len(dataset) == 3

    # ✅ WORKING: S3 dataset (requires AWS credentials)
    dataset = s3dlio.create_dataset(f"s3://{bucket}/prefix/")
    assert len(dataset) == 3

    # ✅ WORKING: With options
    dataset = s3dlio.create_dataset(f"{root}/data", {
        "batch_size": 32,
        "shuffle": True
    })
    assert dataset.options.shuffle

    # ✅ WORKING: Create async loader
    loader = s3dlio.create_async_loader(f"{root}/path/to/data")

    # ✅ WORKING: Async iteration
    async def process():
        async for item in loader:
            print(f"Got {len(item)} bytes")

    asyncio.run(process())
    assert "Got 3 bytes" in capsys.readouterr().out  # a batch of all three objects

    # ✅ WORKING: Dataset creation returns PyDataset
    dataset = s3dlio.create_dataset(f"{root}/data")
    print(type(dataset))  # <class 'builtins.PyDataset'>
    assert type(dataset).__name__ == "PyDataset"

    # ✅ WORKING: Async loader creation returns PyBytesAsyncDataLoader
    loader = s3dlio.create_async_loader(f"{root}/data")
    print(type(loader))  # <class 'builtins.PyBytesAsyncDataLoader'>
    assert type(loader).__name__ == "PyBytesAsyncDataLoader"

    # URI schemes
    assert len(s3dlio.create_dataset(f"{root}/home/user/data.txt")) == 1
    assert len(s3dlio.create_dataset(f"{root}/home/user/dataset/")) == 2
    assert len(s3dlio.create_dataset(f"s3://{bucket}/prefix/")) == 3
    assert len(s3dlio.create_dataset(f"s3://{bucket}/object.bin")) == 1
    assert len(s3dlio.create_dataset(f"az://devstoreaccount1/{container}/prefix/")) == 2
    assert len(s3dlio.create_dataset(f"direct://{tmp_path}/home/user/dataset/")) == 2

    # ✅ CONFIRMED: These functions exist and work
    create_dataset = getattr(s3dlio, 'create_dataset')        # ✅ Works  # noqa: B009
    create_async_loader = getattr(s3dlio, 'create_async_loader')  # ✅ Works  # noqa: B009
    assert create_dataset is s3dlio.create_dataset and create_async_loader is s3dlio.create_async_loader

    # ⚠️ DEPRECATED: Use create_dataset() instead
    # May still work but not recommended
    if hasattr(s3dlio, 'PyS3Dataset'):
        with pytest.warns(DeprecationWarning):
            old_dataset = s3dlio.PyS3Dataset(f"s3://{bucket}/prefix/")
        assert len(old_dataset) == 3

    # NEW (recommended for consistency)
    dataset = s3dlio.create_dataset(f"s3://{bucket}/object")
    assert [bytes(v) for v in dataset[:]] == [b"another object"]

    # NEW PyTorch usage (also works)
    loader = s3dlio.create_async_loader(f"s3://{bucket}/prefix/")
    assert sum(1 for _ in loader) == 3


@pytest.mark.torch
def test_reference_0812_pytorch_and_errors(clouds, tmp_path: Path) -> None:
    bucket = clouds["s3"]
    _fill(f"file://{tmp_path}/data/", 5)
    _fill(f"s3://{bucket}/data/", 5)
    import warnings

    from s3dlio.torch import S3IterableDataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # ✅ NOW WORKING: Bug fixed in v0.8.0
        # Previously failed with "PyS3AsyncDataLoader not found"
        dataset = S3IterableDataset(f"file://{tmp_path}/data/")

        # ✅ WORKING: PyTorch DataLoader integration
        from torch.utils.data import DataLoader
        dataloader = DataLoader(dataset, batch_size=32)
        assert sum(len(b) for b in dataloader) == 5

        # OLD PyTorch usage (now works, was broken)
        dataset = S3IterableDataset(f"s3://{bucket}/data/")  # Now works!
        assert len(list(dataset)) == 5

    # ✅ WORKING: Error handling is functional
    try:
        dataset = s3dlio.create_dataset("ftp://invalid/scheme")
        raise AssertionError("no error")
    except RuntimeError as e:
        print(f"Expected error: {e}")  # Properly caught

    try:
        dataset = s3dlio.create_dataset(f"file://{tmp_path}/nonexistent/path")
        raise AssertionError("no error")
    except RuntimeError as e:
        print(f"Path error: {e}")  # Properly caught
