"""Runtime graph rewrites: what a deployment runtime (TensorRT, eager PyTorch on a CUDA GPU) actually executes."""
from __future__ import annotations

from hwaware.graph.layer import Graph
from hwaware.runtime.eager import rewrite
from hwaware.runtime.tensorrt import fuse


def runtime_graph(graph: Graph, runtime: str) -> Graph:
    """The kernels ``runtime`` runs on a GPU for a captured eager graph: TensorRT's engine (:func:`fuse`), eager
    PyTorch's (:func:`rewrite`); any other runtime (``kernel``: a bare cuDNN/cuBLAS call) gets ``graph`` itself."""
    if runtime == "tensorrt":
        return fuse(graph)
    if runtime == "pytorch":
        return rewrite(graph)
    return graph
