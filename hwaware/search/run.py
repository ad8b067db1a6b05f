"""A latency-constrained search: a model space, a latency budget on a platform, a CPU accuracy proxy,
Optuna's multi-objective TPE, and N worker processes sharing one study through RDB storage.

Objectives: maximise the proxy, minimise the predicted latency; constraint: latency <= budget.
With ``prune=True`` candidates over budget are pruned right after the prediction (before the proxy,
which stands in for training); the constraint is recorded first, so the sampler learns from them.
Workers share the study (SQLite on one machine, PostgreSQL for many) and hwaware's prediction cache.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from hwaware.search.constraint import LatencyConstraint, is_feasible
from hwaware.search.proxies import proxy_score
from hwaware.search.spaces import get_space


@dataclass(frozen=True)
class SearchConfig:
    space: str = "mobilenetv3"
    gpu: str = "agx"
    budget_ms: float = 10.0
    trials: int = 40
    proxy: str = "synflow"
    prune: bool = False
    storage: str | None = None  # None: in-memory, one worker only
    study_name: str = "hwaware-search"
    workers: int = 1
    seed: int = 0
    estimator: str | None = None
    torch_threads: int = 1


def make_objective(cfg: SearchConfig):
    space = get_space(cfg.space)
    constraint = LatencyConstraint(cfg.budget_ms, cfg.gpu, estimator=cfg.estimator)

    def objective(trial: Any) -> tuple[float, float]:
        arch = space.sample(trial)
        size = space.input_size(arch)
        trial.set_user_attr("hwaware_arch", space.spec(arch))
        with torch.device("meta"):  # the prediction needs shapes only
            shell = space.build(arch)
        if cfg.prune:
            latency = constraint.prune_if_infeasible(trial, shell, input_size=size)
        else:
            latency = constraint(trial, shell, input_size=size)
        return proxy_score(cfg.proxy, space.build(arch), size), latency

    return objective


def _study(cfg: SearchConfig, worker: int = 0):
    import optuna

    sampler = optuna.samplers.TPESampler(seed=cfg.seed + worker, n_startup_trials=min(10, max(cfg.trials // 4, 2)))
    return optuna.create_study(study_name=cfg.study_name, storage=cfg.storage, directions=["maximize", "minimize"],
                               sampler=sampler, load_if_exists=True)


def _optimize(cfg: SearchConfig, study: Any, n_trials: int) -> None:
    import optuna

    torch.set_num_threads(cfg.torch_threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(make_objective(cfg), n_trials=n_trials)


def _worker(cfg: SearchConfig, worker: int, n_trials: int) -> None:
    _optimize(cfg, _study(cfg, worker), n_trials)


def run_search(cfg: SearchConfig):
    """Run ``cfg.trials`` trials split over ``cfg.workers`` processes and return the study.

    Each worker runs a fixed share of the trials, so the total is exact however the workers interleave."""
    if cfg.workers < 1 or cfg.trials < 1:
        raise ValueError("workers and trials must be positive")
    if cfg.workers > 1 and not cfg.storage:
        raise ValueError("several workers need a shared storage: pass storage='sqlite:///study.db' or a PostgreSQL URL")
    study = _study(cfg)  # created once, before the workers race to
    shares = [cfg.trials // cfg.workers + (w < cfg.trials % cfg.workers) for w in range(cfg.workers)]
    if cfg.workers == 1:  # in this process (an in-memory study cannot be shared)
        _optimize(cfg, study, cfg.trials)
        return study
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(cfg, w, n)) for w, n in enumerate(shares)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"search worker exited with code {p.exitcode}")
    return _study(cfg)


@dataclass
class SearchSummary:
    trials: int
    complete: int
    pruned: int
    infeasible: int
    pareto: list[dict[str, Any]] = field(default_factory=list)
    violation_rate_predicted: float = 0.0
    violation_rate_measured: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pareto_front(study: Any) -> list[Any]:
    """Feasible completed trials that no other feasible completed trial dominates (max proxy, min latency)."""
    from optuna.trial import TrialState

    ok = [t for t in study.trials if t.state == TrialState.COMPLETE and is_feasible(t)]
    front = [t for t in ok if not any(o.values[0] >= t.values[0] and o.values[1] <= t.values[1] and o.values != t.values
                                      for o in ok)]
    return sorted(front, key=lambda t: t.values[1])


def summarize(study: Any, budget_ms: float, measure_on_cpu: bool = False) -> SearchSummary:
    """Pareto front and the budget-violation rate of the chosen (front) models: predicted, and, when
    ``measure_on_cpu`` (the platform is this CPU), measured."""
    from optuna.trial import TrialState

    front = pareto_front(study)
    rows = [{"number": t.number, "proxy": t.values[0], "predicted_ms": t.values[1], "arch": t.user_attrs["hwaware_arch"]}
            for t in front]
    s = SearchSummary(trials=len(study.trials), complete=sum(t.state == TrialState.COMPLETE for t in study.trials),
                      pruned=sum(t.state == TrialState.PRUNED for t in study.trials),
                      infeasible=sum(not is_feasible(t) for t in study.trials if "hwaware_constraint" in t.user_attrs),
                      pareto=rows)
    if rows:
        s.violation_rate_predicted = sum(r["predicted_ms"] > budget_ms for r in rows) / len(rows)
    if measure_on_cpu and rows:
        from hwaware.measure.timing import time_phases
        from hwaware.search.spaces import from_spec

        for r in rows:
            space, arch = from_spec(r["arch"])
            model = space.build(arch).eval()
            t = time_phases(model, [torch.randn(1, *space.input_size(arch))], torch.device("cpu"), min_repeats=10,
                            min_time_s=0.5)
            r["measured_ms"] = t.total_ms
        s.violation_rate_measured = sum(r["measured_ms"] > budget_ms for r in rows) / len(rows)
    return s


def plot_search(study: Any, budget_ms: float, path: str | os.PathLike, title: str = "") -> Path:
    """Predicted latency vs proxy for every trial, the feasible region and the Pareto front, as PNG."""
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
        ax.scatter([t.values[1] for t in feas], [t.values[0] for t in feas], s=18, c="tab:blue", label="feasible")
    if infeas:
        ax.scatter([t.values[1] for t in infeas], [t.values[0] for t in infeas], s=18, c="tab:red", marker="x",
                   label="over budget")
    if pruned:
        ax.scatter([t.user_attrs["hwaware_latency_ms"] for t in pruned], [0] * len(pruned), s=14, c="tab:gray",
                   marker="|", label="pruned (over budget)", transform=ax.get_xaxis_transform())
    if front:
        ax.plot([t.values[1] for t in front], [t.values[0] for t in front], "-o", c="black", ms=4, label="Pareto front")
    ax.set_xlabel(f"predicted latency (ms) on {study.trials[0].user_attrs.get('hwaware_gpu', '')}")
    ax.set_ylabel("accuracy proxy (log synflow)")
    ax.set_title(title or study.study_name)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out

