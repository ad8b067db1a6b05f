"""Network features: the static analyser of the seed papers, computed once from a :class:`Graph`.

Definitions (paper 003, Bouzidi et al., Sec. III-B; paper 000, Metz et al., Table I):

* ``params``: trainable parameters (each shared tensor once); ``params_<kind>`` per layer kind.
* ``macs``/``flops``: per image (see :mod:`hwaware.graph.ops` for the conventions).
* ``activations``: sum of the output elements of every kernel-launching layer, per image.
* ``weighted_neurons``: paper 003 multiplies "the number of neurons in convolutional layers by the
  filter size height x width x depth" and takes fully connected neurons as they are. We read a
  neuron as one output element (as paper 000's neuron counts do), so a conv contributes
  out_elements x k_h x k_w x (C_in / groups) and a dense layer its output elements. The paper does
  not say how grouped convolutions count; we use the filter's true depth, C_in / groups.
* ``depth``: the largest number of conv/dense layers on any path through the graph.
* ``layers_<kind>``: layer counts per kind; ``kernels``: layers that launch a kernel.
* ``bytes_read``/``bytes_written``: per batch at the traced precision.
"""
from __future__ import annotations

from dataclasses import dataclass
from hwaware.graph.layer import Graph, LayerKind

_WEIGHTED = {LayerKind.CONV, LayerKind.DEPTHWISE_CONV, LayerKind.DENSE}
KINDS = tuple(k.value for k in LayerKind)


@dataclass(frozen=True)
class NetworkFeatures:
    """Per-network features; :meth:`as_dict` gives a flat, fixed-order mapping (:data:`FEATURE_NAMES`)."""

    params: int
    params_by_kind: dict[str, int]
    macs: float
    flops: float
    activations: float
    weighted_neurons: float
    layers_by_kind: dict[str, int]
    kernels: int
    depth: int
    batch_size: int
    input_channels: int
    input_height: int
    input_width: int
    bytes_read: int
    bytes_written: int

    def as_dict(self) -> dict[str, float]:
        d: dict[str, float] = {
            "params": self.params, "macs": self.macs, "flops": self.flops, "activations": self.activations,
            "weighted_neurons": self.weighted_neurons, "kernels": self.kernels, "depth": self.depth,
            "batch_size": self.batch_size, "input_channels": self.input_channels,
            "input_height": self.input_height, "input_width": self.input_width,
            "bytes_read": self.bytes_read, "bytes_written": self.bytes_written,
        }
        d.update({f"params_{k}": self.params_by_kind.get(k, 0) for k in KINDS})
        d.update({f"layers_{k}": self.layers_by_kind.get(k, 0) for k in KINDS})
        return d


FEATURE_NAMES: tuple[str, ...] = (
    "params", "macs", "flops", "activations", "weighted_neurons", "kernels", "depth", "batch_size",
    "input_channels", "input_height", "input_width", "bytes_read", "bytes_written",
    *(f"params_{k}" for k in KINDS), *(f"layers_{k}" for k in KINDS),
)


def network_features(graph: Graph) -> NetworkFeatures:
    """Compute :class:`NetworkFeatures` of a captured graph.

    >>> from hwaware.graph import capture
    >>> f = network_features(capture("resnet18"))
    >>> f.params, f.depth
    (11689512, 18)
    """
    batch = graph.batch_size
    params_by_kind: dict[str, int] = {}
    layers_by_kind: dict[str, int] = {}
    weighted = 0
    depth: list[int] = []
    for layer in graph.layers:
        k = layer.kind.value
        params_by_kind[k] = params_by_kind.get(k, 0) + layer.params
        layers_by_kind[k] = layers_by_kind.get(k, 0) + 1
        if layer.kind in (LayerKind.CONV, LayerKind.DEPTHWISE_CONV):
            a = layer.attrs
            per_out = a["in_channels"] // a["groups"]
            for d in a["kernel"]:
                per_out *= d
            weighted += layer.output_elements * per_out
        elif layer.kind is LayerKind.DENSE:
            weighted += layer.output_elements
        prev = max((depth[i] for i in layer.inputs if i >= 0), default=0)
        depth.append(prev + (layer.kind in _WEIGHTED))
    shape = graph.input_shape
    return NetworkFeatures(
        params=graph.total_params,
        params_by_kind=params_by_kind,
        macs=graph.macs / batch,
        flops=graph.flops / batch,
        activations=sum(l.output_elements for l in graph.kernels()) / batch,
        weighted_neurons=weighted / batch,
        layers_by_kind=layers_by_kind,
        kernels=len(graph.kernels()),
        depth=max(depth, default=0),
        batch_size=batch,
        input_channels=shape[1] if len(shape) > 1 else 1,
        input_height=shape[2] if len(shape) > 2 else 1,
        input_width=shape[3] if len(shape) > 3 else 1,
        bytes_read=sum(l.bytes_read for l in graph.layers),
        bytes_written=sum(l.bytes_written for l in graph.layers),
    )

