"""A latency-constrained search: a model space, a latency budget on a platform, a CPU accuracy proxy,
Optuna's multi-objective TPE, and N worker processes sharing one study through RDB storage.

Objectives: maximise the proxy, minimise the predicted latency; constraint: latency <= budget (or the prediction
interval's high end <= budget: ``SearchConfig.bound``).
With ``prune=True`` candidates over budget are pruned right after the prediction (before the proxy,
which stands in for training); the constraint is recorded first, so the sampler learns from them.
Workers share the study (SQLite on one machine, PostgreSQL for many) and hwaware's prediction cache.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from hwaware.api import resolve
from hwaware.errors import HwawareError, InvalidArgumentError, checked_seed, positive_integer
from hwaware.search.constraint import LatencyConstraint, is_feasible, sampler_kwargs
from hwaware.search.proxies import LABELS, PROXIES, proxy_score, synflow
from hwaware.zoo.spaces import get_space
from hwaware.threads import torch_threads


@dataclass(frozen=True)
class SearchConfig:
    """What to search; every field is checked on construction, so a bad value fails before any trial runs."""

    space: str = "mobilenetv3"
    gpu: str = "agx"  # a catalog GPU or a calibration profile
    budget_ms: float = 10.0
    batch_size: int = 1
    precision: str | None = None  # None: a profile's own, else fp32 (as for hwaware.latency)
    runtime: str | None = None  # None: a profile's own, else eager PyTorch
    trials: int = 40
    proxy: str = "synflow"
    prune: bool = False
    storage: str | None = None  # None: in-memory, one worker only
    study_name: str = "hwaware-search"
    workers: int = 1
    seed: int = 0
    estimator: str | None = None
    torch_threads: int = 1
    bound: str = "estimate"  # or "high": the prediction interval's high end must fit (LatencyConstraint)

    def __post_init__(self) -> None:
        for name in ("trials", "workers", "torch_threads", "batch_size"):
            value = getattr(self, name)
            if not positive_integer(value):
                raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
            object.__setattr__(self, name, int(value))  # numpy integers too, kept as int (JSON study attributes)
        object.__setattr__(self, "seed", checked_seed(self.seed, self.workers))
        if self.workers > 1 and not self.storage:
            raise InvalidArgumentError("several workers need a shared storage: pass storage='sqlite:///study.db' "
                                       "(CLI: --storage) or a PostgreSQL URL")
        if self.proxy not in PROXIES:
            raise InvalidArgumentError(f"proxy must be one of {', '.join(PROXIES)}, got {self.proxy!r}")
        # as registered: a study started as 'NB201' resumes as 'nb201' (its trials record the registered name)
        object.__setattr__(self, "space", get_space(self.space).name)
        self.constraint()  # checks the budget, the GPU and the estimator

    def constraint(self) -> LatencyConstraint:
        return LatencyConstraint(self.budget_ms, self.gpu, batch_size=self.batch_size, precision=self.precision,
                                 runtime=self.runtime, estimator=self.estimator, bound=self.bound)


def make_objective(cfg: SearchConfig):
    space = get_space(cfg.space)
    constraint = cfg.constraint()

    def objective(trial: Any) -> tuple[float, float]:
        arch = space.sample(trial)
        size = space.input_size(arch)
        trial.set_user_attr("hwaware_arch", space.spec(arch))
        # at the constraint's setting: a graph of a space of one's own may not move to another batch afterwards
        graph = space.graph(arch, batch_size=constraint.batch_size, precision=constraint.precision)
        latency = (constraint.prune_if_infeasible if cfg.prune else constraint)(trial, graph)
        model = space.build(arch)  # built for the proxy alone: synflow may change it (no copy, as proxy_score makes)
        return (synflow(model, size) if cfg.proxy == "synflow" else proxy_score(cfg.proxy, model, size)), latency

    return objective


def open_storage(url: str | None) -> Any:
    """Optuna's RDB storage for ``url`` (None: in memory); a URL that cannot be opened is a one-line error."""
    if url is None:
        return None
    import optuna

    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # SQLAlchemy's OperationalError, a missing driver, a malformed URL ...
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = ("that the database file's folder exists and the file, if any, is an SQLite database, "
                 if url.startswith("sqlite") else
                 "that the database server is running and reachable, and for PostgreSQL the driver: pip install "
                 "'hwaware[postgres]', ")
        raise InvalidArgumentError(f"cannot open the study storage {_redacted(url)} ({reason}); check {where}"
                                   "and the URL") from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except Exception:  # unparsable: nothing to hide that the user did not just type
        return repr(url)


def _study(cfg: SearchConfig, worker: int = 0):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=cfg.seed + worker, n_startup_trials=min(10, max(cfg.trials // 4, 2)),
                                         **sampler_kwargs())
    return optuna.create_study(study_name=cfg.study_name, storage=open_storage(cfg.storage),
                               directions=["maximize", "minimize"], sampler=sampler, load_if_exists=True)


@contextmanager
def _stop_on(signum: int, study: Any) -> Iterator[list[int]]:
    """While optimizing ``study``: the first ``signum`` ends it after its running trial (stored, not left RUNNING in
    the storage); a second one interrupts that trial too (Optuna stores it FAIL; its log of the failure, a traceback,
    is silenced). Yields the signals received. Python runs handlers in the main thread only: elsewhere, no handler."""
    import optuna

    got: list[int] = []
    verbosity = optuna.logging.get_verbosity()

    def handler(sig: int, frame: Any) -> None:
        got.append(sig)
        if len(got) == 1:
            try:
                study.stop()  # a flag Optuna reads before each trial
                if sig == signal.SIGINT:  # the user's own Ctrl-C (a worker's SIGTERM is the parent's, which says so)
                    print("hwaware: stopping after the running trial; Ctrl-C again to stop it too", file=sys.stderr)
                return
            except RuntimeError:  # not inside study.optimize: nothing runs that could be left behind
                pass
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        yield got
        return
    try:
        yield got
    finally:
        signal.signal(signum, previous)
        optuna.logging.set_verbosity(verbosity)  # a library caller's own setting, after a second interrupt


def _optimize(cfg: SearchConfig, study: Any, n_trials: int, signum: int = signal.SIGINT) -> None:
    """``study.optimize``; ``signum`` (Ctrl-C's, or the parent's SIGTERM in a worker) stops it as :func:`_stop_on`
    says and then raises KeyboardInterrupt."""
    with torch_threads(cfg.torch_threads), _stop_on(signum, study) as got:
        study.optimize(make_objective(cfg), n_trials=n_trials)
    if got:
        raise KeyboardInterrupt


def _worker(cfg: SearchConfig, worker: int, n_trials: int) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the workers (each printed a traceback, one ran on)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _optimize(cfg, _study(cfg, worker), n_trials, signal.SIGTERM)
    except KeyboardInterrupt:  # stopped by the parent, which says so
        sys.exit(130)


def _same_search(cfg: SearchConfig, study: Any) -> None:
    """Record what ``study`` searches on its first run; a later run under its name (``load_if_exists``: a shared
    storage and the default name resume it) must search the same, or its report would mix two searches. A study
    started before this record is adopted when its finished trials' spaces, budgets, GPUs and estimators are this
    search's. Two searches that
    start on one empty study at the same moment both pass (the check is not atomic)."""
    from optuna.trial import TrialState

    c = cfg.constraint()
    platform, profile, estimator = resolve(cfg.gpu, precision=c.precision, runtime=c.runtime,
                                           batch_size=c.batch_size, estimator=cfg.estimator)  # None: the default's
    gpu = profile.name if profile else platform.device.name  # as _device_name says it
    what = {"space": cfg.space, "gpu": gpu, "budget_ms": c.budget_ms, "batch_size": c.batch_size,
            "precision": c.precision, "runtime": c.runtime, "proxy": cfg.proxy, "estimator": estimator,
            "bound": cfg.bound}
    before = study.user_attrs.get("hwaware_search")
    if before is None:  # a new study, or one a search before this record began (its trials say what they searched)
        seen = {(t.user_attrs.get("hwaware_arch", "").partition(":")[0], t.user_attrs.get("hwaware_budget_ms"),
                 t.user_attrs.get("hwaware_gpu"), str(t.user_attrs.get("hwaware_estimator", "")).partition(" ")[0],
                 t.user_attrs.get("hwaware_bound", "estimate"))
                for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
        mine = (cfg.space, c.budget_ms, platform.device.name, estimator, cfg.bound)
        if all(all(map(_same, t, mine)) for t in seen):
            study.set_user_attr("hwaware_search", what)
            return
        differ = "its trials searched " + "; ".join(f"{s} at a {b} ms budget on {g} ({e}, bound {d!r})" if s
                                                     else "no hwaware space" for s, b, g, e, d in sorted(seen, key=str))
    else:  # a record of an earlier version: estimator None was the platform's default, the bound the estimate, the
        # GPU as spelled
        before = {**before, "estimator": before.get("estimator") or estimator,
                  "bound": before.get("bound", "estimate"), "gpu": _device_name(before.get("gpu"))}
        differ = ", ".join(f"{k} {before.get(k)!r} (now {v!r})" for k, v in what.items()
                           if not _same(before.get(k), v))
    if differ:
        raise InvalidArgumentError(f"study {cfg.study_name!r} in {cfg.storage} is another search ({differ}); pass "
                                   "another study name (CLI: --study NAME) for a new one, or the same settings to "
                                   "resume it")


def _device_name(gpu: object) -> object:
    """What a search's ``gpu`` names, however spelled (helper-163: 'agx' and 'agx_xavier' were two searches): a
    profile's name, a catalog GPU's, or ``gpu`` itself where it resolves no more (a profile since deleted)."""
    try:
        platform, profile, _ = resolve(gpu)
    except HwawareError:
        return gpu
    return profile.name if profile else platform.device.name


def _same(a: object, b: object) -> bool:
    """One setting: equal, a budget within float noise (helper-163: a quantile's budget, read back from another
    prediction cache, differed in its 9th digit)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6)
    return a == b


def run_search(cfg: SearchConfig):
    """Run ``cfg.trials`` trials split over ``cfg.workers`` processes and return the study (a resumed study's
    trials and these: Optuna's ``n_trials`` counts the trials to run, not those stored).

    Each worker runs a fixed share of the trials, so the total is exact however the workers interleave."""
    study = _study(cfg)  # created once, before the workers race to
    _same_search(cfg, study)
    shares = [cfg.trials // cfg.workers + (w < cfg.trials % cfg.workers) for w in range(cfg.workers)]
    if cfg.workers == 1:  # in this process (an in-memory study cannot be shared)
        _optimize(cfg, study, cfg.trials)
        return study
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(cfg, w, n)) for w, n in enumerate(shares)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:  # each worker ends after its running trial; a second Ctrl-C interrupts those too
        print("hwaware: stopping each worker after its running trial; Ctrl-C again to stop them too", file=sys.stderr)
        for p in procs:
            p.terminate()
        try:
            for p in procs:
                p.join()
        except KeyboardInterrupt:
            for p in procs:
                p.terminate()
            for p in procs:
                p.join()
        raise
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"search worker exited with code {failed[0]}")
    return _study(cfg)


@dataclass
class SearchSummary:
    """``pareto``: the front's trials, each with its estimates' ``warnings`` per constraint key;
    ``violation_rate_predicted``: the share of all predicted candidates over the budget (over any budget their
    constraints recorded, the interval's high end with ``bound="high"``; the front is
    feasible by construction, so a rate over it could never be above 0); ``violation_rate_measured``:
    the share of the front's models over the budget when measured on this CPU."""

    trials: int
    complete: int
    pruned: int
    predicted: int
    infeasible: int
    pareto: list[dict[str, Any]] = field(default_factory=list)
    violation_rate_predicted: float = 0.0
    violation_rate_measured: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pareto_front(study: Any) -> list[Any]:
    """Feasible completed trials that no other feasible completed trial dominates (max proxy, min latency), the first
    trial of each architecture."""
    from optuna.trial import TrialState

    ok = [t for t in study.trials if t.state == TrialState.COMPLETE and is_feasible(t)]
    front = [t for t in ok if not any(o.values[0] >= t.values[0] and o.values[1] <= t.values[1] and o.values != t.values
                                      for o in ok)]
    first: dict[Any, Any] = {}  # one row per architecture: a sampler may propose one twice (helper-169)
    for t in sorted(front, key=lambda t: t.number):
        first.setdefault(t.user_attrs.get("hwaware_arch", t.number), t)
    return sorted(first.values(), key=lambda t: t.values[1])


def _judged_ms(trial: Any) -> float:
    """The ms a trial's (last) constraint held against its budget: the estimate, or its interval's high end with
    ``bound="high"`` (:class:`LatencyConstraint` records both terms); the estimate for a trial without one."""
    attrs = trial.user_attrs
    if "hwaware_constraint" in attrs:
        return attrs["hwaware_budget_ms"] + attrs["hwaware_constraint"]
    return attrs["hwaware_latency_ms"]


def _over_budget(trial: Any, budget_ms: float) -> bool:
    """Whether a predicted trial missed a budget: any constraint it recorded (:func:`is_feasible`), else its estimate
    against ``budget_ms``."""
    attrs = trial.user_attrs
    return not is_feasible(trial) if "hwaware_constraint" in attrs else attrs["hwaware_latency_ms"] > budget_ms


def summarize(study: Any, budget_ms: float, measure_on_cpu: bool = False, batch_size: int = 1) -> SearchSummary:
    """Pareto front and budget-violation rates (see :class:`SearchSummary`); measuring needs the platform
    to be this CPU, and uses one thread, as the CPU target's training data does, at the search's ``batch_size``."""
    from optuna.trial import TrialState

    front = pareto_front(study)
    rows = [{"number": t.number, "proxy": t.values[0], "predicted_ms": t.values[1],
             "interval_ms": t.user_attrs.get("hwaware_interval_ms"), "arch": t.user_attrs["hwaware_arch"],
             "warnings": t.user_attrs.get("hwaware_warnings")}  # None: a trial recorded before hwaware kept them
            for t in front]
    predicted = [t for t in study.trials if "hwaware_latency_ms" in t.user_attrs]
    s = SearchSummary(trials=len(study.trials), complete=sum(t.state == TrialState.COMPLETE for t in study.trials),
                      pruned=sum(t.state == TrialState.PRUNED for t in study.trials), predicted=len(predicted),
                      infeasible=sum(bool(_over_budget(t, budget_ms)) for t in predicted), pareto=rows)
    if predicted:
        s.violation_rate_predicted = s.infeasible / s.predicted
    if measure_on_cpu and rows:
        from hwaware.measure.timing import time_phases
        from hwaware.zoo.spaces import from_spec

        with torch_threads(1):
            for r in rows:
                space, arch = from_spec(r["arch"])
                model = space.build(arch).eval()
                t = time_phases(model, [torch.randn(batch_size, *space.input_size(arch))], torch.device("cpu"),
                                min_repeats=10, min_time_s=0.5)
                r["measured_ms"] = t.total_ms
        s.violation_rate_measured = sum(bool(r["measured_ms"] > budget_ms) for r in rows) / len(rows)
    return s


def plot_search(study: Any, budget_ms: float, path: str | os.PathLike, title: str = "", proxy: str = "synflow") -> Path:
    """:func:`search_figure` saved as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig = search_figure(study, budget_ms, title, proxy)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def search_figure(study: Any, budget_ms: float, title: str = "", proxy: str = "synflow") -> Any:
    """Predicted latency (the interval's high end where the trials were constrained with ``bound="high"``) vs
    ``proxy`` for every trial, the feasible region and the Pareto front (a matplotlib figure). The default title names
    the space, the GPU, the budget and the number of trials."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    fig, ax = plt.subplots(figsize=(7, 4.5))
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED and "hwaware_latency_ms" in t.user_attrs]
    feas = [t for t in done if is_feasible(t)]
    infeas = [t for t in done if not is_feasible(t)]
    front = pareto_front(study)
    ax.axvspan(0, budget_ms, color="tab:green", alpha=0.08, label=f"feasible (≤ {budget_ms:g} ms)")
    ax.axvline(budget_ms, color="tab:green", lw=1)
    if feas:
        ax.scatter([_judged_ms(t) for t in feas], [t.values[0] for t in feas], s=18, c="tab:blue", label="feasible")
    if infeas:
        ax.scatter([_judged_ms(t) for t in infeas], [t.values[0] for t in infeas], s=18, c="tab:red", marker="x",
                   label="over budget")
    if pruned:
        ax.scatter([_judged_ms(t) for t in pruned], [0] * len(pruned), s=14, c="tab:gray",
                   marker="|", label="pruned (over budget)", transform=ax.get_xaxis_transform())
    if front:
        drawn = sorted(front, key=_judged_ms)  # the front is on the estimate; drawn along the x axis
        ax.plot([_judged_ms(t) for t in drawn], [t.values[0] for t in drawn], "-o", c="black", ms=4,
                label="Pareto front")
    first = next((t.user_attrs for t in study.trials if "hwaware_bound" in t.user_attrs),
                 study.trials[0].user_attrs if study.trials else {})
    gpu = first.get("hwaware_gpu", "")
    space = first.get("hwaware_arch", "").partition(":")[0]
    what = "interval's high end" if first.get("hwaware_bound") == "high" else "predicted latency"
    ax.set_xlabel(f"{what} (ms) on {gpu}")
    ax.set_ylabel(f"accuracy proxy ({LABELS.get(proxy, proxy)})")
    ax.set_title(title or f"{space or 'search'} on {gpu}, budget {budget_ms:g} ms, {len(study.trials)} trials")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig

