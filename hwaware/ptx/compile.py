"""Compile a candidate network to PTX on a machine without a GPU, with each kernel's launch.

Pipeline (optional extra ``pip install 'hwaware[ptx]'``): ``torch.export`` (or an ONNX model) ->
Apache TVM 0.27 Relax with its default CUDA schedules (target ``cuda``: TVM's ``nvptx`` target
fails on barriers in 0.25-0.27) -> CUDA C -> PTX with NVRTC 12.9 from PyPI, which still targets
sm_53/62/72 (Nano, TX2, Xavier; nvcc 13 does not), loaded with ctypes. Launch dimensions are the
extents of the ``blockIdx``/``threadIdx`` thread bindings of each scheduled TIR function
(virtual threads are unrolled by codegen and are not launch dimensions); kernels run in the order
the Relax ``main`` function calls them. A user's own PTX and launch list (from a GPU box) go
straight to :func:`count_network_instructions`.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwaware.errors import HwawareError, InvalidArgumentError

_BIND = re.compile(r'T\.thread_binding\((?:T\.int64\()?(\d+)\)?(?:, (?:T\.int64\()?(\d+)\)?)?, thread="(blockIdx|threadIdx)\.([xyz])"')
_LAUNCH = re.compile(r'T\.launch_thread\("(blockIdx|threadIdx)\.([xyz])", (?:T\.int64\()?(\d+)')
_KERNEL = re.compile(r'extern "C" __global__ void (?:__launch_bounds__\((\d+)\) )?(\w+)\(([^)]*)\)')
_PARAM = re.compile(r'(\w+): T\.Buffer\(\((.*?)\),\s*"(\w+)"')
_CALL = re.compile(r"^\s+(?:\w+(?:: [^=]+)? = )?(\w+)\(([^)]*)\)\s*$", re.M)


class CompilerMissingError(HwawareError, ImportError):
    """The optional compile pipeline is not installed."""


@dataclass(frozen=True)
class KernelLaunch:
    kernel: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    args: dict[str, int]  # parameter name -> buffer bytes (every TVM kernel argument is a pointer)
    dynamic_shared_mem_bytes: int = 0
    operands: tuple[str, ...] = field(default=(), compare=False)  # the Relax variables the call reads and writes


@dataclass
class CompiledNetwork:
    ptx: str
    arch: str
    launches: list[KernelLaunch]
    cuda_source: str = field(repr=False, default="")
    seconds: float = 0.0


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise CompilerMissingError(f"compiling to PTX needs the optional extra: pip install 'hwaware[ptx]' "
                                   f"(missing {module!r}: {exc})") from exc


@functools.cache
def _nvrtc() -> ctypes.CDLL:
    """libnvrtc.so.12 from the nvidia-cuda-nvrtc-cu12 wheel (12.9 targets sm_53 ... sm_121)."""
    nvidia = _require("nvidia")
    for root in getattr(nvidia, "__path__", []):
        for lib in sorted(Path(root).glob("cuda_nvrtc/lib/libnvrtc.so.12*")):
            if "alt" not in lib.name and "builtins" not in lib.name:
                return ctypes.CDLL(str(lib))
    raise CompilerMissingError("libnvrtc.so.12 not found: pip install 'hwaware[ptx]' (nvidia-cuda-nvrtc-cu12)")


def _includes() -> list[str]:
    """The header folders NVRTC compiles TVM's CUDA with: CCCL's C++ standard headers and the CUDA runtime's
    (``math_constants.h``, which TVM's code for some ops includes: MobileNetV3's, review helper-93)."""
    nvidia = _require("nvidia")
    found = {}
    for root in getattr(nvidia, "__path__", []):
        for wheel, package in (("cuda_cccl", "nvidia-cuda-cccl-cu12"), ("cuda_runtime", "nvidia-cuda-runtime-cu12")):
            inc = Path(root) / wheel / "include"
            if inc.is_dir():
                found.setdefault(package, str(inc))
    missing = [p for p in ("nvidia-cuda-cccl-cu12", "nvidia-cuda-runtime-cu12") if p not in found]
    if missing:
        raise CompilerMissingError(f"CUDA headers not found: pip install 'hwaware[ptx]' ({', '.join(missing)})")
    return [f"-I{inc}" for inc in found.values()]


# CUDA 13 renamed the Jetson Thor's compute_101 to compute_110: NVRTC 12.x knows it by the old name
RENAMED_ARCHS = {110: 101}


def _nvrtc_arch(lib: ctypes.CDLL, arch: str) -> int:
    """The compute capability NVRTC is asked for (``sm_110`` -> 110, or 101 where this NVRTC predates the rename);
    one the NVRTC does not know is refused in one line."""
    number = int(arch.split("_")[-1])
    count = ctypes.c_int()
    lib.nvrtcGetNumSupportedArchs(ctypes.byref(count))
    known = (ctypes.c_int * count.value)()
    lib.nvrtcGetSupportedArchs(known)
    if number in known:
        return number
    if RENAMED_ARCHS.get(number) in known:
        return RENAMED_ARCHS[number]
    raise HwawareError(f"the installed NVRTC cannot compile for {arch} (it knows compute_"
                       f"{', '.join(map(str, known))}); compile for a GPU it knows (--gpu), or install an NVRTC that "
                       "knows it")


def nvrtc_compile(source: str, arch: str = "sm_72", name: str = "kernels.cu") -> str:
    """CUDA C -> PTX with NVRTC (``arch`` like ``sm_72`` or ``compute_72``)."""
    lib = _nvrtc()
    prog = ctypes.c_void_p()
    check = _nvrtc_check(lib)
    opts = [f"--gpu-architecture=compute_{_nvrtc_arch(lib, arch)}", "-std=c++17", *_includes(), "--use_fast_math"]
    check(lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None), prog)
    c_opts = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    status = lib.nvrtcCompileProgram(prog, len(opts), c_opts)
    if status != 0:
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        # "file(1): error: ...", and "catastrophic error" for a header it cannot open
        errors = [line for line in log.value.decode().splitlines()
                  if re.search(r": (catastrophic |fatal )?error", line)] or ["(no error line)"]
        raise HwawareError(f"NVRTC could not compile the generated CUDA for {arch}: {errors[0].strip()}"
                           + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    size = ctypes.c_size_t()
    check(lib.nvrtcGetPTXSize(prog, ctypes.byref(size)), prog)
    buf = ctypes.create_string_buffer(size.value)
    check(lib.nvrtcGetPTX(prog, buf), prog)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return buf.value.decode()


def _nvrtc_check(lib: ctypes.CDLL):
    lib.nvrtcGetErrorString.restype = ctypes.c_char_p

    def check(status: int, prog: ctypes.c_void_p) -> None:
        if status != 0:
            raise HwawareError(f"NVRTC error {status}: {lib.nvrtcGetErrorString(status).decode()}")
    return check


def _launch_dims(script: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    dims = {"blockIdx": [1, 1, 1], "threadIdx": [1, 1, 1]}
    for a, b, kind, axis in _BIND.findall(script):
        dims[kind]["xyz".index(axis)] = int(b) - int(a) if b else int(a)
    for kind, axis, extent in _LAUNCH.findall(script):
        dims[kind]["xyz".index(axis)] = int(extent)
    g, t = dims["blockIdx"], dims["threadIdx"]
    return (g[0], g[1], g[2]), (t[0], t[1], t[2])


def compile_network(model: Any, input_size: tuple[int, ...], *, arch: str = "sm_72", batch_size: int = 1) -> CompiledNetwork:
    """Compile ``model`` (an ``nn.Module``) for ``arch``; see the module docstring."""
    import torch

    x = torch.zeros((batch_size, *input_size))
    return compile_module(model, (x,), arch=arch)


def compile_module(model: Any, example_inputs: tuple[Any, ...], *, arch: str = "sm_72") -> CompiledNetwork:
    """Compile ``model`` called on ``example_inputs`` (tensors); each launch names its operands (Relax variables:
    the forward's inputs are ``xs_<i>`` for a ``*xs`` signature, parameters ``p_<module path>``)."""
    import torch

    tvm = _require("tvm")
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    t0 = time.perf_counter()
    with torch.no_grad():
        exported = torch.export.export(model.eval(), tuple(example_inputs))
    mod = from_exported_program(exported, keep_params_as_input=True)
    # 48 KiB (static shared memory per block on every CUDA GPU), which TVM assumes anyway, saying so per kernel
    target = tvm.target.Target({"kind": "cuda", "arch": arch, "max_shared_memory_per_block": 49152})
    mod = relax.get_default_pipeline(target)(mod)
    executable = tvm.compile(mod, target=target)
    source = next((m.inspect_source() for m in _walk(executable.mod) if m.kind == "cuda"), None)
    if source is None:
        raise HwawareError("TVM produced no CUDA module for this network")
    buffers: dict[str, dict[str, int]] = {}
    dims: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {}
    prim_names = []
    for gv, fn in mod.functions.items():
        if type(fn).__name__ != "PrimFunc":
            continue
        name = gv.name_hint
        prim_names.append(name)
        script = fn.script()
        dims[name] = _launch_dims(script)
        sizes = {}
        header = script[script.index(f"def {name}("):].split("\n", 1)[0]
        for pname, shape, dtype in _PARAM.findall(header):
            n = 1
            for d in re.findall(r"\d+", re.sub(r"T\.int64|T\.int32", "", shape)):
                n *= int(d)
            sizes[pname] = n * int("".join(c for c in dtype if c.isdigit()) or 32) // 8
        buffers[name] = sizes
    # CUDA parameters are the TIR buffer names with a "_ptr" suffix, sorted by name
    signatures = {m.group(2): [p.strip().split()[-1].lstrip("*").removesuffix("_ptr") for p in m.group(3).split(",")
                               if p.strip()] for m in _KERNEL.finditer(source)}
    launches = []
    for call, operands in _CALL.findall(mod["main"].script()):
        if call not in dims or f"{call}_kernel" not in signatures:
            continue
        kernel = f"{call}_kernel"
        grid, block = dims[call]
        params = signatures[kernel]
        sizes = buffers[call]
        launches.append(KernelLaunch(kernel, grid, block, {f"{kernel}_param_{i}": sizes.get(p, 1 << 30)
                                                          for i, p in enumerate(params)},
                                     operands=tuple(a.strip() for a in operands.split(",") if a.strip())))
    ptx = nvrtc_compile(source, arch)
    return CompiledNetwork(ptx, arch, launches, source, time.perf_counter() - t0)


def _walk(module: Any):
    yield module
    for m in module.imports:
        yield from _walk(m)


@dataclass
class NetworkInstructions:
    total_thread_instructions: int
    total_warp_instructions: int
    per_kernel: list[tuple[str, int, int]]  # (kernel, thread, warp) in launch order
    seconds: float
    cache_hits: int
    # the analyzer's work over the distinct launches (a repeated one is counted once, from the cache): CTAs it ran, of
    # the CTAs in their grids (the rest grouped with one that ran), and warp-level instruction evaluations
    ctas_run: int = 0
    ctas_in_grids: int = 0
    evaluated: int = 0


# (thread, warp) instructions, then the work: (CTAs run, CTAs in the grid, evaluations)
_COUNT_CACHE: dict[tuple[str, str, tuple, tuple, int, tuple], tuple[int, int, tuple[int, int, int]]] = {}


def count_network_instructions(ptx: str, launches: list[KernelLaunch]) -> NetworkInstructions:
    """Executed PTX instructions of every launch, summed; cached per (kernel text hash, launch)."""
    from hwaware.ptx.parser import paused_gc

    with paused_gc():  # tens of thousands of parsed objects: collections would rescan them over and over
        return _count(ptx, launches)


def _count(ptx: str, launches: list[KernelLaunch]) -> NetworkInstructions:
    from hwaware.ptx.analysis import analyze, buffer_from_array

    t0 = time.perf_counter()
    digest = hashlib.sha256(ptx.encode()).hexdigest()
    rows, hits, distinct = [], 0, {}
    for launch in launches:
        key = (digest, launch.kernel, launch.grid, launch.block, launch.dynamic_shared_mem_bytes,
               tuple(sorted(launch.args.items())))
        if key in _COUNT_CACHE:
            hits += 1
        else:
            args = {name: buffer_from_array(None, nbytes) for name, nbytes in launch.args.items()}
            r = analyze(ptx, {"grid": launch.grid, "block": launch.block, "args": args,
                              "dynamic_shared_mem_bytes": launch.dynamic_shared_mem_bytes}, kernel=launch.kernel)[0]
            _COUNT_CACHE[key] = (r.thread_instructions, r.warp_instructions,
                                 (r.ctas_executed, math.prod(launch.grid), r.evaluated))
        thread, warp, distinct[key] = _COUNT_CACHE[key]
        rows.append((launch.kernel, thread, warp))
    run, grids, evaluated = (sum(w[i] for w in distinct.values()) for i in range(3))
    return NetworkInstructions(sum(r[1] for r in rows), sum(r[2] for r in rows), rows, time.perf_counter() - t0, hits,
                               run, grids, evaluated)


def network_instructions(model: Any, input_size: tuple[int, ...], *, arch: str = "sm_72") -> tuple[CompiledNetwork, NetworkInstructions]:
    """Compile and count: the executed PTX instructions of one forward pass of ``model``."""
    if not input_size:
        raise InvalidArgumentError("input_size (C, H, W) is required")
    compiled = compile_network(model, input_size, arch=arch)
    return compiled, count_network_instructions(compiled.ptx, compiled.launches)
