"""Executed PTX instructions of a layer graph, counted layer by layer (no ``nn.Module`` needed).

The whole-network IPC model (``ipc-tree``, papers 000/001) needs a network's executed PTX instructions. A
:class:`~hwaware.graph.Graph` has no module to compile, and many graphs come from stores of measured tables, so each
*distinct layer* (by :meth:`Layer.signature`: op, shapes, attributes) is rebuilt as a one-op PyTorch module (the
micro-benchmarks' rebuild, :func:`hwaware.graph.rebuild.build_op`), compiled
with the compile path (:func:`hwaware.ptx.compile.compile_module`: torch.export -> TVM -> NVRTC) and counted with the
analyzer; a network's count is the sum over its layers. Choices, and why:

* **Unfused, like eager PyTorch.** Each layer is its own kernel(s), as eager PyTorch runs it; TVM's cross-layer
  fusion (conv + bias + ReLU) does not happen. The counts are TVM's kernels' PTX, not cuDNN's SASS: a complexity
  measure with the same inputs for every GPU, as in the paper (which counted its own PTX, not the vendor library's).
* **Layers compiled in chunks** (one TVM build of ``chunk`` independent layers: one input each) because a build costs
  ~0.8 s whatever its size (measured 2026-11-30: one 3x3 conv 0.9 s alone, six mixed layers 2.4 s together). Each
  launch belongs to the layer whose input it reads, directly or through buffers that layer's launches wrote.
* **Launches that read only parameters are not counted**: TVM transposes dense weights in a kernel of its own, a
  layout change done once at load time, not per inference.
* Views (``reshape``) launch nothing and count 0. An op this module cannot rebuild raises
  :class:`UnsupportedLayerError` naming it.

Counts are cached per (signature, arch) in :data:`COUNTS_FILE` (committed, written by ``scripts/count_instructions.py``
for the training networks) and in the user cache for anything else.
"""
from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwaware.errors import DataDependentError, HwawareError, StepLimitError, UnsupportedLayerError
from hwaware.graph.layer import Graph, Layer

if TYPE_CHECKING:
    from hwaware.graph.rebuild import RunnableOp

ARCH = "sm_72"  # the PTX every count is for (PTX is virtual: one ISA for every GPU, the paper's premise)
COUNTS_FILE = "layer_instructions.json.gz"  # in hwaware/ptx/data/
CHUNK = 12  # layers per TVM build


def layer_op(layer: Layer) -> RunnableOp:
    """``layer`` rebuilt on the CPU as the micro-benchmarks rebuild it (:func:`hwaware.graph.rebuild.build_op`: same
    shapes and attributes, its own parameters): its :meth:`~RunnableOp.module` is compiled, fed
    :attr:`~RunnableOp.input_shapes`. Raises :class:`UnsupportedLayerError` for an op it cannot rebuild."""
    from hwaware.graph.rebuild import build_op  # imports torch: only when something is compiled

    try:
        return build_op(layer, "cpu")
    except UnsupportedLayerError as exc:
        raise UnsupportedLayerError(f"the PTX instruction count has no module for {layer.op} ({layer.kind.value}) with "
                                    f"inputs {list(layer.input_shapes)} ({exc}); use an estimator that does not count "
                                    f"PTX (resperfnet-gpu)") from None


def _chunk_module(modules: Sequence[Any], arity: Sequence[int]) -> Any:
    """Independent layers as one module whose forward takes each layer's ``arity`` inputs in turn."""
    from torch import nn

    class Layers(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = nn.ModuleList(modules)

        def forward(self, *xs: Any) -> tuple[Any, ...]:
            out, i = [], 0
            for m, n in zip(self.m, arity):
                out.append(m(*xs[i:i + n]))
                i += n
            return tuple(out)
    return Layers()


def _attribute(launches: Sequence[Any], input_layer: Sequence[int]) -> list[int | None]:
    """The layer of each launch (None: it reads only parameters); ``input_layer[i]``: the layer of input ``xs_i``.
    A launch reads a layer's input or a buffer an earlier launch of that layer wrote (its last operand)."""
    owner: dict[str, int] = {}
    out: list[int | None] = []
    for launch in launches:
        layer = next((input_layer[int(o[3:])] if o.startswith("xs_") else owner[o] for o in launch.operands
                      if o.startswith("xs_") or o in owner), None)
        if layer is not None:
            owner.update((o, layer) for o in launch.operands if not o.startswith(("xs_", "p_", "metadata")))
        out.append(layer)
    return out


def count_layers(layers: Sequence[Layer], arch: str = ARCH) -> dict[str, tuple[int, int]]:
    """``{signature: (thread instructions, warp instructions)}`` of each layer, compiled ``CHUNK`` at a time."""
    import torch

    from hwaware.ptx.compile import compile_module, count_network_instructions

    out: dict[str, tuple[int, int]] = {}
    todo = []
    for l in {l.signature(): l for l in layers}.values():
        if not l.kind.launches_kernel:
            out[l.signature()] = (0, 0)
        else:
            todo.append((l, layer_op(l)))  # every unsupported op raises before anything compiles
    for c in range(0, len(todo), CHUNK):
        chunk = todo[c:c + CHUNK]
        arity = [len(op.input_shapes) for _, op in chunk]
        wrapper = _chunk_module([op.module() for _, op in chunk], arity)
        inputs = [torch.zeros(s) for _, op in chunk for s in op.input_shapes]
        input_layer = [k for k, n in enumerate(arity) for _ in range(n)]
        compiled = compile_module(wrapper, tuple(inputs), arch=arch)
        # a launch that reads only parameters is never counted, so never run: VGG16's 25088 x 4096 weight transpose
        # (103 M threads) passed the interpreter's limit
        kept = [(layer, launch) for layer, launch in zip(_attribute(compiled.launches, input_layer), compiled.launches)
                if layer is not None]
        ops = ", ".join(sorted({l.op for l, _ in chunk}))
        try:
            counts = count_network_instructions(compiled.ptx, [launch for _, launch in kept]).per_kernel
        except DataDependentError as exc:  # the `ptx count` advice (pass the buffer) does not apply to a layer graph
            raise UnsupportedLayerError(f"the executed PTX instructions of a layer among {ops} depend on the data "
                                        f"({exc.location}: a branch reads {exc.param}), so they cannot be counted; use "
                                        "an estimator that does not count PTX (resperfnet-gpu)") from None
        except StepLimitError as exc:  # its advice (a smaller grid) is the analyzer's user's, not an estimate's
            raise UnsupportedLayerError(f"a layer among {ops} cannot be counted within the PTX interpreter's limits "
                                        f"({str(exc).split('; ')[0]}); use an estimator that does not count PTX "
                                        "(resperfnet-gpu), or a smaller input") from None
        totals = [[0, 0] for _ in chunk]
        for (layer, _), (_, thread, warp) in zip(kept, counts):
            totals[layer][0] += thread
            totals[layer][1] += warp
        for (l, _), (thread, warp) in zip(chunk, totals):
            out[l.signature()] = (thread, warp)
    return out


def shipped_counts_path() -> Path:
    return Path(str(resources.files("hwaware.ptx").joinpath("data", COUNTS_FILE)))


def _user_path() -> Path | None:
    from hwaware.sqlite_store import cache_dir

    folder = cache_dir()
    return folder / COUNTS_FILE if folder is not None else None


def load_counts(path: Path | None) -> dict[str, tuple[int, int]]:
    if path is None or not path.is_file():
        return {}
    with gzip.open(path, "rt") as f:
        doc = json.load(f)
    if doc.get("arch") != ARCH:
        return {}
    return {k: (int(v[0]), int(v[1])) for k, v in doc["counts"].items()}


def save_counts(path: Path, counts: dict[str, tuple[int, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with gzip.open(tmp, "wt") as f:
        json.dump({"arch": ARCH, "counts": {k: list(v) for k, v in sorted(counts.items())}}, f)
    tmp.replace(path)


class InstructionCounter:
    """Executed warp (and thread) PTX instructions of graphs: shipped counts, then the user's cache, then a compile.

    >>> from hwaware.zoo.nb201 import nb201_graph
    >>> InstructionCounter().warp_instructions(nb201_graph("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")) > 0
    True
    """

    def __init__(self, compile_missing: bool = True) -> None:
        self.compile_missing = compile_missing
        self.counts_ = {**load_counts(_user_path()), **load_counts(shipped_counts_path())}

    def ensure(self, layers: Iterable[Layer]) -> None:
        """Count the layers not yet counted (compiles; needs ``pip install 'hwaware[ptx]'``)."""
        missing = [l for l in layers if l.signature() not in self.counts_]
        if not missing:
            return
        if not self.compile_missing:
            raise HwawareError(f"{len(missing)} layers have no PTX instruction count (first: {missing[0].op} "
                               f"{list(missing[0].input_shapes)}); run scripts/count_instructions.py")
        fresh = count_layers(missing)
        self.counts_.update(fresh)
        user = _user_path()
        if user is not None:  # caching disabled: counted again next process
            save_counts(user, {**load_counts(user), **fresh})

    def instructions(self, graph: Graph) -> tuple[int, int]:
        """(thread, warp) instructions of one forward pass of ``graph``."""
        self.ensure(graph.layers)
        thread = warp = 0
        for l in graph.layers:
            t, w = self.counts_[l.signature()]
            thread, warp = thread + t, warp + w
        return thread, warp

    def warp_instructions(self, graph: Graph) -> int:
        return self.instructions(graph)[1]
