# Source: awslabs/s3-connector-for-pytorch, README.md, commit 611b0ff038d07f59a7f570740b3cc2bab9a942af.
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved. Licensed under the BSD 3-Clause
# License (https://github.com/awslabs/s3-connector-for-pytorch/blob/611b0ff038d07f59a7f570740b3cc2bab9a942af/LICENSE).
#
# Run by tests/test_s3torchconnector_compat.py against SeaweedFS. Changed from the source: only the
# imports (`s3torchconnector` -> `s3dlio.compat.s3torchconnector`).
# The bucket placeholders (<BUCKET>, <PREFIX>) are kept as written and filled in by the test before it runs the
# file, as a user would. Parts marked "(not from the source)" are the test's own.
# The two README snippets use names the README defines earlier; the setup part defines them.

# ---- setup (not from the source): the README's names from 'Sample Examples', DataLoader/DistributedSampler imports, a one-process group ----
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler

from s3dlio.compat.s3torchconnector import S3MapDataset, S3IterableDataset

DATASET_URI="s3://<BUCKET>/<PREFIX>"
REGION = "us-east-1"
dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)

# ---- README.md, 'Parallel/Distributed Training', S3IterableDataset ----
dataset = S3IterableDataset.from_prefix(DATASET_URI, region=REGION, enable_sharding=True)
dataloader = DataLoader(dataset, num_workers=4)

# ---- check (not from the source) ----
# S3Readers need a collate_fn (default_collate cannot batch file objects, upstream's either)
keys = lambda batch: [item.key for item in batch]
print("ITERABLE", sum(len(b) for b in DataLoader(dataset, num_workers=4, collate_fn=keys)))

# ---- README.md, 'Parallel/Distributed Training', S3MapDataset ----
dataset = S3MapDataset.from_prefix(DATASET_URI, region=REGION)
sampler = DistributedSampler(dataset)
dataloader = DataLoader(dataset, sampler=sampler, num_workers=4)

# ---- check (not from the source) ----
print("MAP", sum(len(b) for b in DataLoader(dataset, sampler=sampler, num_workers=4, collate_fn=keys)))
dist.destroy_process_group()
