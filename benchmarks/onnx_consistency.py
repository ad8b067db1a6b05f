"""One network, two sources: the shipped GPU model's answer for an ONNX export against its answer for the module.

A TensorRT engine built from a torchvision network or from its ONNX export is the same engine, so the two
estimates under ``runtime="tensorrt"`` should agree (under PyTorch the ONNX graph has lost its batch-norm kernels,
which the estimate notes, and its convs carry the folded biases: the ratio there is both). Exporters fold each batch
norm into its convolution's bias. The second table measures what a bias does to an answer: every bias-free conv of
the module given a bias, nothing else changed. Under TensorRT a bias is inside the conv's kernel (a few FLOPs and
bytes); under eager PyTorch cuDNN's convolution is followed by an add kernel of the bias (``hwaware/runtime/eager.py``).
Until version 6 the learned model read a conv's bias flag, which its training networks confound (torchvision's VGGs
and AlexNet have biased convs, its ResNets and MobileNets a bias-free conv then a norm), and a bias moved the answer
up to 1.35x under eager PyTorch and 1.69x under TensorRT (8177e67's results). EfficientNet-B0 and ConvNeXt-T (since
2026-12-05) check the activations exporters spell as several ops (SiLU, and GELU below opset 20), read as one layer,
and ConvNeXt's Linear on a channels-last map (timm's efficientnet_b0 export came out 1.64x its module under TensorRT
fp16 on the AGX Xavier before). ConvNeXt-T's two sources came out 1.02-1.09x under TensorRT until the rewrite fused its
layer scale and residual add through the export's Transpose as through the module's permute (2026-12-05: 1.000x).

Each network's batch-norm statistics and shifts and its own biases are drawn at random (seed 0) before export, as a
trained network's are: every bias is then non-zero and both exporters keep it (torchvision initialises biases to
zero, and the dynamo exporter drops a zero bias: an untrained VGG16 exports bias-free). Nothing here is measured on
a GPU; no figure chose or tuned anything.

Writes ``benchmarks/results/onnx_consistency.md``. Run: ``python benchmarks/onnx_consistency.py`` (2026-12-01: about
3 minutes on one core).
"""
from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import torch
import torchvision
from torch import nn

import hwaware

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
NETWORKS = ("resnet18", "resnet50", "mobilenet_v2", "densenet121", "vgg16", "efficientnet_b0", "convnext_tiny")
PLATFORMS = (("agx", "tensorrt", "fp16"), ("nano", "tensorrt", "fp16"), ("xavier-nx", "tensorrt", "fp16"),
             ("orin", "tensorrt", "fp16"), ("2080ti", "tensorrt", "fp16"), ("agx", "pytorch", "fp16"),
             ("2080ti", "pytorch", "fp32"))
SIZE = (3, 224, 224)


def as_trained(model: nn.Module) -> nn.Module:
    """``model`` with random batch-norm statistics and affine terms and random conv and dense biases (seed 0), as a
    trained network has: no folded or own bias is zero (torchvision initialises them to zero, and the dynamo
    exporter drops a zero bias)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=gen) * 0.1 + (1.0 if t is m.weight else 0.0))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    return model.eval()


def with_biases(model: nn.Module) -> nn.Module:
    """``model`` with a bias on every convolution that has none, in place (nothing else changed)."""
    for parent in list(model.modules()):
        for name, c in list(parent.named_children()):
            if isinstance(c, nn.Conv2d) and c.bias is None:
                setattr(parent, name, nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding,
                                                c.dilation, c.groups, bias=True))
    return model.eval()


def ratio(a: object, b: object, gpu: str, runtime: str, precision: str, batch: int = 1) -> float:
    kw = dict(runtime=runtime, precision=precision, batch_size=batch)
    return (hwaware.latency(a, gpu, **kw, input_size=SIZE) / hwaware.latency(b, gpu, **kw, input_size=SIZE))


def main() -> None:
    start = time.time()
    warnings.simplefilter("ignore")
    head = "| network | exporter | " + " | ".join(f"{g} {r} {p}" for g, r, p in PLATFORMS) + " |"
    rule = "|---|---|" + "---|" * len(PLATFORMS)
    lines = ["# ONNX export against its module (`python benchmarks/onnx_consistency.py`)", "",
             "Estimate from the ONNX export / estimate from the torchvision module, batch 1, shipped `resperfnet-gpu` "
             "(under PyTorch the export has no batch-norm kernels: the estimate notes it).", "", head, rule]
    with tempfile.TemporaryDirectory() as tmp:
        for name in NETWORKS:
            model = as_trained(getattr(torchvision.models, name)())
            for exporter, dynamo in (("dynamo", True), ("torchscript", False)):
                path = Path(tmp) / f"{name}-{exporter}.onnx"
                torch.onnx.export(model, (torch.randn(1, *SIZE),), str(path), input_names=["x"], dynamo=dynamo,
                                  **({} if dynamo else {"opset_version": 17}))
                cells = [f"{ratio(path, model, *p):.3f}" for p in PLATFORMS]
                lines.append(f"| {name} | {exporter} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    lines += ["", "Every bias-free convolution given a bias, nothing else changed: estimate with / without, batch 1 and "
              "32 (a bias is inside the conv's kernel under TensorRT; eager PyTorch adds it in a kernel of its own).",
              "", "| network | batch | " + " | ".join(f"{g} {r} {p}" for g, r, p in PLATFORMS) + " |", rule]
    for name in NETWORKS[:4]:
        for batch in (1, 32):
            plain = getattr(torchvision.models, name)().eval()
            cells = [f"{ratio(with_biases(getattr(torchvision.models, name)()), plain, *p, batch=batch):.3f}"
                     for p in PLATFORMS]
            lines.append(f"| {name} | {batch} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    lines += ["", f"({time.time() - start:.0f} s)"]
    (RESULTS / "onnx_consistency.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'onnx_consistency.md'}")


if __name__ == "__main__":
    main()
