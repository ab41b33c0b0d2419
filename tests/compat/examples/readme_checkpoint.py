# Source: awslabs/s3-connector-for-pytorch, README.md, commit 611b0ff038d07f59a7f570740b3cc2bab9a942af.
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved. Licensed under the BSD 3-Clause
# License (https://github.com/awslabs/s3-connector-for-pytorch/blob/611b0ff038d07f59a7f570740b3cc2bab9a942af/LICENSE).
#
# Run by tests/test_s3torchconnector_compat.py against SeaweedFS. Changed from the source: only the
# imports (`s3torchconnector` -> `s3dlio.compat.s3torchconnector`);
# `torchvision` is the test's stand-in (tests/compat/shims).
# The bucket placeholders (<BUCKET>, <KEY>) are kept as written and filled in by the test before it runs the
# file, as a user would. Parts marked "(not from the source)" are the test's own.

# ---- README.md, 'Sample Examples', block 2 (checkpoints) ----
from s3dlio.compat.s3torchconnector import S3Checkpoint

import torchvision
import torch

CHECKPOINT_URI="s3://<BUCKET>/<KEY>/"
REGION = "us-east-1"
checkpoint = S3Checkpoint(region=REGION)

model = torchvision.models.resnet18()

# Save checkpoint to S3
with checkpoint.writer(CHECKPOINT_URI + "epoch0.ckpt") as writer:
    torch.save(model.state_dict(), writer)

# Load checkpoint from S3
with checkpoint.reader(CHECKPOINT_URI + "epoch0.ckpt") as reader:
    state_dict = torch.load(reader)

model.load_state_dict(state_dict)

# ---- check (not from the source) ----
print("LOADED", len(state_dict))
