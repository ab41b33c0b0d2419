# Source: awslabs/s3-connector-for-pytorch, README.md, commit 611b0ff038d07f59a7f570740b3cc2bab9a942af.
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved. Licensed under the BSD 3-Clause
# License (https://github.com/awslabs/s3-connector-for-pytorch/blob/611b0ff038d07f59a7f570740b3cc2bab9a942af/LICENSE).
#
# Run by tests/test_s3torchconnector_compat.py against SeaweedFS. Changed from the source: only the
# imports (`s3torchconnector` -> `s3dlio.compat.s3torchconnector`).
# The bucket placeholders ("my-bucket") are kept as written and filled in by the test before it runs the
# file, as a user would. Parts marked "(not from the source)" are the test's own.

# ---- README.md, 'Direct S3Client Usage' ----
from s3dlio.compat.s3torchconnector._s3client import S3Client

REGION = "us-east-1"
BUCKET_NAME = "my-bucket"
OBJECT_KEY = "large_object.bin"

s3_client = S3Client(region=REGION)

# Writing data to S3
data = b"content" * 1048576
s3writer = s3_client.put_object(bucket=BUCKET_NAME, key=OBJECT_KEY)
s3writer.write(data)
s3writer.close()

# Reading data from S3
s3reader = s3_client.get_object(bucket=BUCKET_NAME, key=OBJECT_KEY)
data = s3reader.read()

# ---- setup (not from the source): the next README block reads OBJECT_NAME, which the README never defines ----
OBJECT_NAME = OBJECT_KEY

# ---- README.md, 'Reader Configurations', 'Direct method' block ----
# Direct S3Client usage for zero-copy partial reads into pre-allocated buffers, for memory efficiency and fast data transfer
from s3dlio.compat.s3torchconnector._s3client import S3Client
from s3dlio.compat.s3torchconnector import S3ReaderConstructor

s3_client = S3Client(region=REGION)
reader_constructor = S3ReaderConstructor.range_based(
    buffer_size=0  # No buffer, for direct transfer
)
s3reader = s3_client.get_object(
    bucket=BUCKET_NAME, 
    key=OBJECT_NAME, 
    reader_constructor=reader_constructor
)

buffer = bytearray(10 * 1024 * 1024)  # 10MB buffer
s3reader.seek(100 * 1024 * 1024)   # Skip to 100MB offset
bytes_read = s3reader.readinto(buffer)  # Direct read into buffer

# ---- check (not from the source) ----
print("READ", len(data), "INTO", bytes_read)
