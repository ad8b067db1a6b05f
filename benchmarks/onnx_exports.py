"""timm's networks exported to ONNX, against their modules: what an import answers for a file a NAS user exports.

Each network is exported with ``torch.onnx.export(dynamo=True)`` at opsets 18 and 23 (below opset 24 SiLU is spelled
``x * Sigmoid(x)``; opset 23 writes a transformer's attention as one ``Attention`` node), and with the legacy
TorchScript exporter (``dynamo=False``, still what many scripts call) at opset 17, and captured from the file and from
the module; the table gives the file's multiply-adds and the shipped estimator's answers (AGX Xavier, fp16,
batch 1) over the module's. Under TensorRT a network and its export are one engine, so the ratio should be 1; under
eager PyTorch the file is timed op by op as it is written (the estimate says so). Nothing is measured on a GPU and no
figure chose or tuned anything; it checks the ONNX import (``hwaware/graph/onnx_import.py``).

Run: ``python benchmarks/onnx_exports.py`` (264 s on one core here with a warm graph cache; longer cold); writes
``benchmarks/results/onnx_exports.md``.
"""
from __future__ import annotations

import contextlib
import io
import tempfile
import time
import warnings
from pathlib import Path

import timm
import torch

import hwaware

OUT = Path(__file__).resolve().parent / "results" / "onnx_exports.md"
NETWORKS = ("resnet50", "mobilenetv3_large_100", "efficientnet_b0", "convnext_tiny", "convnextv2_atto", "regnety_008",
            "regnetz_b16", "vit_small_patch16_224", "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224",
            "levit_128s", "mobilevit_s", "efficientformer_l1", "poolformer_s12", "coatnet_0_rw_224",
            "xcit_tiny_12_p16_224", "cait_xxs24_224", "mixer_b16_224", "ghostnet_100", "edgenext_small",
            "efficientvit_b0", "tiny_vit_5m_224", "hrnet_w18_small", "densenet121", "inception_v3", "nfnet_l0")
EXPORTS = (("dynamo", 18), ("dynamo", 23), ("torchscript", 17))  # (exporter, opset)
PLATFORM = dict(gpu="agx", precision="fp16")


def main() -> None:
    start = time.time()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    rows, trt = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in NETWORKS:
            model = timm.create_model(name).eval()
            size = model.pretrained_cfg["input_size"]
            module = {rt: hwaware.latency(name, runtime=rt, **PLATFORM) for rt in ("tensorrt", "pytorch")}
            macs = hwaware.capture(name).macs
            for exporter, opset in EXPORTS:
                path = Path(tmp) / f"{name}_{exporter}_{opset}.onnx"
                try:
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                        torch.onnx.export(model, (torch.randn(1, *size),), str(path), dynamo=exporter == "dynamo",
                                          opset_version=opset)
                except Exception as exc:  # the exporter's own failure, not the import's
                    rows.append(f"| {name} | {exporter} {opset} | export failed: {type(exc).__name__} | | | |")
                    continue
                try:
                    g = hwaware.capture(path)
                except hwaware.HwawareError as exc:
                    rows.append(f"| {name} | {exporter} {opset} | refused: {exc} | | | |")
                    continue
                ratio = {rt: hwaware.latency(g, runtime=rt, **PLATFORM) / module[rt] for rt in module}
                trt.append((exporter, ratio["tensorrt"]))
                unknown = ", ".join(f"{k} x{v}" for k, v in g.unknown_ops.items()) or "–"
                rows.append(f"| {name} | {exporter} {opset} | {g.macs / macs:.3f} | {ratio['tensorrt']:.2f} | "
                            f"{ratio['pytorch']:.2f} | {unknown} |")
                print(rows[-1], flush=True)

    def within(exporter: str) -> str:
        r = [x for e, x in trt if e == exporter]
        return (f"{sum(abs(x - 1) <= 0.05 for x in r)} of {len(r)} {exporter} imports within ±5 % of their module "
                f"(x{min(r):.2f} to x{max(r):.2f})") if r else f"no {exporter} import"

    lines = ["# timm networks through ONNX against their modules (`python benchmarks/onnx_exports.py`)", "",
             f"{len(NETWORKS)} networks, `torch.onnx.export` with "
             + ", ".join(f"{'dynamo=True' if e == 'dynamo' else 'dynamo=False'} at opset {o}" for e, o in EXPORTS)
             + f"; the export's MACs and the shipped estimator's answers ({PLATFORM['gpu']}, {PLATFORM['precision']}, "
             f"batch 1) over its module's. Under TensorRT {within('dynamo')}; {within('torchscript')}.", "",
             "| network | export | MACs | TensorRT | eager PyTorch | unknown ops |", "|---|---|---|---|---|---|",
             *rows, "", f"({time.time() - start:.0f} s; torch {torch.__version__}, timm {timm.__version__})"]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
