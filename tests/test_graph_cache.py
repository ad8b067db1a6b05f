"""Graph cache: cached graphs equal fresh captures exactly; any structure change misses; state the
structural key does not see is either in the key (module globals) or caught by verify mode."""
from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

from hwaware.errors import GraphCaptureError
from hwaware.graph.sources import capture
from hwaware.graph.cache import GraphCache, graph_from_bytes, graph_to_bytes, use_graph_cache
from hwaware.graph.capture import capture_module
from hwaware.graph.structure import module_keys
from hwaware.search import get_space

FLAG = False  # read by Branchy.forward by name: part of its key
HELPER_FLAG = False  # read only through a helper function: not seen by the key


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return torch.relu(y) if FLAG else y


def _helper(y: torch.Tensor) -> torch.Tensor:
    return torch.relu(y) if HELPER_FLAG else y


class Hidden(Branchy):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _helper(self.conv(x))


@pytest.fixture(autouse=True)
def disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWAWARE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("HWAWARE_GRAPH_CACHE", raising=False)


def _fresh(model: nn.Module, shape: tuple[int, ...]):
    with use_graph_cache(GraphCache(None)):
        return capture_module(model, shape)


def _count_traces(monkeypatch) -> list[int]:
    cap = importlib.import_module("hwaware.graph.capture")  # the module: the package attribute is the function

    calls = [0]
    real = cap._trace

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(cap, "_trace", counting)
    return calls


def _nb201(arch: str) -> nn.Module:
    space = get_space("nb201")
    return space.shell({"arch": arch, "dataset": "cifar10"})


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv3_large_100", "vit_tiny_patch16_224"])
def test_cached_graph_equals_fresh_capture_layer_by_layer(name, tmp_path):
    disk = GraphCache(tmp_path / "g.sqlite")
    with use_graph_cache(disk):
        first = capture(name)
        hit = capture(name)
    reopened = GraphCache(tmp_path / "g.sqlite")  # a new process: from disk
    with use_graph_cache(reopened):
        from_disk = capture(name)
    assert disk.hits == 1 and reopened.hits == 1
    for g in (hit, from_disk, graph_from_bytes(graph_to_bytes(first))):
        assert g.layers == first.layers  # every field of every layer
        assert (g.total_params, g.skipped, g.input_shape, g.precision, g.name) == \
               (first.total_params, first.skipped, first.input_shape, first.precision, first.name)


def test_same_structure_is_not_traced_again(monkeypatch):
    calls = _count_traces(monkeypatch)
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    a, b = capture(_nb201(arch)), capture(_nb201(arch))  # two separately built modules
    assert calls[0] == 1
    assert a.layers == b.layers == _fresh(_nb201(arch), (1, 3, 32, 32)).layers


@pytest.mark.parametrize("change", ["kernel", "channels", "op", "stride", "input", "precision"])
def test_a_structure_change_always_misses(change, monkeypatch):
    def net(k=3, c=8, s=1):
        return nn.Sequential(nn.Conv2d(3, c, k, s, k // 2), nn.BatchNorm2d(c), nn.ReLU())

    base = capture(net(), input_size=(3, 16, 16))
    calls = _count_traces(monkeypatch)
    other = {"kernel": lambda: capture(net(k=5), input_size=(3, 16, 16)),
             "channels": lambda: capture(net(c=9), input_size=(3, 16, 16)),
             "op": lambda: capture(nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU6()),
                                   input_size=(3, 16, 16)),
             "stride": lambda: capture(net(s=2), input_size=(3, 16, 16)),
             "input": lambda: capture(net(), input_size=(3, 16, 17)),
             "precision": lambda: capture(net(), input_size=(3, 16, 16), precision="fp16")}[change]()
    assert calls[0] == 1 and other.layers != base.layers


def test_nb201_one_edge_changed_misses():
    a = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    b = a.replace("skip_connect~2", "nor_conv_1x1~2")
    ma, mb = _nb201(a), _nb201(b)
    ka, kb = module_keys(ma).get(id(ma)), module_keys(mb).get(id(mb))
    assert ka is not None and kb is not None and ka != kb
    assert capture(_nb201(b)).layers == _fresh(_nb201(b), (1, 3, 32, 32)).layers


def test_module_globals_the_forward_reads_are_in_the_key(monkeypatch):
    off = capture(Branchy(), input_size=(3, 8, 8))
    monkeypatch.setattr(__import__(__name__), "FLAG", True)
    on = capture(Branchy(), input_size=(3, 8, 8))
    assert len(on.layers) == len(off.layers) + 1


def test_state_the_key_does_not_see_is_caught_by_verify_mode(monkeypatch):
    capture(Hidden(), input_size=(3, 8, 8))
    monkeypatch.setattr(__import__(__name__), "HELPER_FLAG", True)
    stale = capture(Hidden(), input_size=(3, 8, 8))  # documented limitation: a helper's global is not seen
    assert len(stale.layers) == len(_fresh(Hidden(), (1, 3, 8, 8)).layers) - 1
    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "verify")
    with pytest.raises(GraphCaptureError, match="HWAWARE_GRAPH_CACHE=0"):
        capture(Hidden(), input_size=(3, 8, 8))
    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")
    assert capture(Hidden(), input_size=(3, 8, 8)).layers == _fresh(Hidden(), (1, 3, 8, 8)).layers


def test_unkeyable_modules_are_traced_every_time(monkeypatch):
    hooked = Branchy()
    hooked.conv.register_forward_hook(lambda *a: None)
    holder = Branchy()
    holder.scale = torch.ones(1)  # a plain tensor attribute: its values are not in any key
    assert id(hooked) not in module_keys(hooked) and id(holder) not in module_keys(holder)
    calls = _count_traces(monkeypatch)
    for m in (hooked, hooked, holder, holder):
        capture(m, input_size=(3, 8, 8))
    capture(Branchy(), input_size=(3, 8, 8), trace_device="cpu")  # a CPU trace reads values: never cached
    capture(Branchy(), input_size=(3, 8, 8), trace_device="cpu")
    assert calls[0] == 6


def test_shared_submodules_are_part_of_the_key():
    def shared():
        conv = nn.Conv2d(4, 4, 3, padding=1)
        return nn.Sequential(conv, conv)

    separate = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1))
    a = shared()
    assert module_keys(a)[id(a)] != module_keys(separate)[id(separate)]
    # (fresh modules each time: a trace of tied weights leaves them requires_grad=False, a capture bug outside the cache)
    cached, fresh = capture(shared(), input_size=(4, 8, 8)), _fresh(shared(), (1, 4, 8, 8))
    assert cached.total_params == fresh.total_params == 148 and cached.layers == fresh.layers
    assert capture(separate, input_size=(4, 8, 8)).total_params == 296


def test_an_empty_cache_given_is_the_one_used(tmp_path):
    """An explicitly given cache is used even while empty (an empty one has length 0, so it is falsy)."""
    mine = GraphCache(tmp_path / "mine.sqlite")
    assert len(mine) == 0
    capture_module(nn.Sequential(nn.Conv2d(3, 4, 3)), (1, 3, 8, 8), cache=mine)
    assert mine.misses == 1 and len(mine) == 1


def test_keys_are_the_same_in_every_process():
    """A key is the on-disk cache's across processes: nn.Conv2d's code holds a frozenset constant, whose repr followed
    the process's string hash seed, so its keys (and every network's with a conv) differed between processes and the
    disk cache missed (helper-157)."""
    import os
    import subprocess
    import sys

    code = ("import timm; from torch import nn; from hwaware.graph.meta import meta_device; "
            "from hwaware.graph.structure import module_keys\n"
            "with meta_device(): ms = [nn.Conv2d(3, 8, 3), timm.create_model('resnet18')]\n"
            "print([module_keys(m)[id(m)] for m in ms])")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(keys) == 1, keys
