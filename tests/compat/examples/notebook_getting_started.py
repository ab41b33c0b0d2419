# Source: awslabs/s3-connector-for-pytorch, examples/Getting started with the Amazon S3 Connector for PyTorch.ipynb, commit 611b0ff038d07f59a7f570740b3cc2bab9a942af.
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved. Licensed under the BSD 3-Clause
# License (https://github.com/awslabs/s3-connector-for-pytorch/blob/611b0ff038d07f59a7f570740b3cc2bab9a942af/LICENSE).
#
# Run by tests/test_s3torchconnector_compat.py against SeaweedFS. Changed from the source: only the
# imports (`s3torchconnector` -> `s3dlio.compat.s3torchconnector`),
# and cell 7 without `import torchdata` and `import webdataset`.
# The bucket placeholders ("s3://s3torchconnector-demo/") are kept as written and filled in by the test before it runs the
# file, as a user would. Parts marked "(not from the source)" are the test's own.
# Cells taken: 7, 11, 13, 15, 17, 19, 21, 23, 26, 27, 29, 31, 33, 36, 47, 49, 50, 52. Left out: the %pip cells (3, 6, 55), cells 39 and 42
# (torchdata.datapipes, which current torchdata no longer has, and webdataset, not installed), the
# Lightning cell 57 (needs lightning and downloads WikiText2), and cells 59-67 (a private bucket,
# a credentials server, a profile, an S3 Express bucket).

# ---- setup (not from the source): a notebook shows values with display() ----
display = print

# ---- notebook cell 7 ----
import s3dlio.compat.s3torchconnector as s3torchconnector

import boto3
import botocore
import io
import itertools
from PIL import Image
import torch
import torchvision

# ---- notebook cell 11 ----
IMAGES_URI = "s3://s3torchconnector-demo/geonet/images/"
SHARDS_URI = "s3://s3torchconnector-demo/geonet/shards/"
CHECKPOINT_URI = "s3://s3torchconnector-demo/checkpoint/"
REGION = "us-east-1"

# ---- notebook cell 13 ----
# Optional configuration, to use unsigned S3 requests when accessing a public bucket
config = s3torchconnector.S3ClientConfig(unsigned=True)
dataset = s3torchconnector.S3MapDataset.from_prefix(IMAGES_URI, region=REGION, s3client_config=config)

# ---- notebook cell 15 ----
object = dataset[42]

# ---- notebook cell 17 ----
content = object.read()
len(content)

# ---- notebook cell 19 ----
Image.open(object).reduce(4)

# ---- notebook cell 21 ----
object.key

# ---- notebook cell 23 ----
for object in itertools.islice(dataset, 0, 500, 100):
    display(object.key)
    display(Image.open(object).reduce(8))

# ---- notebook cell 26 ----
def load_image(object):
    img = Image.open(object)
    return (object.key, torchvision.transforms.functional.pil_to_tensor(img))

dataset = s3torchconnector.S3MapDataset.from_prefix(
    IMAGES_URI, 
    region=REGION, 
    transform=load_image, 
    s3client_config=config
)

# ---- notebook cell 27 ----
key, img = dataset[0]
img.shape

# ---- notebook cell 29 ----
loader = torch.utils.data.DataLoader(dataset, batch_size=4)

# ---- notebook cell 31 ----
for keys, images in itertools.islice(loader, 3):
    print(keys)
    print(images.shape)

# ---- notebook cell 33 ----
loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)
for keys, images in itertools.islice(loader, 3):
    print(keys)

# ---- notebook cell 36 ----
loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=4)

# ---- notebook cell 47 ----
checkpoint = s3torchconnector.S3Checkpoint(region=REGION, s3client_config=config)

# ---- notebook cell 49 ----
model = torchvision.models.resnet18()

# ---- notebook cell 50 ----
# Running this cell won't work, as you don't have write permissions to the demo bucket.
with checkpoint.writer(CHECKPOINT_URI + "epoch0.ckpt") as writer:
    torch.save(model.state_dict(), writer)

# ---- notebook cell 52 ----
with checkpoint.reader(CHECKPOINT_URI + "epoch0.ckpt") as reader:
    state_dict = torch.load(reader)

model.load_state_dict(state_dict)

# ---- check (not from the source) ----
print("NB", len(dataset), tuple(images.shape), len(state_dict))
