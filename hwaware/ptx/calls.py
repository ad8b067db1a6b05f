"""Device-function calls, inlined before a kernel is counted.

nvcc keeps a ``__noinline__`` function (and any it chose not to inline) as a ``.func`` and calls it with a call
sequence: the caller declares ``.param`` arguments in braces, stores them (``st.param``), ``call``\\ s, and loads the
result (``ld.param``); the callee loads its parameters, stores its result and ``ret``\\ s. GPGPU-Sim executes each of
those as one instruction, and the callee's body in the calling warp, which reconverges at the return address.

:func:`inline_calls` rewrites the kernel so the CFG, the slicer and the engine see one function and count the same
instructions: each executed instruction stays one instruction. A parameter access becomes an access to a per-thread
``.local`` variable holding that call site's parameter, as GPGPU-Sim keeps call parameters in the thread's local
stack frame and sends them through L1 as local memory (``param_space_local`` in ``ldst_unit::memory_cycle``; only
kernel parameters take the constant path); ``counted_as`` keeps the opcode for the per-category counts. The ``call``
itself stays as a counted no-op, and each ``ret`` of the callee a branch to the return point (the callee's registers,
labels and local variables renamed per call site). ``vprintf`` has no body in the PTX: GPGPU-Sim runs it
as a built-in (one instruction, the call), and so is it counted here; its return value is not modelled, and a
branch that reads it is refused (:func:`hwaware.ptx.analysis.analyze`). Refused, each in one line naming the fix:
indirect and guarded calls, other functions without a body (``__assertfail``, ``malloc``), recursion, a guarded
``ret`` in a callee (GPGPU-Sim aborts when it splits a warp; nvcc writes one ``ret`` per function) and inlining past
:data:`MAX_INLINED` instructions.

Assumed, not checked against a simulator run: a call from a divergent region of the caller reconverges where the
inlined code does (the caller's join); GPGPU-Sim's SIMT stack keeps a call entry on top while the callee runs.
The random kernels of :func:`hwaware.ptx.fuzz.random_call_kernel` check that both counting methods agree on inlined
code; the hand-counted cases of ``tests/test_ptx_calls.py`` check what is counted.
"""
from __future__ import annotations

import dataclasses
import itertools

from hwaware.errors import PTXExecutionError
from hwaware.ptx.parser import Function, Instruction, Module, Operand, Param, Variable, renamed

BUILTINS = frozenset({"vprintf"})  # GPGPU-Sim's intrinsics among the functions the PTX declares without a body
MAX_DEPTH = 16  # nested calls inlined; nvcc's call chains in CNN kernels are a few deep
MAX_INLINED = 200_000  # instructions after inlining: a call tree beyond it would take seconds to expand


def inline_calls(module: Module, fn: Function) -> tuple[Function, frozenset[str]]:
    """``fn`` with every call inlined (``fn`` itself when it calls nothing), and the variables that hold a built-in's
    result, which nothing computes."""
    if not any(isinstance(s, Instruction) and s.base == "call" for s in fn.body):
        return fn, frozenset()
    functions = {f.name: f for f in sorted(module.functions, key=lambda f: bool(f.body))}  # a definition wins
    registers = dict(fn.registers)
    variables = list(fn.variables)
    unknown: set[str] = set()
    declared: set[str] = set()
    sites = itertools.count(1)
    emitted = [0]  # instructions written so far, against MAX_INLINED

    def where(inst: Instruction) -> str:
        return f"{module.file}:{inst.line}"

    def rewrite_params(inst: Instruction, params: dict[str, Param]) -> Instruction:
        """st.param/ld.param of a call parameter as st.local/ld.local of its variable (kernel parameters are left to
        the engine)."""
        if inst.base not in ("st", "ld") or "param" not in inst.mods:
            return inst
        k = 0 if inst.base == "st" else 1
        addr = inst.operands[k]
        if addr.kind != "addr" or addr.value not in params:
            return inst
        ops = list(inst.operands)
        ops[k] = dataclasses.replace(addr, value=local_variable(params[str(addr.value)]))
        return dataclasses.replace(inst, opcode=inst.opcode.replace(".param", ".local", 1), operands=tuple(ops),
                                   counted_as=inst.opcode)

    def local_variable(p: Param) -> str:
        """The per-thread variable that holds call parameter ``p`` (declared on first use)."""
        name = f"{p.name.lstrip('%')}$param"
        if name not in declared:
            declared.add(name)
            align = next((int(a.split()[1]) for a in p.attrs if a.startswith(".align")), 0)
            variables.append(Variable("local", name, p.dtype, p.count, align))
        return name

    def expand(f: Function, rename: dict[str, str], params: dict[str, Param], stack: tuple[str, ...]) -> list:
        out: list = []
        for s in f.body:
            if isinstance(s, str):
                out.append(rename.get(s, s))
                continue
            inst = rewrite_params(renamed(s, rename), params)
            if inst.base != "call":
                out.append(inst)
                emitted[0] += 1
                if emitted[0] > MAX_INLINED:
                    raise PTXExecutionError(f"{module.file}:{fn.line}: inlining {fn.name}'s calls gives more than "
                                            f"{MAX_INLINED:,} instructions, which is not supported; rewrite the call "
                                            "tree as loops and regenerate the PTX")
                continue
            out.extend(call_site(inst, params, stack))
        return out

    def call_site(inst: Instruction, params: dict[str, Param], stack: tuple[str, ...]) -> list:
        ops = list(inst.operands)
        results = ops.pop(0).value if ops and ops[0].kind == "list" else ()
        target = ops.pop(0) if ops else None
        args = ops.pop(0).value if ops and ops[0].kind == "list" else ()
        if target is None or target.kind != "symbol" or ops:
            raise PTXExecutionError(f"{where(inst)}: indirect calls ({inst.opcode} through a register) are not "
                                    "supported; call the function by name or inline it (__forceinline__) and "
                                    "regenerate the PTX")
        if inst.guard:
            raise PTXExecutionError(f"{where(inst)}: a guarded call (@{inst.guard} {inst.opcode}) is not supported; "
                                    "inline the callee (__forceinline__) and regenerate the PTX")
        callee = functions.get(str(target.value))
        if callee is None:
            raise PTXExecutionError(f"{where(inst)}: {inst.opcode} {target.value}: the module declares no such "
                                    "function; pass the PTX of the whole module that defines it")
        marker = dataclasses.replace(inst, operands=(target,))  # the call itself: one instruction, a no-op here
        if not callee.body:
            if callee.name in BUILTINS:
                unknown.update(local_variable(params[str(r.value)]) for r in results if r.value in params)
                return [marker]
            fix = ("compile with -DNDEBUG (assert() calls it)" if "assert" in callee.name else
                   "define or inline it in this module (__forceinline__)")
            raise PTXExecutionError(f"{where(inst)}: {inst.opcode} {callee.name}: its body is not in the PTX (an "
                                    f"external function); {fix} and regenerate the PTX")
        if callee.name in stack or len(stack) > MAX_DEPTH:
            raise PTXExecutionError(f"{where(inst)}: {callee.name} is called recursively or more than {MAX_DEPTH} "
                                    "calls deep, which is not supported; inline it (__forceinline__) or rewrite it "
                                    "as a loop and regenerate the PTX")
        if len(args) != len(callee.params) or len(results) != len(callee.returns):
            raise PTXExecutionError(f"{where(inst)}: {inst.opcode} {callee.name} passes {len(args)} arguments and "
                                    f"{len(results)} results; {callee.name} takes {len(callee.params)} and returns "
                                    f"{len(callee.returns)}")
        guarded = next((s for s in callee.body if isinstance(s, Instruction) and s.base == "ret" and s.guard), None)
        if guarded is not None:
            raise PTXExecutionError(f"{module.file}:{guarded.line}: a guarded ret in {callee.name}, which GPGPU-Sim "
                                    "cannot run where it splits a warp; return once at the end (as nvcc writes) and "
                                    "regenerate the PTX")
        site = next(sites)
        rename = {r: f"{r}$c{site}" for r in callee.registers}
        rename.update({lab: f"{lab}$c{site}" for lab in callee.body if isinstance(lab, str)})
        for v in callee.variables:
            rename[v.name] = f"{v.name}$c{site}"
            variables.append(dataclasses.replace(v, name=rename[v.name]))
        for r, dtype in callee.registers.items():
            registers[rename[r]] = dtype
        inner = {}  # the callee's own call sequences' parameters
        for name, p in callee.call_params.items():
            rename[name] = f"{name}$c{site}"
            inner[rename[name]] = dataclasses.replace(p, name=rename[name])
        for formal, actual in zip((*callee.params, *callee.returns), (*args, *results)):
            if actual.value not in params:
                raise PTXExecutionError(f"{where(inst)}: {inst.opcode} {callee.name} passes {actual}, not a .param of "
                                        "the call sequence")
            rename[formal.name] = str(actual.value)  # the callee's parameters and results are the call site's
        back = f"$ret$c{site}"
        body = expand(dataclasses.replace(callee, body=[
            dataclasses.replace(s, opcode="bra", operands=(Operand("symbol", back),), counted_as=s.opcode)
            if isinstance(s, Instruction) and s.base == "ret" else s for s in callee.body]),
            rename, {**params, **inner}, (*stack, callee.name))
        return [marker, *body, back]

    body = expand(fn, {}, dict(fn.call_params), (fn.name,))
    return dataclasses.replace(fn, body=body, registers=registers, variables=variables), frozenset(unknown)

