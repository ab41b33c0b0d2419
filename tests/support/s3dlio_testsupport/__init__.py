"""Test and benchmark support for s3dlio: start/stop local servers on 127.0.0.1 (procs, s3_procs) and a
fault-injecting proxy (fault_proxy). Importable once tests/support is on sys.path (the root conftest.py
and the benchmarks put it there); the package name is unique so it can shadow nothing."""
