"""Analytic roofline baseline: the yardstick every learned estimator must beat.

Per kernel the runtime launches (:func:`hwaware.runtime.runtime_graph`: TensorRT's fused engine, eager PyTorch's
graph with its convolutions' bias adds): ``max(FLOPs / peak, bytes / DRAM bandwidth) + launch overhead``.
Peak is the rate a framework achieves for the platform's precision, :meth:`GPUSpec.framework_tflops`
(tensor cores for conv/dense/matmul layers; e.g. fp16 on Pascal GeForce runs at the fp32 rate, not
the native 1/64 half rate; fp32 from Ampere on at the TF32 rate where the runtime runs the layer on it,
:func:`hwaware.estimators.gpu_features.runs_tf32`); views cost nothing.
Pre: the input's host->device copy over the PCIe link of the catalog's ``bus_interface`` plus one
launch; post: the output's copy back plus one launch. On a Jetson (integrated SoC) host and GPU
share DRAM, so there is no copy.

``launch_overhead_us`` is an ASSUMPTION (not a measurement): the order of magnitude of one eager
PyTorch op's dispatch and kernel launch (~10 us) and of one TensorRT kernel launch (~3 us).
Unknown ops are timed as memory-bound copies and reported in the estimate.
"""
from __future__ import annotations

from hwaware.errors import InvalidArgumentError, UnsupportedPlatformError, positive_number
from hwaware.estimators.base import NO_INTERVAL_NOTE, Estimate, Estimator, LayerEstimate, register_estimator
from hwaware.estimators.gpu_features import runs_tf32
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.ops import numel
from hwaware.hardware.catalog import PRECISIONS, GPUSpec, Platform
from hwaware.runtime import runtime_kernels

LAUNCH_OVERHEAD_US = {"pytorch": 10.0, "tensorrt": 3.0}  # the ASSUMPTION above; ``launch_overhead_us`` overrides
_TENSOR_CORE_KINDS = {LayerKind.CONV, LayerKind.DEPTHWISE_CONV, LayerKind.DENSE, LayerKind.MATMUL, LayerKind.ATTENTION}


@register_estimator
class RooflineEstimator(Estimator):
    """Roofline time per kernel the runtime launches plus a fixed launch overhead per kernel.

    >>> from hwaware.graph import capture
    >>> from hwaware.hardware import Platform
    >>> est = RooflineEstimator().predict(capture("resnet18"), Platform.resolve("v100"))
    >>> est.total_ms > est.exe_ms > 0
    True
    """

    name = "roofline"
    # 2: fp32 convolutions (TensorRT's dense layers too) at the TF32 rate from Ampere on; 3: the runtime's kernels
    # (hwaware.runtime.runtime_graph), and the output copy counted from the last layer's output, a view's too
    version = "3"

    def __init__(self, launch_overhead_us: dict[str, float] | None = None, efficiency: float = 1.0,
                 peak_tflops: float | None = None, bandwidth_gbs: float | None = None) -> None:
        self.launch_overhead_us = launch_overhead_us
        self.efficiency = efficiency
        self.peak_tflops = peak_tflops  # overrides the catalog (e.g. a CPU: peak and bandwidth measured)
        self.bandwidth_gbs = bandwidth_gbs

    def supports(self, platform: Platform) -> bool:
        overridden = self.peak_tflops is not None and self.bandwidth_gbs is not None
        return overridden or isinstance(platform.device, GPUSpec)  # else: catalog peak and bandwidth needed

    def _overhead_ms(self, platform: Platform) -> float:
        return {**LAUNCH_OVERHEAD_US, **(self.launch_overhead_us or {})}[platform.runtime] / 1e3

    def _check_parameters(self) -> None:
        """One line naming a parameter that cannot give a physical answer (checked when used: the constructor only
        stores them, as scikit-learn's contract asks)."""
        table = self.launch_overhead_us
        if table is not None and (not isinstance(table, dict) or set(table) - set(LAUNCH_OVERHEAD_US) or not all(
                positive_number(v) or v == 0 for v in table.values())):
            raise InvalidArgumentError(f"launch_overhead_us must map runtimes ({', '.join(LAUNCH_OVERHEAD_US)}) to "
                                       f"microseconds >= 0, got {table!r}")
        if not positive_number(self.efficiency) or self.efficiency > 1:
            raise InvalidArgumentError(f"efficiency is the share of peak and bandwidth reached: a number in (0, 1], "
                                       f"got {self.efficiency!r}")
        given = [x for x in (self.peak_tflops, self.bandwidth_gbs) if x is not None]
        if len(given) == 1 or not all(positive_number(x) for x in given):
            raise InvalidArgumentError("peak_tflops and bandwidth_gbs override the catalog together: give both, each "
                                       f"a positive number, or neither (got {self.peak_tflops!r}, "
                                       f"{self.bandwidth_gbs!r})")

    def layer_ms(self, layer: Layer, platform: Platform) -> float:
        if not layer.kind.launches_kernel:
            return 0.0
        peak, bandwidth = self._rates(platform, layer)
        compute_s = layer.flops / (peak * 1e12 * self.efficiency)
        memory_s = (layer.bytes_read + layer.bytes_written) / (bandwidth * 1e9 * self.efficiency)
        return max(compute_s, memory_s) * 1e3 + self._overhead_ms(platform)

    def _rates(self, platform: Platform, layer: Layer) -> tuple[float, float]:
        """(peak TFLOPS, DRAM GB/s) for ``layer`` on ``platform``."""
        gpu = platform.device
        if self.peak_tflops is not None and self.bandwidth_gbs is not None:
            return self.peak_tflops, self.bandwidth_gbs
        assert isinstance(gpu, GPUSpec)
        return (gpu.framework_tflops(platform.precision, tensor_cores=layer.kind in _TENSOR_CORE_KINDS,
                                     tf32=runs_tf32(layer.kind, platform.runtime)), gpu.memory_bandwidth_gbs)

    def transfer_ms(self, nbytes: int, platform: Platform) -> float:
        link = getattr(platform.device, "host_link_gbs", None)  # None: shared memory (Jetson, CPU)
        copy_ms = 0.0 if link is None else nbytes / (link * 1e9) * 1e3
        return copy_ms + self._overhead_ms(platform)

    def predict(self, graph: Graph, platform: Platform) -> Estimate:
        self._check_parameters()
        if not self.supports(platform):
            raise UnsupportedPlatformError(f"the roofline estimator needs a GPU from the catalog, not {platform.device.name}")
        # the kernels the runtime runs (TensorRT's fused engine, eager PyTorch's bias adds), as every GPU estimator
        # times them; a CPU (peak and bandwidth given) runs the graph as captured
        kernels = runtime_kernels(graph, platform.runtime) if isinstance(platform.device, GPUSpec) else graph
        rows = tuple(LayerEstimate(l.index, l.module, l.kind.value, l.op, l.input_shapes, l.output_shapes, l.macs,
                                   self.layer_ms(l, platform)) for l in kernels.layers)
        exe = sum(r.ms for r in rows)
        in_bytes = PRECISIONS[graph.precision] * numel(graph.input_shape)
        # the network's output (a view writes no bytes of its own: its element count)
        last = graph.layers[-1].output_shapes if graph.layers else ()
        out_bytes = PRECISIONS[graph.precision] * numel(last[0]) if last else 0
        pre, post = self.transfer_ms(in_bytes, platform), self.transfer_ms(out_bytes, platform)
        copies = getattr(platform.device, "host_link_gbs", None) is not None
        notes = ["launch overhead per kernel is an assumption, not a measurement", NO_INTERVAL_NOTE,
                 *(["pre and post include the input's and output's copies over the host link (the learned GPU "
                    "estimators leave copies out)"] if copies else []),
                 *(platform.device.rate_notes(platform.precision) if isinstance(platform.device, GPUSpec) else ())]
        return Estimate(total_ms=pre + exe + post, pre_ms=pre, exe_ms=exe, post_ms=post, layers=rows,
                        unknown_ops=graph.unknown_ops, estimator=self.name, estimator_version=self.version,
                        platform=platform, model=graph.name, notes=tuple(notes))

