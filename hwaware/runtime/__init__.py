"""Runtime graph rewrites: what a deployment runtime (TensorRT, eager PyTorch on a CUDA GPU) actually executes."""
from __future__ import annotations

from hwaware.graph.layer import Graph
from hwaware.graph.transform import derived
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


def runtime_kernels(graph: Graph, runtime: str) -> Graph:
    """:func:`runtime_graph`, remembered per graph and runtime (:func:`hwaware.graph.transform.derived`): every GPU
    estimator asks it on each prediction, and the TensorRT fusion costs most of a warm call."""
    return derived(graph, runtime, lambda g: runtime_graph(g, runtime))
