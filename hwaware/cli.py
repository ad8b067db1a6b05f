"""The ``hwaware`` command line: ``latency``, ``gpus``, ``features``, ``estimators``.

Errors in the input (unknown GPU, malformed size, missing file ...) print one line naming the
problem and the fix, and exit with status 2; they never print a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from hwaware.errors import (HwawareError, HwawareWarning, ImplausibleEstimateWarning, InvalidArgumentError,
                            OtherCPUWarning, ProfileReplacedWarning, PTXParseError)


class _Once(argparse._StoreAction):
    """Every single-valued option: given twice, argparse kept the last, unsaid (``--batch 1 --batch 2`` ran batch 2)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(self.twice(option_string))
        given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)

    def twice(self, option_string: str | None) -> str:
        return f"{option_string} given twice: the last would silently win; give it once"


class _OneGPU(_Once):
    """``--gpu`` of a command that answers for one GPU."""

    def twice(self, option_string: str | None) -> str:
        return ("--gpu given twice: this command answers for one GPU; `hwaware rank MODEL --gpu A --gpu B` compares "
                "several")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the problem and where the fix is), exit status 2, and a single-valued
    option given twice is one (:class:`_Once`, the default action of this parser and its subcommands')."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)
        self.register("action", "store", _Once)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive(kind: type[int] | type[float]):
    """An argparse type: a positive int or a positive finite float."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive {'integer' if kind is int else 'number'}, got {text!r}")
        return value
    return parse


def _positives(kind: type[int] | type[float]):
    """An argparse type: comma-separated positive values, each as :func:`_positive` takes it."""
    one = _positive(kind)
    return lambda text: [one(part) for part in text.split(",")]


def _out_file(out: str, example: str) -> Path:
    """``out`` if it can be a file written in an existing folder, checked before work that takes minutes."""
    path = Path(out)
    if path.is_dir() or not path.parent.is_dir():
        folder = path if path.is_dir() else path.parent if path.parent.is_dir() else Path(".")
        raise InvalidArgumentError(f"--out {out}: not a file in an existing folder; pass a path like "
                                   f"{folder / example}")
    if path.exists():  # a file to replace or append to (collect's CSV, /dev/null): its own permission decides
        if not os.access(path, os.W_OK):
            raise InvalidArgumentError(f"--out {out}: the file is not writable; pass a writable path like ./{example}")
    else:
        _check_writable(path.parent, out, example)
    return path


def _check_writable(folder: Path, out: str, example: str) -> None:
    """Refuse ``--out`` where its folder, or the nearest one of its parents that exists, takes no new file: probed
    with a temporary file (permission bits do not tell, for root or on a read-only mount)."""
    import tempfile

    existing = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.is_dir())
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError:
        raise InvalidArgumentError(f"--out {out}: no file can be written in {existing}; pass a writable path like "
                                   f"./{example}") from None


def _platform_value(what: str):
    """An argparse type: a precision or runtime as the API reads it (any case), refused with the API's line, which
    says why where one is not modelled (torch.compile, tf32, fp8); the parse imports the catalog, --help does not."""
    def parse(text: str) -> str:
        from hwaware.hardware import catalog

        try:
            return catalog.check_precision(text) if what == "precision" else catalog.check_runtime(text)
        except InvalidArgumentError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


PRECISION = {"type": _platform_value("precision"), "metavar": "{fp32,fp16,bf16,int8,amp}"}
RUNTIME = {"type": _platform_value("runtime"), "metavar": "{pytorch,tensorrt}"}
_OWN = "default: a calibration profile's own, else %s (a profile refuses another)"


def _platform_options(p: argparse.ArgumentParser) -> None:
    """Batch size, precision and runtime of the predictions, as `hwaware latency` takes them."""
    p.add_argument("--batch", type=_positive(int), default=1, help="batch size (default 1)")
    p.add_argument("--precision", default=None, **PRECISION, help=_OWN % "fp32")
    p.add_argument("--runtime", default=None, **RUNTIME, help=_OWN % "pytorch")


def _model_args(p: argparse.ArgumentParser, profiles: bool = True) -> None:
    p.add_argument("model", help="timm model name (resnet50), torchvision:<name>, a path to an .onnx file, or a search "
                                 "space's architecture as searches write it ('nb201:{...}')")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--input", default=None, metavar="CxHxW",
                   help="input size without batch, e.g. 3x224x224 (default: the model's timm config)")
    p.add_argument("--precision", default=None if profiles else "fp32", **PRECISION,
                   help="amp: PyTorch autocast (fp16 tensor cores for conv/dense/matmul); "
                        + (_OWN % "fp32" if profiles else "default fp32"))
    p.add_argument("--trace-device", default="meta", choices=["meta", "cpu"],
                   help="meta: shapes only, no weights (default); cpu: run the real forward (fallback)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _parser() -> argparse.ArgumentParser:
    from importlib.metadata import version  # the installed distribution's: no need to import torch for it

    ap = _Parser(prog="hwaware", description="Predict neural-network latency on NVIDIA GPUs without one.")
    ap.add_argument("--version", action="version", version=f"hwaware {version('hwaware')}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("latency", help="predict the latency of a model on a GPU",
                       description="Predict the inference latency of MODEL on a GPU (milliseconds).")
    _model_args(p)
    p.add_argument("--gpu", action=_OneGPU, default="agx",
                   help="GPU name or alias (default agx = Jetson AGX Xavier); see `hwaware gpus`")
    p.add_argument("--runtime", default=None, **RUNTIME, help=_OWN % "pytorch")
    p.add_argument("--estimator", default=None, help="estimator name (default: best for the platform); see `hwaware estimators`")
    p.add_argument("--by-layer", action="store_true", help="print the per-layer breakdown")
    p.add_argument("--top", type=_positive(int), default=None,
                   help="only the N slowest layers in the per-layer breakdown (table or --json)")

    p = sub.add_parser("gpus", help="list the GPU catalog", description=(
        "List the GPUs hwaware knows, their aliases and which runtimes, precisions and batches measured networks "
        "trained the default model on."))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("features", help="static network features of a model",
                       description="Print MODEL's network features (params, MACs, activations, layer counts ...).")
    _model_args(p, profiles=False)

    sub.add_parser("estimators", help="list the registered estimators", description="List the registered estimators.")

    p = sub.add_parser("cache", help="the on-disk caches: where they are, how big, empty them",
                       description="Show (info) or empty (clear) the per-layer prediction cache and the graph cache "
                                   "($HWAWARE_CACHE_DIR/predictions.sqlite and graphs.sqlite, default "
                                   "~/.cache/hwaware; each capped at $HWAWARE_CACHE_MAX_MB, default 1024, oldest "
                                   "rows deleted first).")
    p.add_argument("action", choices=["info", "clear"])

    p = sub.add_parser("collect", help="measure layers or networks on this machine (training data)",
                       description="Measure micro-benchmarked layers or whole timm networks, three phases each. "
                                   "Resumable: rerun the same command to continue.")
    p.add_argument("what", choices=["layers", "networks"])
    p.add_argument("--out", required=True, help="CSV file to append to")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--threads", type=_positive(int), default=1, help="CPU threads for torch (default 1)")
    p.add_argument("--random", type=int, default=None, help="layers: number of random layers (default 1000; "
                                                            "their batch sizes are drawn, not --batch)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default=None,
                   help="comma-separated timm names, or 'train' / 'heldout' / 'all' (the sets in "
                        "hwaware.evaluation.splits); default 'train', or 'none' with --space; layers: networks to "
                        "sample layers from ('none' for random layers only)")
    p.add_argument("--batch", type=_positives(int), default="1", help="comma-separated batch sizes (default 1)")
    p.add_argument("--space", default=None, help="networks: COUNT random architectures of this model space "
                                                 "(nb201, fbnet, ofa_mbv3, ...; drawn with --seed), and --models too "
                                                 "if given")
    p.add_argument("--count", type=_positive(int), default=None,
                   help="with --space: how many architectures (default 100)")

    p = sub.add_parser("ptx", help="PTX analysis (executed-instruction counts)",
                       description="Analyse PTX kernels without a GPU.")
    psub = p.add_subparsers(dest="ptx_command", required=True, metavar="COMMAND")
    a = psub.add_parser("analyze", help="count executed instructions of one kernel launch",
                        description="Count the instructions a kernel launch executes (GPGPU-Sim's convention) by "
                                    "slicing out what decides control flow and executing only that.")
    a.add_argument("file", help="a .ptx file")
    a.add_argument("--kernel", default=None, help="the .entry to analyse (needed when the file has several)")
    a.add_argument("--grid", default="1", help="grid size: X or XxYxZ")
    a.add_argument("--block", default="32", help="block size: X or XxYxZ")
    a.add_argument("--shared", type=int, default=0, help="dynamic shared memory bytes")
    a.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE",
                   help="a kernel argument by PTX name or position: a number (scalar), ptr:BYTES (buffer of unknown "
                        "contents) or a .npy file (buffer contents); repeat for each parameter. A __constant__ or "
                        "__device__ variable's contents by its name, as the host sets them")
    a.add_argument("--method", default="slice", choices=["slice", "interpret"])
    a.add_argument("--max-steps", type=_positive(int), default=50_000_000)
    a.add_argument("--per-line", action="store_true", help="also print counts per PTX line")
    a.add_argument("--json", action="store_true")

    a = psub.add_parser("count", help="compile a model to PTX (TVM + NVRTC) and count its executed instructions",
                        description="Compile MODEL for a GPU's architecture without a GPU (needs the optional extra: "
                                    "pip install 'hwaware[ptx]') and count the instructions of one forward pass.")
    a.add_argument("model", help="timm model name or torchvision:<name>")
    a.add_argument("--gpu", action=_OneGPU, default="agx",
                   help="target GPU: its compute capability picks the PTX architecture")
    a.add_argument("--input", default=None, metavar="CxHxW")
    a.add_argument("--save-ptx", default=None, help="write the PTX to this file")
    a.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="latency-constrained architecture search (Optuna)",
                       description="Search a model space for architectures that maximise a CPU accuracy proxy and "
                                   "minimise predicted latency, under a latency budget. Prints the Pareto front and "
                                   "the budget-violation rate; saves a plot and a JSON summary.")
    p.add_argument("--space", default="mobilenetv3", help="model space (default mobilenetv3; see --list-spaces)")
    p.add_argument("--list-spaces", action="store_true", help="list the model spaces and exit")
    p.add_argument("--gpu", action=_OneGPU, default="agx",
                   help="target GPU (or 'cpu': then the chosen models can be measured)")
    b = p.add_mutually_exclusive_group()
    b.add_argument("--budget", type=_positive(float), help="latency budget in ms")
    b.add_argument("--budget-quantile", type=_positive(float), metavar="Q",
                   help="budget = the Q quantile (0 < Q <= 1; 0.5 = median) of the predicted latency of 20 random "
                        "architectures of the space: a budget that binds whatever the estimator's scale")
    p.add_argument("--trials", type=_positive(int), default=40,
                   help="trials to run now, over all workers (default 40); a resumed study runs this many more")
    p.add_argument("--workers", type=_positive(int), default=1,
                   help="worker processes sharing the study (needs --storage)")
    p.add_argument("--storage", default=None, help="Optuna RDB URL: sqlite:///study.db or postgresql+psycopg2://...")
    p.add_argument("--study", default="hwaware-search",
                   help="study name in --storage (default hwaware-search): a stored study of that name is resumed if "
                        "it searched the same space, GPU, budget and platform, else refused")
    p.add_argument("--proxy", default="synflow", choices=["synflow", "params"])
    p.add_argument("--prune", action="store_true", help="prune candidates over budget before the proxy")
    p.add_argument("--bound", default="estimate", choices=["estimate", "high"],
                   help="what must fit the budget: the estimate (default) or its prediction interval's high end")
    _platform_options(p)
    p.add_argument("--estimator", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--measure", action="store_true", help="with --gpu cpu: measure the Pareto-front models")
    p.add_argument("--out", default="results/search", help="folder for search.png and summary.json")

    p = sub.add_parser("space-latency", help="predict every architecture of a finite space into a CSV table",
                       description="Predict the latency of every architecture of SPACE (nb201: 15,625) and write "
                                   "index (this table's order, not NAS-Bench-201's index), arch, ms, the prediction "
                                   "interval's low_ms, high_ms and the estimate's warnings (' | ' between two) to a "
                                   "CSV; each row equals `hwaware latency 'SPACE:ARCH'` of its arch.")
    p.add_argument("space", help="a finite model space: nb201")
    p.add_argument("--gpu", action=_OneGPU, default="agx",
                   help="GPU name or alias (see `hwaware gpus`) or a calibration profile")
    p.add_argument("--out", required=True, help="CSV file to write (- for standard output)")
    _platform_options(p)
    p.add_argument("--estimator", default=None, help="estimator name (default: best for the platform)")
    p.add_argument("--workers", type=_positive(int), default=1, help="worker processes (default 1)")
    p.add_argument("--limit", type=_positive(int), default=None, help="only the first N architectures")
    p.add_argument("--progress", action="store_true", help="show a progress bar even when stderr is not a terminal")

    p = sub.add_parser("calibrate", help="fit a calibration profile of your device from a few measurements",
                       description="Fit a few-shot calibration profile: MEASUREMENTS is `hwaware collect networks` "
                                   "output or a CSV with columns model,ms[,batch,input]; or --here: measure this "
                                   "machine's CPU first. The profile is saved under --name and then works as --gpu "
                                   "NAME everywhere.")
    p.add_argument("measurements", nargs="?", help="CSV of whole-network latencies measured on your device (or --here)")
    p.add_argument("--gpu", action=_OneGPU, default=None,
                   help="the catalog GPU your device is or is closest to (see `hwaware gpus`), or cpu (needed unless "
                        "--here)")
    p.add_argument("--here", action="store_true", help="measure the host suite (15 networks, about 45 s) on "
                   "this machine's CPU and calibrate the CPU model on it (--gpu cpu); the measurements are kept "
                   "beside the profile (.csv)")
    p.add_argument("--threads", type=_positive(int), default=None, help="with --here: torch threads (default 1, as "
                   "the CPU model was measured)")
    p.add_argument("--rounds", type=_positive(int), default=None, help="with --here: time the suite this many times, "
                   "round after round, and keep each network's median round (default 3; 1: about 20 s)")
    p.add_argument("--name", required=True, help="the profile's name (then: hwaware latency MODEL --gpu NAME)")
    p.add_argument("--runtime", default="pytorch", **RUNTIME)
    p.add_argument("--precision", default="fp32", **PRECISION)
    p.add_argument("--out", default=None, help="write the profile JSON here instead of the profile folder")

    p = sub.add_parser("rank", help="rank models across GPUs by predicted latency",
                       description="Predict every MODEL on every --gpu: which GPU for each network, which network "
                                   "for each GPU.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="timm name, torchvision:<name>, .onnx path or "
                                                                     "'<space>:{...}' architecture")
    p.add_argument("--gpu", action="append", required=True, help="a GPU (repeat: --gpu agx --gpu orin)")
    _platform_options(p)
    p.add_argument("--input", default=None, metavar="CxHxW", help="input size without batch (default: timm config)")
    p.add_argument("--estimator", default=None, help="one estimator for every GPU (default: each GPU's best)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return ap


def _rank(args: argparse.Namespace) -> None:
    from hwaware.ranking import rank

    table = rank(args.models, args.gpu, batch_size=args.batch, input_size=args.input, precision=args.precision,
                 runtime=args.runtime, estimator=args.estimator)
    print(json.dumps(table.as_dict(), indent=2) if args.json else table.table())


def _calibrate(args: argparse.Namespace) -> None:
    from hwaware.api import calibrate, calibrate_here, here_measurements
    from hwaware.calibration.profile import TEN_SHOTS, Profile, profile_path, saved_profile
    from hwaware.hardware.catalog import CPUSpec, get_device

    if args.here == (args.measurements is not None):
        raise InvalidArgumentError("give a CSV of measurements or --here (measure this machine's CPU), one of them")
    if args.here and (args.gpu is not None and not isinstance(get_device(args.gpu), CPUSpec)
                      or (args.runtime, args.precision) != ("pytorch", "fp32")):
        raise InvalidArgumentError("--here measures this machine's CPU (eager PyTorch, fp32); for a GPU, measure it "
                                   "with `hwaware collect networks --device cuda` and calibrate from that CSV")
    if args.gpu is None and not args.here:
        raise InvalidArgumentError("--gpu is needed: the catalog GPU your device is or is closest to (see `hwaware "
                                   "gpus`), or cpu")
    if args.threads is not None and not args.here:
        raise InvalidArgumentError("--threads goes with --here (the CSV's rows say the threads they were timed at)")
    if args.rounds is not None and not args.here:
        raise InvalidArgumentError("--rounds goes with --here (a CSV's rows were timed already)")
    target = profile_path(args.name, args.out)
    old = saved_profile(target)  # re-calibrating renews it: say so, and what it was
    save = True if args.out is None else args.out
    with warnings.catch_warnings():  # the API's warning of a replaced profile: the line below says it
        warnings.simplefilter("ignore", ProfileReplacedWarning)
        p = (calibrate_here(args.name, threads=args.threads or 1, save=save, rounds=args.rounds) if args.here else
             calibrate(args.measurements, args.gpu, name=args.name, runtime=args.runtime, precision=args.precision,
                       save=save))
    if args.here:
        print(f"measured the host suite on this CPU: {here_measurements(args.name, save)}")
    if old is not None:
        was = (f"{old.gpu}, {old.runtime}, {old.precision}, {old.n_samples} measurements" if isinstance(old, Profile)
               else old)
        print(f"replaced {target} (was: {was})")
    lo, hi = p.log_residual_interval
    wlo, whi = p.interval
    wide = (f" (interval {math.expm1(wlo):+.0%} .. {math.expm1(whi):+.0%}: widened to the model's held-out 10-shot "
            "interval)") if (wlo, whi) != (lo, hi) else ""
    # a model with held-out 10-shot figures (the GPU model's) says so; the answers' interval then contains the model's
    # own as well (Profile.apply_estimate; helper-169 read "carry the model's own" beside the range printed here)
    few = (f"; {p.n_networks} networks, fewer than {TEN_SHOTS}: the held-out figures of {TEN_SHOTS}-shot profiles "
           f"(docs/accuracy.md) and the model's {TEN_SHOTS}-shot interval were measured with {TEN_SHOTS}, so this "
           f"profile's error is unmeasured, and its answers' interval is widened to contain the model's own "
           f"({p.to_ten_shots()})") if p.few_networks() else ""
    print(f"profile {p.name!r} on {p.gpu} ({p.runtime}, {p.precision}) from {p.n_samples} measurements: "
          f"{p.describe()} (form {p.terms!r}); fit MAPE {p.fit_mape:.1%}; "
          f"leave-one-network-out error {math.expm1(lo):+.0%} .. {math.expm1(hi):+.0%}{wide}{few}")
    print(f"use it: hwaware latency MODEL --gpu {p.name if args.out is None else args.out}")


def _space_latency(args: argparse.Namespace) -> None:
    import contextlib
    import csv

    from hwaware.search.table import space_table

    if args.out != "-":  # "-": standard output
        _out_file(args.out, f"{args.space}.csv")  # before the predictions, which take minutes for a whole space
    rows = space_table(args.space, args.gpu, batch_size=args.batch, precision=args.precision, runtime=args.runtime,
                       estimator=args.estimator, workers=args.workers, limit=args.limit, progress=args.progress or None)
    with contextlib.nullcontext(sys.stdout) if args.out == "-" else open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "arch", "ms", "low_ms", "high_ms", "warnings"])
        for i, r in enumerate(rows):  # exact floats; the interval's ends empty where there is none
            ends = [repr(float(v)) for v in r.interval_ms] if r.interval_ms else ["", ""]
            w.writerow([i, r.spec.split(":", 1)[1], repr(float(r.ms)), *ends, " | ".join(r.warnings)])
    warned = sum(bool(r.warnings) for r in rows)
    print(f"{len(rows)} architectures of {args.space} on {args.gpu} -> {args.out}"
          + (f" ({warned} with warnings: the warnings column)" if warned else ""),
          file=sys.stderr if args.out == "-" else sys.stdout)


def _latency(args: argparse.Namespace) -> None:
    from hwaware.api import estimate

    est = estimate(args.model, args.gpu, batch_size=args.batch, input_size=args.input, precision=args.precision,
                   runtime=args.runtime, estimator=args.estimator, trace_device=args.trace_device)
    if args.json:
        d = est.as_dict()
        if args.top:
            d["layers"] = sorted(d["layers"], key=lambda r: -r["ms"])[:args.top]
        print(json.dumps(d, indent=2))
    elif args.by_layer or args.top:
        print(est.table(top=args.top))
    else:
        print(est.summary())


def _gpus(args: argparse.Namespace) -> None:
    from hwaware.hardware import gpus

    from hwaware.trained import measured_platforms, shipped_meta

    specs = gpus()
    # the platforms whose networks the default GPU estimator's training rows timed; every other answer is zero-shot
    # (helper-130); without its weights the column is unknown, not empty. Read without torch: a listing stays quick
    try:
        meta = shipped_meta()
    except FileNotFoundError:
        meta = None
    measured = None if meta is None else {s.name: measured_platforms(meta, s.name) for s in specs}
    if args.json:
        print(json.dumps([{**s.as_dict(), "networks_measured": None if measured is None else [
            {"runtime": r, "precision": p, "batch_span": list(b)} for (r, p), b in measured[s.name]]}
            for s in specs], indent=2))
        return
    print(f"{'name':<30}{'aliases':<44}{'arch':<14}{'SMs':>5}{'FP32 TF':>9}{'GB/s':>8}  networks measured "
          "(else zero-shot)")
    for s in specs:
        rows = "?" if measured is None else "; ".join(f"{r} {p} batch {lo}" + (f"-{hi}" if hi != lo else "")
                                                     for (r, p), (lo, hi) in measured[s.name])
        print(f"{s.name:<30}{', '.join(a for a in s.aliases if '(' not in a)[:43]:<44}{s.architecture:<14}"
              f"{s.sm_count:>5}{s.fp32_tflops:>9.2f}{s.memory_bandwidth_gbs:>8.1f}  {rows or '-'}")
    from hwaware.calibration.folder import list_profiles, profile_dir

    saved = list_profiles()  # calibrated devices go wherever a GPU name goes too (stderr: stdout stays the table)
    print(f"calibration profiles in {profile_dir()}: {', '.join(saved) if saved else 'none (hwaware calibrate)'}; "
          "and --gpu cpu, the CPU model (measured on an AMD EPYC; yours: hwaware calibrate --here)", file=sys.stderr)


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
    from hwaware.hardware.catalog import CPU_TARGETS, PRECISIONS, RUNTIMES, Platform, gpus

    # what each answers: found from errors alone before (netregress covers 27 trained platforms, the CPU one device)
    platforms = []
    for device in [*gpus(), *CPU_TARGETS.values()]:
        for runtime in RUNTIMES:
            for precision in PRECISIONS:
                try:
                    platforms.append(Platform.resolve(device, precision=precision, runtime=runtime))
                except HwawareError:  # a combination no device runs (int8 under eager PyTorch, bf16 before Ampere)
                    pass
    print(f"{'estimator':<16}{'version':<9}platforms (device, runtime, precision) it answers at batch 1")
    for name in list_estimators():
        est = get_estimator(name)
        n = sum(est.supports(p) for p in platforms)
        doc = next(iter((type(est).__doc__ or "").strip().splitlines()), "")
        print(f"{name:<16}{est.version:<9}{f'{n} of {len(platforms)}':<14}{doc}")


def _cache(args: argparse.Namespace) -> None:
    from hwaware.estimators.cache import cache_info, clear_cache

    for graphs in (False, True):
        info = cache_info(graphs=graphs)
        if args.action == "clear" and info.path is not None:
            clear_cache(info.path, graphs=graphs)
            print(f"removed {info.entries} {info.what} from {info.path}")
        elif not graphs or info.path is not None:  # "the disk cache is off" once
            print(info.describe())


def _collect(args: argparse.Namespace) -> None:
    from hwaware.evaluation import splits
    from hwaware.measure.collect import collect_layers, collect_networks, layer_plan, measurement_device

    measurement_device(args.device)  # before the layer plan, which captures whole networks first
    _out_file(args.out, f"{args.what}.csv")
    # options the other kind of collection reads were taken and ignored, measuring nothing or something else
    if args.what == "layers" and args.space is not None:
        raise InvalidArgumentError("--space applies to `hwaware collect networks` (whole architectures of a space)")
    if args.space is None and args.count is not None:
        raise InvalidArgumentError("--count goes with --space: how many architectures of the space to measure")
    if args.what == "networks" and args.random is not None:
        raise InvalidArgumentError("--random applies to `hwaware collect layers` (random layers)")
    if args.random is not None and args.random < 0:  # measured none and said so, exit 0
        raise InvalidArgumentError(f"--random is a number of random layers, 0 or more; got {args.random}")
    named = {"train": splits.TRAIN_NETWORKS, "heldout": splits.HELD_OUT_NETWORKS,
             "all": splits.TRAIN_NETWORKS + splits.HELD_OUT_NETWORKS, "none": ()}
    # --space alone measures the space: it measured the timm training set too, hours more than asked for
    given = args.models if args.models is not None else "none" if args.space is not None else "train"
    models = list(named.get(given, [m.strip() for m in given.split(",") if m.strip()]))
    if args.space is not None:
        from hwaware.zoo.spaces import get_space

        models += get_space(args.space).random_specs(args.count or 100, args.seed)
    if args.what == "networks" and not models:
        raise InvalidArgumentError(f"--models {given!r} names no network to measure; give timm names, 'train', "
                                   "'heldout' or 'all', or --space SPACE")
    if args.what == "layers":
        if any(splits.is_held_out(m) for m in models):
            print("hwaware: warning: sampling layers from held-out families", file=sys.stderr)
        n = collect_layers(args.out, layer_plan(1000 if args.random is None else args.random, models, args.batch,
                                                args.seed), device=args.device, threads=args.threads)
    else:
        n = collect_networks(args.out, models, batch_sizes=args.batch, device=args.device, threads=args.threads)
    print(f"measured {n} new {args.what} into {args.out}")


def _dims(text: str, what: str) -> tuple[int, int, int]:
    parts = text.lower().replace(",", "x").split("x")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InvalidArgumentError(f"malformed {what} {text!r}: write X, XxY or XxYxZ with positive integers")
    d = [int(p) for p in parts] + [1, 1]
    return d[0], d[1], d[2]


def _ptx_arg(text: str) -> tuple[str, object]:
    import numpy as np

    from hwaware.ptx import buffer_from_array

    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise InvalidArgumentError(f"malformed --arg {text!r}: write NAME=VALUE (a number, ptr:BYTES or a .npy file)")
    if value.startswith("ptr:"):
        if not value[4:].isdigit():
            raise InvalidArgumentError(f"malformed buffer size in --arg {text!r}: write ptr:BYTES")
        return name, buffer_from_array(None, int(value[4:]))
    if value.endswith(".npy"):
        try:
            return name, buffer_from_array(np.load(value))
        except (OSError, ValueError, EOFError) as exc:  # ValueError: not .npy, or pickled objects (never loaded)
            raise InvalidArgumentError(f"cannot read {value!r} for --arg {name} as a numeric .npy array "
                                       f"(numpy.save of one): {exc}") from exc
    try:
        return name, float(value) if any(c in value for c in ".eE") and not value.startswith("0x") else int(value, 0)
    except ValueError:
        raise InvalidArgumentError(f"malformed value in --arg {text!r}: a number, ptr:BYTES or a .npy file") from None


def _ptx(args: argparse.Namespace) -> None:
    from hwaware.ptx import analyze

    if args.ptx_command == "count":
        _ptx_count(args)
        return
    if not os.path.isfile(args.file):
        raise InvalidArgumentError(f"no PTX file {args.file!r}")
    given = [_ptx_arg(a) for a in args.arg]
    twice = sorted({n for n, _ in given if [m for m, _ in given].count(n) > 1})
    if twice:  # the last one silently won
        raise InvalidArgumentError(f"--arg {', '.join(twice)} given more than once; give each parameter once")
    launch = {"grid": _dims(args.grid, "grid"), "block": _dims(args.block, "block"),
              "dynamic_shared_mem_bytes": args.shared, "args": dict(given)}
    try:
        r = analyze(Path(args.file), launch, kernel=args.kernel, method=args.method, max_steps=args.max_steps)[0]
    except PTXParseError as exc:  # a file without PTX's .version directive is likely no PTX at all: say so
        if ".version" in Path(args.file).read_text(errors="replace"):
            raise
        raise InvalidArgumentError(f"{exc}: {args.file} does not read as PTX; ptx analyze takes PTX text (nvcc --ptx, "
                                   "or `hwaware ptx count MODEL --save-ptx FILE`)") from None
    if args.json:
        print(json.dumps(r.as_dict(), indent=1))
        return
    print(f"kernel {r.kernel}  grid {r.grid}  block {r.block}  ({r.method}: {r.evaluated:,} warp-level evaluations, "
          f"slice {r.slice_size}/{r.n_instructions} instructions, {r.seconds * 1e3:.1f} ms)")
    print(f"  thread instructions          {r.thread_instructions:>14,}")
    print(f"  thread instructions (guard)  {r.thread_instructions_guard_true:>14,}")
    print(f"  warp instructions            {r.warp_instructions:>14,}")
    print(f"  per thread min / mean / max  {r.per_thread_min:,} / {r.per_thread_mean:,.1f} / {r.per_thread_max:,}")
    for cat, n in r.per_category.items():
        print(f"  {cat:<28} {n:>14,}")
    for note in r.notes:
        print(f"  note: {note}")
    if args.per_line:
        for line, n in r.per_line.items():
            print(f"  line {line:>5} {n:>12,}")


def _ptx_count(args: argparse.Namespace) -> None:
    import torch

    from hwaware.api import resolve
    from hwaware.graph.sources import build_model, parse_input_size
    from hwaware.hardware.catalog import CPUSpec
    from hwaware.ptx.compile import network_instructions

    gpu = resolve(args.gpu)[0].device  # a calibration profile compiles for its base GPU
    if isinstance(gpu, CPUSpec):
        raise InvalidArgumentError(f"--gpu {args.gpu} is the CPU target; PTX runs on a GPU: pass one, e.g. --gpu agx")
    arch = f"sm_{int(round(gpu.compute_capability * 10))}"
    if args.model.lower().endswith(".onnx") or os.path.isfile(args.model):
        raise InvalidArgumentError(f"{args.model}: ptx count compiles a timm or torchvision model, by name, through "
                                   "TVM's PyTorch import, not a file; pass the model's name (e.g. resnet18)")
    size = parse_input_size(args.input)  # a malformed size fails before the build
    model, default = build_model(args.model, weights=True, input_size=size)  # as `latency` captures it: fused
    size = size or default
    if size is None:
        raise InvalidArgumentError(f"cannot tell the input size of {args.model}: pass --input 3x224x224")
    try:
        with torch.no_grad():
            compiled, counts = network_instructions(model, size, arch=arch)
    except HwawareError:
        raise
    except Exception as exc:  # TVM's import or build of a model it cannot take: its own errors, many lines long
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise InvalidArgumentError(f"compiling {args.model} at input {'x'.join(map(str, size))} failed "
                                   f"({type(exc).__name__}: {first}); check --input (C x H x W) or try another "
                                   "model") from None
    if args.save_ptx:
        Path(args.save_ptx).write_text(compiled.ptx)
    if args.json:
        print(json.dumps({"model": args.model, "arch": arch, "input": list(size), "compile_s": compiled.seconds,
                          "count_s": counts.seconds,
                          "thread_instructions": counts.total_thread_instructions,
                          "warp_instructions": counts.total_warp_instructions,
                          "kernels": [{"kernel": k, "thread": t, "warp": w} for k, t, w in counts.per_kernel]}, indent=1))
        return
    for (k, t, w), launch in zip(counts.per_kernel, compiled.launches):
        print(f"{k:<48} grid {str(launch.grid):<14} block {str(launch.block):<14} {t:>16,} {w:>12,}")
    print(f"{args.model} for {gpu.name} ({arch}): {len(counts.per_kernel)} kernel launches, "
          f"{counts.total_thread_instructions:,} thread instructions, {counts.total_warp_instructions:,} warp "
          f"instructions (compile {compiled.seconds:.1f} s, count {counts.seconds:.1f} s)")


def _search(args: argparse.Namespace) -> None:
    import dataclasses
    import time

    from hwaware.api import resolve
    from hwaware.hardware.catalog import CPUSpec
    from hwaware.search import LatencyConstraint, get_space, list_spaces
    from hwaware.search.proxies import LABELS
    from hwaware.search.run import SearchConfig, plot_search, run_search, summarize

    if args.list_spaces:
        for name in list_spaces():
            print(f"{name:<14}{(get_space(name).__doc__ or '').strip().splitlines()[0]}")
        return
    if args.budget is None and args.budget_quantile is None:
        raise InvalidArgumentError("no budget: pass --budget MS, or --budget-quantile 0.5 for the space's median "
                                   "predicted latency")
    if args.measure and not isinstance(resolve(args.gpu, runtime=args.runtime)[0].device, CPUSpec):
        raise InvalidArgumentError(f"--measure times the chosen models on this CPU, so its budget must be the CPU's: "
                                   f"pass --gpu cpu (or a profile of it), not {args.gpu}")
    if Path(args.out).exists() and not Path(args.out).is_dir():  # before the search, not when it writes its plot
        raise InvalidArgumentError(f"--out {args.out} is a file; pass a folder for the plot and summary.json")
    _check_writable(Path(args.out), args.out, "results/search")
    # every field is checked here, before the few seconds of predictions a quantile budget takes
    cfg = SearchConfig(space=args.space, gpu=args.gpu, budget_ms=args.budget or 1.0, trials=args.trials,
                       proxy=args.proxy, prune=args.prune, storage=args.storage, study_name=args.study,
                       workers=args.workers, seed=args.seed, estimator=args.estimator, batch_size=args.batch,
                       precision=args.precision, runtime=args.runtime, bound=args.bound)
    if args.budget is None:
        derived = LatencyConstraint.at_quantile(args.space, args.budget_quantile, args.gpu, seed=args.seed,
                                                estimator=args.estimator, batch_size=args.batch,
                                                precision=args.precision, runtime=args.runtime,
                                                bound=args.bound).budget_ms
        cfg = dataclasses.replace(cfg, budget_ms=derived)
        what = "predicted latency" if args.bound == "estimate" else "prediction intervals' high ends"
        print(f"budget {derived:.3f} ms: the {args.budget_quantile:g} quantile of the {what} of 20 random "
              f"{args.space} architectures on {args.gpu}")
    budget = cfg.budget_ms
    t0 = time.perf_counter()
    study = run_search(cfg)
    elapsed = time.perf_counter() - t0
    summary = summarize(study, budget, measure_on_cpu=args.measure, batch_size=cfg.batch_size)
    out = Path(args.out)
    plot = plot_search(study, budget, out / "search.png", proxy=args.proxy)
    used = cfg.constraint()  # the platform as resolved: a profile's precision and runtime where none was given
    config = {**cfg.__dict__, "precision": used.precision, "runtime": used.runtime}
    (out / "summary.json").write_text(json.dumps({**summary.as_dict(), "config": config, "seconds": elapsed}, indent=1))
    print(f"{summary.trials} trials in {elapsed:.0f} s: {summary.complete} complete, {summary.pruned} pruned; "
          f"{summary.infeasible} of {summary.predicted} candidates ({summary.violation_rate_predicted:.0%}) predicted "
          f"over the {budget:g} ms budget" + (" (their interval's high end)" if cfg.bound == "high" else ""))
    print(f"Pareto front (feasible; proxy = {LABELS[args.proxy]}, higher is better):")
    print(f"{'trial':>6}{'proxy':>10}{'pred ms':>10}{'interval ms':>16}{'meas ms':>10}  architecture")
    for r in summary.pareto:
        meas = f"{r['measured_ms']:>10.2f}" if "measured_ms" in r else f"{'-':>10}"
        span = f"{r['interval_ms'][0]:.2f}..{r['interval_ms'][1]:.2f}" if r["interval_ms"] else "-"
        print(f"{r['number']:>6}{r['proxy']:>10.2f}{r['predicted_ms']:>10.2f}{span:>16}{meas}  {r['arch']}")
    warned = sum(any(r["warnings"].values()) for r in summary.pareto if r["warnings"])
    unknown = sum(r["warnings"] is None for r in summary.pareto)  # a resumed study's trials from before 2026-12-06
    if warned:
        print(f"{warned} of the front's predictions carry warnings: read them in {out / 'summary.json'} (pareto, "
              "warnings) before trusting those architectures' latency")
    if unknown:
        print(f"{unknown} of the front's trials were recorded by an hwaware that kept no warnings: run `hwaware "
              "latency` on their architectures to see any")
    if not summary.pareto:
        print(f"no candidate fits the {budget:g} ms budget as predicted; " + (
            f"raise --budget-quantile (now {args.budget_quantile:g})" if args.budget_quantile else
            "raise --budget, or pass --budget-quantile 0.5 for one that about half of the space meets"))
    elif summary.violation_rate_measured is not None:
        print(f"budget-violation rate of the chosen models, measured on this CPU: {summary.violation_rate_measured:.0%}")
    else:
        print("the chosen models are feasible as predicted; pass --gpu cpu --measure to measure them on this CPU")
    print(f"plot: {plot}; summary: {out / 'summary.json'}")


def main(argv: Sequence[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `hwaware gpus | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():  # restores the filters and showwarning on the way out
        # a doubtful answer is one line on stderr, each distinct text once (`latency` prints its own beside the answer);
        # other libraries' warnings keep their own form
        shown = warnings.showwarning
        warnings.showwarning = lambda message, category, *rest: (
            print(f"hwaware: warning: {message}", file=sys.stderr) if issubclass(category, HwawareWarning)
            else shown(message, category, *rest))
        for printed in (ImplausibleEstimateWarning, OtherCPUWarning):  # `latency` prints them as its notes say them
            warnings.simplefilter("ignore" if args.command == "latency" else "default", printed)
        commands = {"latency": _latency, "gpus": _gpus, "features": _features, "estimators": _estimators,
                    "collect": _collect, "search": _search, "ptx": _ptx, "cache": _cache,
                    "space-latency": _space_latency, "calibrate": _calibrate, "rank": _rank}
        try:
            commands[args.command](args)
        except HwawareError as exc:
            print(f"hwaware: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # Ctrl-C: one line, and where the work done so far is kept
            kept = {"collect": f"; the rows measured so far are kept in {getattr(args, 'out', '')}: run the same "
                               "command again to go on from them",
                    "search": "; the trials finished so far are kept in the --storage: run again with the same "
                              "--storage and --study to go on" if getattr(args, "storage", None) else
                              "; without --storage the trials are not kept"}.get(args.command, "")
            print(f"\nhwaware: interrupted{kept}", file=sys.stderr)  # \n: off a progress bar's line, after the ^C
            return 130  # the shell's code for a SIGINT
        except OSError as exc:  # a path the checks before the work could not foresee (a name too long, /proc, EIO)
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"hwaware: error: {where}{exc.strerror or exc}; check the paths given and the disk",
                  file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
