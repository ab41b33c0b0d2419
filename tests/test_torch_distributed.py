"""Two ranks (gloo, torch.multiprocessing) x two DataLoader workers each over one prefix on SeaweedFS:
the samples read are the dataset, each exactly once per epoch, with one listing shared through a
listing manifest that rank 0 writes."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import s3dlio
from s3dlio_testsupport.procs import free_port

N = 101  # not a multiple of 2 ranks x 2 workers

SCRIPT = textwrap.dedent('''
    import json, sys
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    from torch.utils.data import DataLoader
    from s3dlio.torch import ObjectStoreIterableDataset

    def run(rank, prefix, manifest, port, out):
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
        ds = ObjectStoreIterableDataset(prefix, enable_sharding=True, shuffle=True, seed=5,
                                        listing_manifest=manifest)
        result = {"len": len(ds), "listed": len(ds.uris())}
        for epoch in (0, 1):
            ds.set_epoch(epoch)
            ids = []
            for batch in DataLoader(ds, batch_size=4, num_workers=2):
                ids += [int(x) for x in batch[:, :8].contiguous().view(torch.int64).flatten()]
            result[str(epoch)] = ids
        gathered = [None, None]
        dist.all_gather_object(gathered, result["0"])
        result["gathered"] = gathered
        dist.barrier()
        dist.destroy_process_group()
        with open(f"{out}/rank{rank}.json", "w") as f:
            json.dump(result, f)

    if __name__ == "__main__":
        prefix, manifest, port, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        mp.spawn(run, args=(prefix, manifest, port, out), nprocs=2, join=True)
''')


@pytest.mark.timeout(1500)
def test_two_ranks_two_workers_read_each_sample_once(s3_prefix: str, tmp_path: Path) -> None:
    s3dlio.put_many([(f"{s3_prefix}shard{i % 4}/s{i:04d}", struct.pack("<q", i) + bytes(56))
                     for i in range(N)])
    manifest = f"{s3_prefix.rstrip('/')}-manifest/listing.json.zst"
    script = tmp_path / "ranks.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ)
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    proc = subprocess.run([sys.executable, str(script), s3_prefix, manifest, str(free_port()), str(out)],
                          env=env, capture_output=True, text=True, timeout=1400)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    # the ranks ran for minutes: the server has closed this process's idle pooled connections (the S3
    # client failed a HEAD on them three times, "connection closed before a response": reported)
    from s3dlio_core.registry import clear_store_cache

    clear_store_cache()
    assert s3dlio.stat(manifest)["size"] > 0  # rank 0 wrote the listing once; rank 1 read it
    for epoch in ("0", "1"):
        both = ranks[0][epoch] + ranks[1][epoch]
        assert sorted(both) == list(range(N)), epoch  # every sample, exactly once
        assert not set(ranks[0][epoch]) & set(ranks[1][epoch])
    assert ranks[0]["len"] + ranks[1]["len"] == N and ranks[0]["listed"] == ranks[1]["listed"] == N
    assert ranks[0]["0"] != ranks[0]["1"]  # a new order in epoch 1
    assert ranks[0]["gathered"] == [ranks[0]["0"], ranks[1]["0"]]
