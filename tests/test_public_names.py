"""Every public name of the original s3dlio 0.10.0 (`dir(s3dlio)`, features §0.1) exists here with the
same kind (function, class, module-level object), so code written for the original finds what it calls.
The behaviour behind each name is tested with its feature (flat API, formats, loaders, checkpoints, ...);
this test is the inventory."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import s3dlio


def _words(text: str) -> list[str]:
    return text.split()


NATIVE_FUNCTIONS = _words("""configure_s3 configure_tokio_threads create_async_loader create_azure_writer create_bucket
create_dataset create_direct_filesystem_writer create_filesystem_writer create_multi_endpoint_store
create_multi_endpoint_store_from_env create_multi_endpoint_store_from_file
create_multi_endpoint_store_from_template create_s3_writer create_tfrecord_index delete delete_bucket download
exists exists_async finalize_distributed_checkpoint finalize_op_log gcs_get_channel_count gcs_get_rapid_mode
gcs_query_rapid_bucket gcs_set_channel_count gcs_set_rapid_mode generate_and_write_parquet
generate_and_write_parquet_schema generate_and_write_parquet_schema_streaming generate_data
generate_data_with_threads generate_into_buffer generate_npz_bytes generate_parquet_bytes
generate_parquet_bytes_schema get get_async get_into_async get_many get_many_async get_many_stats
get_many_stats_async get_range get_range_async get_tfrecord_index_entries head_async index_tfrecord_bytes
init_logging init_op_log is_op_log_active list list_containers load_checkpoint load_checkpoint_with_validation
load_checkpoint_with_validation_view mkdir mkdir_async mp_get object_capabilities op_log_stats
parquet_cache_clear parquet_cache_invalidate parquet_cache_len parquet_get_rg parquet_rg_row_offsets
parse_s3_uri_full put put_async put_bytes put_bytes_async put_many put_many_async py_default_data_gen_threads
py_total_cpus read_npz read_tfrecord_index save_checkpoint save_distributed_shard stat stat_async
stat_many_async upload""")

NATIVE_CLASSES = _words("""BytesView ExportStillReferencedError Generator LengthMismatchError MultiEndpointStore
MultipartUploadWriter ObjectMetadata ObjectNotFoundError ParquetStreamIter PyAsyncDataLoader
PyAsyncDataLoaderIter PyBytesAsyncDataLoader PyBytesAsyncDataLoaderIter PyBytesDataLoaderSyncIter
PyCheckpointInfo PyCheckpointReader PyCheckpointStore PyCheckpointWriter PyDataset PyLoaderOptions
PyObjectDataLoaderSyncIter PyObjectItem PyObjectWriter PyParquetIndex PyParquetItem PyParquetStreamLoader
PyS3AsyncDataLoader PyS3AsyncDataLoaderCompat PyS3Dataset PyS3DatasetCompat PyVecDataset PyWriterOptions
ReservedBuffer UnsupportedOperationError""")

PYTHON_LEVEL = _words("""list_keys list_full_uris get_object stat_object get_by_key stat_key ObjectStoreMapDataset
ObjectStoreIterableDataset S3MapDataset S3IterableDataset JaxIterable S3JaxIterable make_tf_dataset""")

PRIVATE = _words("""_put_export_stats _put_test_queue_export _put_test_retain_next_clone _put_test_retained
_put_test_release_retained""")


def test_counts_match_the_inventory() -> None:
    assert len(NATIVE_FUNCTIONS) == 82 and len(set(NATIVE_FUNCTIONS)) == 82
    assert len(NATIVE_CLASSES) == 34


@pytest.mark.parametrize("name", NATIVE_FUNCTIONS + PRIVATE)
def test_function_exists(name: str) -> None:
    obj = getattr(s3dlio, name)
    assert callable(obj) and not inspect.isclass(obj), f"{name} is {type(obj)}"


@pytest.mark.parametrize("name", NATIVE_CLASSES)
def test_class_exists(name: str) -> None:
    assert inspect.isclass(getattr(s3dlio, name)), name


@pytest.mark.parametrize("name", PYTHON_LEVEL)
def test_python_level_name_exists(name: str) -> None:
    assert callable(getattr(s3dlio, name)), name


def test_the_original_aliases_its_loader_compat_class() -> None:
    assert s3dlio.PyS3AsyncDataLoader is s3dlio.PyS3AsyncDataLoaderCompat


def test_version_and_the_exceptions_hierarchy() -> None:
    assert s3dlio.__version__
    assert issubclass(s3dlio.ObjectNotFoundError, FileNotFoundError)
    assert issubclass(s3dlio.LengthMismatchError, ValueError)
    assert issubclass(s3dlio.UnsupportedOperationError, NotImplementedError)
    assert issubclass(s3dlio.ExportStillReferencedError, RuntimeError)


def test_runtime_calls_documented_meaning() -> None:
    assert s3dlio._put_export_stats() == dict.fromkeys(
        ["quiesce_timeouts", "queued", "internal_errors", "shutdown_attach_waits",
         "shutdown_attach_wait_timeouts", "releaser_attaches", "test_releaser_parked"], 0)
    assert s3dlio._put_test_retained() == 0
    assert s3dlio.py_total_cpus() >= 1


def test_looking_names_up_imports_no_framework() -> None:
    """Resolving every name the original exports (except the framework classes) imports no framework."""
    code = ("import sys, s3dlio\n"
            f"names = {NATIVE_FUNCTIONS + NATIVE_CLASSES + PRIVATE!r}\n"
            "[getattr(s3dlio, n) for n in names]\n"
            "bad = [m for m in ('torch', 'tensorflow', 'jax', 'numpy', 'boto3', 'botocore') if m in sys.modules]\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
