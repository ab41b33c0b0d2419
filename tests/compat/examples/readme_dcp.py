# Source: awslabs/s3-connector-for-pytorch, README.md, commit 611b0ff038d07f59a7f570740b3cc2bab9a942af.
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved. Licensed under the BSD 3-Clause
# License (https://github.com/awslabs/s3-connector-for-pytorch/blob/611b0ff038d07f59a7f570740b3cc2bab9a942af/LICENSE).
#
# Run by tests/test_s3torchconnector_compat.py against SeaweedFS. Changed from the source: only the
# imports (`s3torchconnector` -> `s3dlio.compat.s3torchconnector`);
# `torchvision` is the test's stand-in (tests/compat/shims).
# The bucket placeholders (<BUCKET>, <KEY>, and the README's quoted "CHECKPOINT_URI") are kept as written and filled in by the test before it runs the
# file, as a user would. Parts marked "(not from the source)" are the test's own.
# The README passes path="CHECKPOINT_URI" (a quoted name) in the RoundRobin block; the test fills in the
# same checkpoint URI there, so the last block loads the checkpoint written with the prefix strategy.
# BinaryPrefixStrategy(min_prefix_len=10) as the README writes it (upstream's keyword is min_prefix_length).

# ---- README.md, 'Distributed checkpoints', 'Sample Example' ----
from s3dlio.compat.s3torchconnector.dcp import S3StorageWriter, S3StorageReader

import torchvision
import torch.distributed.checkpoint as DCP

# Configuration
CHECKPOINT_URI = "s3://<BUCKET>/<KEY>/"
REGION = "us-east-1"

model = torchvision.models.resnet18()

# Save distributed checkpoint to S3
s3_storage_writer = S3StorageWriter(
    region=REGION, 
    path=CHECKPOINT_URI,
    thread_count=8, # optional; number of IO threads to use to write
) 
DCP.save(
    state_dict=model.state_dict(),
    storage_writer=s3_storage_writer,
)

# Load distributed checkpoint from S3
# S3StorageReader uses DCPOptimizedS3Reader by default for improved performance
model = torchvision.models.resnet18()
model_state_dict = model.state_dict()
s3_storage_reader = S3StorageReader(
    region=REGION, 
    path=CHECKPOINT_URI,
)
DCP.load(
    state_dict=model_state_dict,
    storage_reader=s3_storage_reader,
)
model.load_state_dict(model_state_dict)

# ---- README.md, 'RoundRobinPrefixStrategy' (REGION, torchvision and DCP come from the block above, as in the README) ----
from s3dlio.compat.s3torchconnector.dcp import RoundRobinPrefixStrategy, S3StorageWriter

model = torchvision.models.resnet18()

# Initialize with multiple prefixes and optional epoch tracking
strategy = RoundRobinPrefixStrategy(
    user_prefixes=["shard1", "shard2", "shard3"],
    epoch_num=5  # Optional: for checkpoint versioning
)

writer = S3StorageWriter(
    region=REGION,
    path="CHECKPOINT_URI",
    prefix_strategy=strategy
)

# Save checkpoint
DCP.save(
    state_dict=model.state_dict(),
    storage_writer=writer
)

# ---- README.md, 'BinaryPrefixStrategy' ----
from s3dlio.compat.s3torchconnector.dcp import BinaryPrefixStrategy

strategy = BinaryPrefixStrategy(
    epoch_num=1,          # Optional: for checkpoint versioning
    min_prefix_len=10     # Optional: minimum prefix length
)

# ---- README.md, 'HexPrefixStrategy' ----
from s3dlio.compat.s3torchconnector.dcp import HexPrefixStrategy

strategy = HexPrefixStrategy(
    epoch_num=1,          # Optional: for checkpoint versioning
    min_prefix_len=4      # Optional: minimum prefix length
)

# ---- README.md, 'Creating Custom Strategies' ----
from s3dlio.compat.s3torchconnector.dcp import S3PrefixStrategyBase

class CustomPrefixStrategy(S3PrefixStrategyBase):
    def __init__(self, custom_param):
        super().__init__()
        self.custom_param = custom_param

    def generate_prefix(self, rank: int) -> str:
        return f"custom_{self.custom_param}/{rank}/"

# ---- README.md, 'Reader Configurations', 'DCP interface' block (names from the blocks above) ----
# Load checkpoint with dcp-optimized reader for better performance
from s3dlio.compat.s3torchconnector.dcp import S3StorageReader
from s3dlio.compat.s3torchconnector import S3ReaderConstructor

# dcp_optimized is already the default for S3StorageReader; demonstration purposes only. 
reader_constructor = S3ReaderConstructor.dcp_optimized()
s3_storage_reader = S3StorageReader(
    region=REGION, 
    path=CHECKPOINT_URI,
    reader_constructor=reader_constructor
)
DCP.load(
    state_dict=model_state_dict,
    storage_reader=s3_storage_reader,
)

# ---- check (not from the source) ----
model.load_state_dict(model_state_dict)
print("PREFIX", CustomPrefixStrategy("x").generate_prefix(3), strategy.generate_prefix(1))
print("DONE")
