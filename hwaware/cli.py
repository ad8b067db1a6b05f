"""The ``hwaware`` command line: ``latency``, ``gpus``, ``features``, ``estimators``.

Errors in the input (unknown GPU, malformed size, missing file ...) print one line naming the
problem and the fix, and exit with status 2; they never print a traceback.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence

from hwaware.errors import HwawareError


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="timm model name (resnet50), torchvision:<name>, or path to an .onnx file")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--input", default=None, metavar="CxHxW",
                   help="input size without batch, e.g. 3x224x224 (default: the model's timm config)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    p.add_argument("--trace-device", default="meta", choices=["meta", "cpu"],
                   help="meta: shapes only, no weights (default); cpu: run the real forward (fallback)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hwaware", description="Predict neural-network latency on NVIDIA GPUs without one.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("latency", help="predict the latency of a model on a GPU",
                       description="Predict the inference latency of MODEL on a GPU (milliseconds).")
    _model_args(p)
    p.add_argument("--gpu", default="agx", help="GPU name or alias (default agx = Jetson AGX Xavier); see `hwaware gpus`")
    p.add_argument("--runtime", default="pytorch", choices=["pytorch", "tensorrt"])
    p.add_argument("--estimator", default=None, help="estimator name (default: best for the platform); see `hwaware estimators`")
    p.add_argument("--by-layer", action="store_true", help="print the per-layer breakdown")
    p.add_argument("--top", type=int, default=None, help="with --by-layer: only the N slowest layers")

    p = sub.add_parser("gpus", help="list the GPU catalog", description="List the GPUs hwaware knows and their aliases.")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("features", help="static network features of a model",
                       description="Print MODEL's network features (params, MACs, activations, layer counts ...).")
    _model_args(p)

    sub.add_parser("estimators", help="list the registered estimators", description="List the registered estimators.")

    p = sub.add_parser("collect", help="measure layers or networks on this machine (training data)",
                       description="Measure micro-benchmarked layers or whole timm networks, three phases each. "
                                   "Resumable: rerun the same command to continue.")
    p.add_argument("what", choices=["layers", "networks"])
    p.add_argument("--out", required=True, help="CSV file to append to")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    p.add_argument("--random", type=int, default=1000, help="layers: number of random layers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default="train",
                   help="comma-separated timm names, or 'train' / 'heldout' / 'all' (the sets in hwaware.datasets.splits); "
                        "layers: networks to sample layers from ('none' for random layers only)")
    p.add_argument("--batch", default="1", help="comma-separated batch sizes (default 1)")
    return ap


def _latency(args: argparse.Namespace) -> None:
    from hwaware.api import estimate

    est = estimate(args.model, args.gpu, batch_size=args.batch, input_size=args.input, precision=args.precision,
                   runtime=args.runtime, estimator=args.estimator, trace_device=args.trace_device)
    if args.json:
        print(est.to_json())
    elif args.by_layer:
        print(est.table(top=args.top))
    else:
        print(est.summary())


def _gpus(args: argparse.Namespace) -> None:
    from hwaware.hardware import gpus

    specs = gpus()
    if args.json:
        print(json.dumps([s.as_dict() for s in specs], indent=2))
        return
    print(f"{'name':<30}{'aliases':<44}{'arch':<14}{'SMs':>5}{'FP32 TF':>9}{'GB/s':>8}")
    for s in specs:
        print(f"{s.name:<30}{', '.join(a for a in s.aliases if '(' not in a)[:43]:<44}{s.architecture:<14}"
              f"{s.sm_count:>5}{s.fp32_tflops:>9.2f}{s.memory_bandwidth_gbs:>8.1f}")


def _features(args: argparse.Namespace) -> None:
    from hwaware.api import features

    f = features(args.model, batch_size=args.batch, input_size=args.input, precision=args.precision,
                 trace_device=args.trace_device)
    d = {k: v for k, v in f.as_dict().items() if v}
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        for k, v in d.items():
            print(f"{k:<28}{v:>20,.0f}")


def _estimators(_args: argparse.Namespace) -> None:
    from hwaware.estimators import get_estimator, list_estimators

    for name in list_estimators():
        print(f"{name:<16}{get_estimator(name).version}")


def _collect(args: argparse.Namespace) -> None:
    import torch

    from hwaware.datasets import splits
    from hwaware.measure.collect import collect_layers, collect_networks, layer_plan

    torch.set_num_threads(args.threads)
    named = {"train": splits.TRAIN_NETWORKS, "heldout": splits.HELD_OUT_NETWORKS,
             "all": splits.TRAIN_NETWORKS + splits.HELD_OUT_NETWORKS, "none": ()}
    models = list(named.get(args.models, [m for m in args.models.split(",") if m]))
    batches = [int(b) for b in args.batch.split(",")]
    if args.what == "layers":
        if any(splits.is_held_out(m) for m in models):
            print("hwaware: warning: sampling layers from held-out families", file=sys.stderr)
        n = collect_layers(args.out, layer_plan(args.random, models, batches, args.seed), device=args.device)
    else:
        n = collect_networks(args.out, models, batch_sizes=batches, device=args.device)
    print(f"measured {n} new {args.what} into {args.out}")


def main(argv: Sequence[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `hwaware gpus | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = _parser().parse_args(argv)
    try:
        commands = {"latency": _latency, "gpus": _gpus, "features": _features, "estimators": _estimators,
                    "collect": _collect}
        commands[args.command](args)
    except HwawareError as exc:
        print(f"hwaware: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
