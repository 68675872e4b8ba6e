"""Distributed data parallel: a compiled spec trains under DDP on 2 CPU processes (gloo) and the ranks agree."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import archdsl

from conftest import SPECS

WORLD_SIZE = 2
STEPS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE)
    try:
        torch.manual_seed(rank)  # different initial weights on purpose: DDP must broadcast rank 0's
        model = archdsl.load(SPECS / "resnet18.arch", classes=10, input=[3, 32, 32])
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        # the model compiles to one graph; DDP wraps the compiled module unchanged (its own bookkeeping is
        # Python that dynamo would have to break the graph for, so it stays outside)
        compiled = torch.nn.parallel.DistributedDataParallel(torch.compile(model, fullgraph=True, backend="aot_eager"))
        optimizer = torch.optim.SGD(compiled.parameters(), lr=0.1, momentum=0.9)
        data = torch.Generator().manual_seed(100 + rank)  # each rank sees its own shard of the data
        losses = []
        for _ in range(STEPS):
            x = torch.randn(4, 3, 32, 32, generator=data)
            y = torch.randint(0, 10, (4,), generator=data)
            loss = torch.nn.functional.cross_entropy(compiled(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        params = {name: p.detach().clone() for name, p in model.named_parameters()}
        torch.save({"params": params, "initial": initial, "losses": losses}, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_compiled_spec_trains_under_ddp_and_ranks_stay_identical(tmp_path):
    mp.spawn(_train, args=(_free_port(), str(tmp_path)), nprocs=WORLD_SIZE, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]
    first, second = ranks
    assert first["params"].keys() == second["params"].keys() and len(first["params"]) == 62
    for name, value in first["params"].items():
        assert torch.equal(value, second["params"][name]), f"ranks disagree on {name}"
        assert not torch.equal(value, first["initial"][name]), f"{name} did not train"
    assert not torch.equal(first["initial"]["conv1.weight"], second["initial"]["conv1.weight"])
    assert all(torch.isfinite(torch.tensor(r["losses"])).all() for r in ranks)
    assert first["losses"] != second["losses"]  # each rank trained on its own data
