"""Every error hwaware raises, defined once, and the test most refusals of a number start from.

Each message names the problem and how to fix it; callers catch :class:`HwawareError`
to handle all of them (the CLI turns them into a one-line message and exit code 2).
"""
from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Iterable


def positive_number(value: object) -> bool:
    """Whether ``value`` is a finite number above 0 (numpy's numbers too; ``True`` is no number).

    >>> [positive_number(v) for v in (2.5, 0, float("inf"), True, "3")]
    [True, False, False, False, False]
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def positive_integer(value: object) -> bool:
    """Whether ``value`` is an integer of 1 or more (numpy's integers too; ``True`` is no number).

    >>> [positive_integer(v) for v in (3, 0, 2.0, True, "3")]
    [True, False, False, False, False]
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


SEED_MAX = 2 ** 32 - 1  # NumPy's (Optuna's samplers') largest seed


def checked_seed(seed: object, span: int = 1) -> int:
    """``seed`` as an int, where it and the ``span - 1`` seeds after it (a search's workers take one each) are seeds
    NumPy takes, 0 to 2**32 - 1; else the one-line error (helper-163: NumPy's traceback, or Python's random refusing
    a NumPy integer)."""
    if (not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed <= SEED_MAX - span + 1):
        top = "2**32 - 1" + (f" - {span - 1} (one seed per worker after it)" if span > 1 else "")
        raise InvalidArgumentError(f"seed must be an integer from 0 to {top}, got {seed!r}")
    return int(seed)


class HwawareError(Exception):
    """Base class of all hwaware errors."""


class InvalidArgumentError(HwawareError, ValueError):
    """A malformed argument: input size, batch size, precision, runtime, ..."""


class CacheSettingError(InvalidArgumentError):
    """An on-disk cache setting (``HWAWARE_CACHE_DIR``, ``HWAWARE_CACHE_MAX_MB``) that cannot be used: the machine's,
    not any one model's or request's."""


class UnknownGPUError(HwawareError, KeyError):
    """A GPU name that is not in the catalog; the message lists the closest names."""

    def __init__(self, name: str, known: Iterable[str], hint: str = "") -> None:
        self.name, self.hint = name, hint
        known = list(known)

        def words(s: str) -> list[str]:  # the same words in another order: "orin_agx" (helper-169)
            return sorted(re.split(r"[\s_-]+", s.lower()))

        self.suggestions = list(dict.fromkeys([k for k in known if words(k) == words(name)]
                                              + difflib.get_close_matches(name.lower(), known, n=5, cutoff=0.5)))[:5]
        msg = f"unknown GPU {name!r}"
        if hint:
            msg += f": {hint}"
        if self.suggestions:
            msg += f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
        msg += " (hwaware.gpus() or `hwaware gpus` lists every name)"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownEstimatorError(HwawareError, KeyError):
    """An estimator name that is not registered."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        super().__init__(f"unknown estimator {name!r}; registered estimators: {', '.join(known)}")

    def __str__(self) -> str:
        return str(self.args[0])


class UnsupportedPlatformError(HwawareError, ValueError):
    """An estimator asked for a platform it has no model or data for."""


class UnsupportedModelError(HwawareError, TypeError):
    """The object passed as a model is none of: nn.Module, timm name, ONNX path or ModelProto."""


class ModelNotFoundError(HwawareError, LookupError):
    """A model name that no registry knows, or an ONNX path that does not exist."""


class UnsupportedLayerError(HwawareError, ValueError):
    """A captured layer that cannot be rebuilt as a runnable op (to time it, or to compile and count its PTX)."""


class HwawareWarning(UserWarning):
    """Something to know that is not an error (the CLI prints it as one ``hwaware: warning:`` line)."""


class ProfileReplacedWarning(HwawareWarning):
    """:func:`hwaware.calibrate` saved over a profile of another GPU, runtime or precision under the same name (the CLI
    says it in its own ``replaced`` line instead)."""


class OtherCPUWarning(HwawareWarning):
    """A CPU target's answer on a machine with another CPU than the one its model was measured on: the answer is that
    CPU's, and its notes say how far another CPU's were and how to calibrate yours (``hwaware calibrate --here``)."""


class ImplausibleEstimateWarning(HwawareWarning):
    """An answer hwaware returns but doubts: physically implausible, capped at a physical bound, or for a batch
    larger than the GPU's memory holds. The same text is in :attr:`hwaware.Estimate.warnings`."""


class ONNXLoadError(HwawareError):
    """An ONNX file or ModelProto that cannot be parsed or shape-inferred."""


class GraphCaptureError(HwawareError, RuntimeError):
    """The model's forward failed while being traced.

    ``op`` is the operation that failed (an aten op or ``None`` if the failure was in
    Python code), ``module`` the innermost module that was running.
    """

    def __init__(self, message: str, *, op: str | None = None, module: str | None = None) -> None:
        self.op = op
        self.module = module
        super().__init__(message)


class DynamicControlFlowError(GraphCaptureError):
    """The forward reads tensor values (``.item()``, ``bool(t)``, data-dependent shapes),
    which a meta-device trace cannot know."""


class PTXError(HwawareError):
    """Base class of PTX analysis errors."""


class PTXParseError(PTXError, SyntaxError):
    """Malformed PTX; carries the file, 1-based line and column."""

    def __init__(self, message: str, *, file: str = "<ptx>", line: int = 0, column: int = 0) -> None:
        self.file, self.line, self.column = file, line, column
        super().__init__(f"{file}:{line}:{column}: {message}")

    def __str__(self) -> str:
        return str(self.args[0])


class PTXExecutionError(PTXError, RuntimeError):
    """An instruction that cannot be executed (unsupported, out-of-bounds access ...), with its location."""


class DataDependentError(PTXExecutionError):
    """Control flow reads a buffer whose contents were not given: the counts depend on the data.

    ``param`` names the kernel argument; pass its contents to make the analysis exact."""

    def __init__(self, message: str, *, param: str, location: str) -> None:
        self.param, self.location = param, location
        super().__init__(message)


class UnsupportedInstructionError(PTXExecutionError):
    """An instruction the interpreter has no semantics for. The slicer counts it without executing it when it lies
    outside the slice (it decides no branch); control transfers the engine cannot follow are refused by both."""


class OutOfBoundsError(PTXExecutionError):
    """A load or store outside the launch's buffers (the launch would fault on a GPU). Only executed accesses are
    checked: the slicer does not execute the ones outside its slice, so it can count such a launch."""


class StepLimitError(PTXExecutionError):
    """Execution stopped after ``max_steps`` warp instructions (a runaway loop or a huge launch)."""
