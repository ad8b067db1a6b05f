"""The search hook: both Optuna constraint APIs, pruning, model spaces, multi-worker studies (SQLite, PostgreSQL)."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import re
import sqlite3
import uuid
import warnings

import numpy as np
import optuna
import pytest
import torch
from optuna.trial import TrialState
from torch import nn

import hwaware
from hwaware.cli import main
from hwaware.errors import InvalidArgumentError, UnknownGPUError
from hwaware.estimators.cache import TABLE
from hwaware.graph import capture
from hwaware.search import (LatencyConstraint, constraints_func, from_spec, get_space, is_feasible, list_spaces,
                            sampler_kwargs)
from hwaware.zoo.spaces import ModelSpace, build_from_spec
from hwaware.search.proxies import proxy_score
from hwaware.search.run import (SearchConfig, _study, open_storage, pareto_front, plot_search, run_search,
                                search_figure, summarize)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _objective(space_name: str, constraint: LatencyConstraint, prune: bool = False):
    space = get_space(space_name)

    def objective(trial):
        arch = space.sample(trial)
        trial.set_user_attr("hwaware_arch", space.spec(arch))
        with torch.device("meta"):
            model = space.build(arch)
        size = space.input_size(arch)
        if prune:
            return constraint.prune_if_infeasible(trial, model, input_size=size)
        return constraint(trial, model, input_size=size)

    return objective


@pytest.mark.parametrize("name", list_spaces())
def test_space_round_trip(name):
    space = get_space(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    trial = study.ask()
    arch = space.sample(trial)
    spec = space.spec(arch)
    again_space, again = from_spec(spec)
    assert again_space.name == name and again == arch and again_space.spec(again) == spec
    with torch.device("meta"):
        g1 = capture(space.build(arch), input_size=space.input_size(arch))
        g2 = capture(again_space.build(again), input_size=space.input_size(arch))
    assert g1.macs == g2.macs and g1.total_params == g2.total_params and g1.macs > 0


@pytest.mark.parametrize("name,timm_name", [("efficientnet", "efficientnet_b0"), ("resnet", "resnet50"),
                                            ("mobilenetv3", None)])
def test_timm_space_defaults_are_timm_models(name, timm_name):
    space = get_space(name)
    arch = space.default()
    with torch.device("meta"):
        g = capture(space.build(arch), input_size=space.input_size(arch))
    if timm_name:
        ref = capture(timm_name)
        assert (g.macs, g.total_params) == (ref.macs, ref.total_params)
    kwargs = space.timm_kwargs(arch)
    assert "block_args" in kwargs or "layers" in kwargs


def test_optuna5_constraint_api_records_everything():
    from hwaware.estimators.base import default_estimator
    from hwaware.hardware import Platform

    c = LatencyConstraint.at_quantile("nb201", 0.5, gpu="agx")  # the default estimator's median: it splits the space
    b = c.budget_ms
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=4))
    study.optimize(_objective("nb201", c), n_trials=8)
    for t in study.trials:
        assert t.constraints == {"latency": pytest.approx(t.user_attrs["hwaware_latency_ms"] - b)}
        assert t.user_attrs["hwaware_gpu"] == "Jetson AGX Xavier"
        assert t.user_attrs["hwaware_estimator"].split()[0] == default_estimator(Platform.resolve("agx"))
        assert t.user_attrs["hwaware_exe_ms"] > 0 and sum(t.user_attrs["hwaware_ms_by_kind"].values()) == pytest.approx(
            t.user_attrs["hwaware_exe_ms"])
        assert t.user_attrs["hwaware_predict_s"] > 0
    feasible = [t for t in study.trials if t.values[0] <= b]
    infeasible = [t for t in study.trials if t.values[0] > b]
    assert feasible and infeasible  # the budget splits this space


def test_old_constraints_func_api():
    c = LatencyConstraint(2.0, gpu="agx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in Optuna 5, still supported
        sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=4, constraints_func=constraints_func)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_objective("nb201", c), n_trials=6)
    for t in study.trials:
        assert constraints_func(t) == [pytest.approx(t.user_attrs["hwaware_latency_ms"] - 2.0)]


def test_sampler_kwargs_give_what_the_installed_optuna_reads(monkeypatch):
    """The CLI's sampler and the example pass these: nothing where trials set constraints (Optuna >= 5); on an Optuna
    whose trials cannot, ``constraints_func`` (without it TPE ignored the budget there, unwarned)."""
    assert sampler_kwargs() == ({} if hasattr(optuna.trial.Trial, "set_constraint") else
                                {"constraints_func": constraints_func})
    if hasattr(optuna.trial.Trial, "set_constraint"):
        for cls in optuna.trial.Trial.__mro__:  # the base trial declares it too
            if "set_constraint" in vars(cls):
                monkeypatch.delattr(cls, "set_constraint")
        assert sampler_kwargs() == {"constraints_func": constraints_func}
        # and the CLI's study passes it to its sampler (review helper-95: nothing tested the wiring)
        study = _study(SearchConfig(space="nb201", gpu="agx", budget_ms=1.0, trials=4, proxy="params"))
        assert study.sampler._constraints_func is constraints_func


class _TrialWithoutSetConstraint:
    """What an Optuna < 5 trial offers: user attributes only."""

    def __init__(self):
        self.user_attrs = {}

    def set_user_attr(self, key, value):
        self.user_attrs[key] = value


def test_callback_works_on_trials_without_set_constraint():
    trial = _TrialWithoutSetConstraint()
    ms = LatencyConstraint(5.0, gpu="agx")(trial, "resnet18")
    assert constraints_func(trial) == [pytest.approx(ms - 5.0)]


def test_a_constraint_once_per_trial_and_key():
    """A second call in one trial overwrote the recorded latency while Optuna kept the first constraint value, so the
    two disagreed (review helper-109); another key (a second GPU) is its own constraint."""
    study = optuna.create_study()
    trial = study.ask()
    agx, orin = LatencyConstraint(5.0, gpu="agx"), LatencyConstraint(5.0, gpu="orin", key="orin")
    agx(trial, "resnet18")
    with pytest.raises(InvalidArgumentError, match="this trial already has the constraint 'latency': constrain one"):
        agx(trial, "resnet50")
    orin(trial, "resnet18")
    assert trial.user_attrs["hwaware_constraint_keys"] == ["latency", "orin"]


def test_constraints_func_reads_every_key_and_a_finished_trial_is_refused():
    """helper-115: constraints_func read only the last call's value, so a trial over the first key's budget counted as
    feasible on Optuna < 5; a FrozenTrial (study.trials[0]) took the call and stored nothing."""
    trial = _TrialWithoutSetConstraint()
    tight = LatencyConstraint(0.01, gpu="agx")(trial, "resnet18") - 0.01  # violated
    loose = LatencyConstraint(1e4, gpu="orin", key="orin")(trial, "resnet18") - 1e4  # met, and the last call
    assert constraints_func(trial) == [pytest.approx(max(tight, loose))] and tight > 0
    assert not is_feasible(trial)
    study = optuna.create_study()
    study.optimize(lambda t: 1.0, n_trials=1)
    with pytest.raises(InvalidArgumentError, match="a trial already in a study .* keeps no new attributes"):
        LatencyConstraint(5.0, gpu="agx")(study.trials[0], "resnet18")
    # one made to seed a study (review helper-116: refused too) keeps what it is given until add_trial
    seed = optuna.trial.create_trial(params={}, distributions={}, value=1.0)
    ms = LatencyConstraint(5.0, gpu="agx")(seed, "resnet18")
    study.add_trial(seed)
    assert study.trials[-1].user_attrs["hwaware_latency_ms"] == ms
    with pytest.raises(InvalidArgumentError, match="space: a space name"):
        LatencyConstraint.at_quantile(None, 0.5, gpu="agx")


def test_a_bound_on_the_interval_s_high_end():
    """bound='high' constrains the estimate's interval high end: a budget between a candidate's estimate and that end
    is met by the estimate and missed by the bound (feasible with the one, pruned with the other); every trial
    records the interval; an estimator without intervals is refused in one line, and so is an unknown bound."""
    space = get_space("nb201")
    arch = space.default()
    with torch.device("meta"):
        model = space.build(arch)
    est = LatencyConstraint(1.0, gpu="agx").estimate(model, input_size=space.input_size(arch))
    lo, hi = est.interval_ms
    budget = (est.total_ms + hi) / 2
    for bound, feasible in (("estimate", True), ("high", False)):
        c = LatencyConstraint(budget, gpu="agx", bound=bound)
        trial = optuna.create_study().ask()
        assert c(trial, model, input_size=space.input_size(arch)) == est.total_ms  # the answer, whatever the bound
        assert trial.user_attrs["hwaware_interval_ms"] == [lo, hi] and trial.user_attrs["hwaware_bound"] == bound
        assert is_feasible(trial) is feasible
        assert constraints_func(trial) == [pytest.approx((est.total_ms if feasible else hi) - budget)]
        trial = optuna.create_study().ask()
        if feasible:
            c.prune_if_infeasible(trial, model, input_size=space.input_size(arch))
        else:
            with pytest.raises(optuna.TrialPruned, match="interval's high end"):
                c.prune_if_infeasible(trial, model, input_size=space.input_size(arch))
    # refused before any trial (Optuna would log a traceback per trial): estimators without intervals
    for gpu, estimator in (("agx", "roofline"), ("cpu", None)):
        with pytest.raises(InvalidArgumentError, match=r"bound='high' \(CLI: --bound high\) needs a prediction "
                                                       r"interval"):
            LatencyConstraint(budget, gpu=gpu, estimator=estimator, bound="high")
    with pytest.raises(InvalidArgumentError, match="bound must be one of 'estimate', 'high'"):
        LatencyConstraint(budget, gpu="agx", bound="upper")


def test_the_bound_s_budget_summary_and_figure():
    """at_quantile takes the quantile of what the bound holds against the budget (the high ends: with the
    estimates' median, 2 of 40 NB201 architectures fitted by their high end, helper-119), and the search summary,
    front and figure judge trials as their constraint did."""
    space = get_space("nb201")
    high = LatencyConstraint.at_quantile(space, 0.5, gpu="agx", samples=6, bound="high")
    point = LatencyConstraint.at_quantile(space, 0.5, gpu="agx", samples=6)
    rng = random.Random(0)
    ends = []
    for _ in range(6):
        arch = space.random_arch(rng)
        ends.append(point.estimate(space.shell(arch), input_size=space.input_size(arch)).interval_ms[1])
    assert high.bound == "high" and high.budget_ms == pytest.approx(float(np.quantile(ends, 0.5)))
    assert high.budget_ms > point.budget_ms
    # a study judged on the high end at the estimates' median budget: every trial's figure is its high end
    c = LatencyConstraint(point.budget_ms, gpu="agx", bound="high")
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(lambda t: (0.0, _objective("nb201", c)(t)), n_trials=6)
    judged = [t.user_attrs["hwaware_interval_ms"][1] for t in study.trials]
    s = summarize(study, point.budget_ms)
    assert s.infeasible == sum(ms > point.budget_ms for ms in judged)
    assert s.infeasible == sum(not is_feasible(t) for t in study.trials) > 0
    assert all(t.user_attrs["hwaware_interval_ms"][1] <= point.budget_ms for t in pareto_front(study))
    ax = search_figure(study, point.budget_ms).axes[0]
    assert ax.get_xlabel().startswith("interval's high end (ms)")
    xs = sorted(x for coll in ax.collections for x, _ in coll.get_offsets())
    assert xs == pytest.approx(sorted(judged))


def test_pruned_infeasible_trials_still_teach_the_sampler():
    from optuna.samplers._tpe.sampler import _get_infeasible_trial_score

    c = LatencyConstraint(0.5, gpu="nano")  # nothing fits: every trial is pruned after its prediction
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(_objective("fbnet", c, prune=True), n_trials=5)
    assert all(t.state == TrialState.PRUNED for t in study.trials)
    assert all(_get_infeasible_trial_score(t) > 0 for t in study.trials)  # TPE puts them in its "bad" group


def test_a_trial_keeps_the_warnings_of_every_constraint_key():
    """helper-141: the warnings attribute was the last key's, so a second, unwarned GPU's constraint hid the first's
    warnings (the Nano in fp16 warns on NB201 estimates, the RTX 3090 in fp32 does not); kept per key (helper-142),
    so which platform warned stays known."""
    import optuna

    space = get_space("nb201")
    nano = LatencyConstraint(1e3, gpu="nano", precision="fp16", key="nano")
    desk = LatencyConstraint(1e3, gpu="rtx3090", key="desk")
    for order in ((nano, desk), (desk, nano)):
        trial = optuna.trial.create_trial(state=optuna.trial.TrialState.RUNNING)
        arch = space.random_arch(random.Random(0))
        for c in order:
            c(trial, space.build(arch), input_size=space.input_size(arch))
        expected = {c.key: list(c.estimate(space.build(arch), input_size=space.input_size(arch)).warnings)
                    for c in order}
        assert expected["nano"] and not expected["desk"] and trial.user_attrs["hwaware_warnings"] == expected


def test_multi_objective_search_summary_and_plot(tmp_path):
    budget = LatencyConstraint.at_quantile("nb201", 0.5, gpu="agx").budget_ms
    cfg = SearchConfig(space="nb201", gpu="agx", budget_ms=budget, trials=12, proxy="params", seed=0)
    study = run_search(cfg)
    front = pareto_front(study)
    assert front and all(t.values[1] <= budget for t in front)
    for a in front:  # nothing on the front is dominated
        assert not any(b.values[0] >= a.values[0] and b.values[1] <= a.values[1] and b.values != a.values for b in front)
    s = summarize(study, budget)
    predicted = [t.user_attrs["hwaware_latency_ms"] for t in study.trials]
    over = sum(ms > budget for ms in predicted)
    assert s.trials == s.predicted == 12 and len(s.pareto) == len(front)
    # the rate is over every candidate (the front alone is feasible by construction) and the median budget binds
    assert s.infeasible == over and s.violation_rate_predicted == over / 12 and 0 < over < 12
    ax = search_figure(study, budget, proxy="params").axes[0]
    assert ax.get_ylabel() == "accuracy proxy (log parameter count)"
    assert ax.get_title() == f"nb201 on Jetson AGX Xavier, budget {budget:g} ms, 12 trials"
    png = plot_search(study, budget, tmp_path / "s.png")
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    # an architecture proposed again is one row of the front, its first trial's (helper-169: twice)
    t = front[0]
    study.add_trial(optuna.trial.create_trial(params=t.params, distributions=t.distributions, values=t.values,
                                              user_attrs=t.user_attrs, system_attrs=t.system_attrs))
    assert [t.number for t in pareto_front(study)] == [t.number for t in front]


@pytest.mark.parametrize("name", ["fbnet", "mobilenetv3"])
def test_budget_at_quantile_binds_and_is_the_quantile_of_predictions(name):
    space = get_space(name)
    c = LatencyConstraint.at_quantile(space, 0.5, gpu="agx", samples=8, seed=1)
    rng = random.Random(1)  # the same draws, predicted independently here
    archs = [space.random_arch(rng) for _ in range(8)]
    ms = [hwaware.latency(space.shell(a), "agx", input_size=space.input_size(a)) for a in archs]
    assert c.budget_ms == pytest.approx(float(np.quantile(ms, 0.5)))
    fresh = random.Random(99)  # other architectures of the space fall on both sides of it
    others = [space.random_arch(fresh) for _ in range(8)]
    over = [hwaware.latency(space.shell(a), "agx", input_size=space.input_size(a)) > c.budget_ms for a in others]
    assert any(over) and not all(over)


def test_a_numpy_number_is_a_budget_and_a_bool_is_not():
    """A search space's NumPy numbers are budgets as they are batch sizes; True (an int to Python) is not 1 ms."""
    assert LatencyConstraint(np.int64(5)).budget_ms == 5.0 and LatencyConstraint(np.float32(2.5)).budget_ms == 2.5
    for flag in (True, np.True_):
        with pytest.raises(InvalidArgumentError, match="budget_ms"):
            LatencyConstraint(flag)


def test_a_key_is_a_name_and_a_gpu_spec_reads_as_its_name():
    """key=None or "" was stored as the constraint 'None' or ''; a GPUSpec put its whole repr (1,935 characters) into
    the pruning message (review helper-93)."""
    for key in (None, ""):
        with pytest.raises(InvalidArgumentError, match="key must be a non-empty name"):
            LatencyConstraint(5.0, key=key)
    c = LatencyConstraint(1e-3, gpu=hwaware.get_gpu("agx"))
    with pytest.raises(optuna.TrialPruned, match=r"budget 0.00 ms on Jetson AGX Xavier$"):
        c.prune_if_infeasible(optuna.create_study().ask(), "resnet18")


def test_numpy_sample_counts_are_counts():
    assert LatencyConstraint.at_quantile("nb201", 0.5, gpu="agx", samples=np.int64(2)).budget_ms > 0


def test_bad_quantiles_are_refused():
    for q in (0, 1.5, float("nan"), "0.5", None):  # a string was a TypeError traceback
        with pytest.raises(InvalidArgumentError, match="quantile"):
            LatencyConstraint.at_quantile("nb201", q)


def test_misuse_fails_at_construction_or_call_in_one_line():
    """An estimator that cannot predict the platform fails when the constraint is made, not inside the first trial
    (Optuna logged a traceback); a call without a trial names the fix (it was an AttributeError)."""
    with pytest.raises(InvalidArgumentError, match="does not predict Tesla T4"):
        LatencyConstraint(5.0, gpu="t4", estimator="resperfnet")
    c = LatencyConstraint(5.0, gpu="t4", estimator="roofline")
    with pytest.raises(InvalidArgumentError, match="expected an Optuna trial, got NoneType: call the constraint as"):
        c(None, "resnet18")
    with pytest.raises(InvalidArgumentError, match="expected an Optuna trial, got NoneType: call constraints_func"):
        constraints_func(None)
    # it advised calling the constraint (helper-130)
    with pytest.raises(InvalidArgumentError, match="expected an Optuna trial, got str: call is_feasible"):
        is_feasible("x")


class _Probe(nn.Module):
    """Records what the proxy ran it with (in the class: synflow runs a copy)."""
    seen: dict = {}

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        type(self).seen.clear()

    def forward(self, x):
        type(self).seen.update(shape=tuple(x.shape), threads=torch.get_num_threads())
        return self.conv(x)


def test_proxy_sees_the_full_resolution_with_one_thread(two_threads):
    for name in ("synflow", "params"):
        probe = _Probe()
        proxy_score(name, probe, (3, 256, 256))
        assert torch.get_num_threads() == 2  # the caller's count is restored
    probe = _Probe()
    proxy_score("synflow", probe, (3, 256, 192))
    assert probe.seen == {"shape": (1, 3, 256, 192), "threads": 1}


def test_synflow_ranks_resolution():
    space = get_space("mobilenetv3")
    scores = []
    for r in (160, 256):
        torch.manual_seed(0)
        arch = {**space.default(), "resolution": r}
        scores.append(proxy_score("synflow", space.build(arch), space.input_size(arch)))
    assert scores[1] > scores[0]  # same network and weights: only the input size differs


def test_measured_violation_rate_on_this_cpu():
    study = run_search(SearchConfig(space="nb201", gpu="cpu", budget_ms=1e3, trials=6, proxy="params", seed=3))
    budget = sorted(t.values[1] for t in study.trials)[3]  # a budget that splits these six candidates
    s = summarize(study, budget, measure_on_cpu=True)
    assert s.pareto and all(r["measured_ms"] > 0 for r in s.pareto)
    assert s.violation_rate_measured == sum(r["measured_ms"] > budget for r in s.pareto) / len(s.pareto)
    json.dumps(s.as_dict())


def test_a_summary_over_numpy_latencies_is_json():
    """The CPU estimator's totals were numpy floats on a cold cache, so the count over them was a numpy int that
    summary.json could not hold (the first `hwaware search --gpu cpu --measure` died after printing its front). Both
    ends are checked: an Estimate holds plain floats, and a summary of numpy-valued trials is JSON (review
    helper-95: through the cache, the search test alone passed on the old code)."""
    est = hwaware.estimate("resnet18", gpu="agx", estimator="roofline")
    again = dataclasses.replace(est, total_ms=np.float64(2.0), interval_ms=(np.float64(1.0), np.float32(3.0)))
    assert type(again.total_ms) is float and all(type(v) is float for v in again.interval_ms)
    study = optuna.create_study(directions=["maximize", "minimize"])
    for ms in (1.0, 3.0):
        trial = study.ask()
        trial.set_user_attr("hwaware_latency_ms", np.float64(ms))
        trial.set_user_attr("hwaware_arch", "nb201:{}")
        study.tell(trial, [1.0, ms])
    s = summarize(study, 2.0)
    assert s.infeasible == 1 and type(s.infeasible) is int
    json.dumps(s.as_dict())


def _check_workers(storage: str, study_name: str, trials: int, workers: int) -> None:
    # the CPU target uses ResPerfNet, whose per-layer predictions go through the shared on-disk cache
    cfg = SearchConfig(space="nb201", gpu="cpu", budget_ms=6.0, trials=trials, proxy="params", storage=storage,
                       study_name=study_name, workers=workers, seed=0)
    study = run_search(cfg)
    numbers = sorted(t.number for t in study.trials)
    assert numbers == list(range(trials))  # none lost, none duplicated
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    cache = os.path.join(os.environ["HWAWARE_CACHE_DIR"], "predictions.sqlite")
    with sqlite3.connect(cache) as conn:  # the prediction cache the workers shared is intact
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] > 0


def test_workers_share_a_sqlite_study(tmp_path):
    _check_workers(f"sqlite:///{tmp_path / 'study.db'}", "sqlite-workers", trials=8, workers=2)


def test_workers_share_a_postgresql_study():
    url = os.environ.get("HWAWARE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide HWAWARE_TEST_POSTGRES_URL (.ci/run starts PostgreSQL)")
        pytest.skip("no PostgreSQL server (set HWAWARE_TEST_POSTGRES_URL; .ci/run starts one)")
    name = f"pg-workers-{uuid.uuid4().hex}"  # a server outlives runs: a PID can come again, a failed run's study stays
    try:
        _check_workers(url, name, trials=9, workers=3)
    finally:
        with contextlib.suppress(KeyError):  # a run that failed before creating it left no study
            optuna.delete_study(study_name=name, storage=url)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"workers": 2}, InvalidArgumentError, "shared storage"),
    ({"trials": 0}, InvalidArgumentError, "trials must be a positive integer"),
    ({"budget_ms": -1.0}, InvalidArgumentError, "budget_ms"),
    ({"budget_ms": True}, InvalidArgumentError, "budget_ms"),  # a bool is not 1 ms
    ({"gpu": "agxx"}, UnknownGPUError, "did you mean 'agx'"),
    ({"proxy": "accuracy"}, InvalidArgumentError, "proxy must be one of"),
    ({"space": "nosuch"}, hwaware.HwawareError, "no model space"),
    ({"batch_size": 0}, InvalidArgumentError, "batch_size must be a positive integer"),
    ({"precision": "int8"}, InvalidArgumentError, "int8"),
])
def test_bad_configurations_fail_on_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        SearchConfig(**kwargs)


def test_cli_search_predicts_on_the_requested_batch_precision_and_runtime(tmp_path):
    """The search had batch 1, fp32, PyTorch only: a TensorRT fp16 Jetson target could not be searched for."""
    out = tmp_path / "s"
    assert main(["search", "--space", "nb201", "--gpu", "agx", "--budget", "100", "--trials", "2", "--proxy", "params",
                 "--batch", "4", "--precision", "fp16", "--runtime", "tensorrt", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {k: summary["config"][k] for k in ("batch_size", "precision", "runtime")} == \
           {"batch_size": 4, "precision": "fp16", "runtime": "tensorrt"}
    assert summary["pareto"]
    for row in summary["pareto"]:
        space, arch = from_spec(row["arch"])
        assert row["predicted_ms"] == pytest.approx(hwaware.latency(
            space.shell(arch), "agx", input_size=space.input_size(arch), batch_size=4, precision="fp16",
            runtime="tensorrt"), rel=1e-9)


def test_an_unreachable_storage_is_one_clear_error_without_the_password():
    with pytest.raises(InvalidArgumentError, match="cannot open the study storage") as exc:
        open_storage("postgresql+psycopg2://user:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(exc.value) and "\n" not in str(exc.value)


def test_a_prediction_runs_the_estimator_with_one_thread(monkeypatch, two_threads):
    """A constraint's estimate and a batched prediction (latency_many, space tables) run the estimator on one torch
    thread and give the caller its count back (before f0aed06 the batched one ran at the caller's count)."""
    from hwaware.estimators.base import get_estimator

    est, seen = get_estimator("roofline"), []
    original = est.predict
    monkeypatch.setattr(est, "predict", lambda g, p: seen.append(torch.get_num_threads()) or original(g, p))
    LatencyConstraint(1.0, gpu="agx", estimator="roofline").estimate("resnet18")
    hwaware.latency_many(["resnet18"], gpu="agx", estimator="roofline", progress=False)  # predict_many calls predict
    assert seen == [1, 1] and torch.get_num_threads() == 2


def test_a_stored_study_resumes_only_the_same_search(tmp_path):
    """Two searches under the default study name in one storage: the second (another space and budget) joined the
    first's study and reported its front under the other settings. Resuming the same search still works."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = SearchConfig(space="nb201", gpu="cpu", budget_ms=6.0, trials=2, proxy="params", storage=storage)
    run_search(first)
    assert len(run_search(first).trials) == 4  # the same settings resume it
    for change, said in (({"space": "fbnet"}, "space 'nb201' (now 'fbnet')"),
                         ({"budget_ms": 5.0}, "budget_ms 6.0 (now 5.0)")):
        with pytest.raises(InvalidArgumentError, match=re.escape(f"study 'hwaware-search' in {storage} is another "
                                                                 f"search ({said}); pass another study name")):
            run_search(dataclasses.replace(first, **change))
    assert len(run_search(dataclasses.replace(first, space="fbnet", study_name="other")).trials) == 2
    optuna.create_study(study_name="foreign", storage=storage).add_trial(
        optuna.trial.create_trial(values=[1.0], distributions={}, params={}))
    with pytest.raises(InvalidArgumentError, match=r"is another search \(its trials searched no hwaware space\)"):
        run_search(dataclasses.replace(first, study_name="foreign"))
    # a study a search made before studies recorded what they search: adopted when its trials match, else refused
    legacy = dataclasses.replace(first, study_name="legacy")
    run_search(legacy)
    optuna.load_study(study_name="legacy", storage=storage).set_user_attr("hwaware_search", None)
    assert len(run_search(legacy).trials) == 4
    optuna.load_study(study_name="legacy", storage=storage).set_user_attr("hwaware_search", None)
    with pytest.raises(InvalidArgumentError, match=r"its trials searched nb201 at a 6.0 ms budget on cpu-epyc-1t "
                                                   r"\(resperfnet, bound 'estimate'\)\)"):
        run_search(dataclasses.replace(legacy, budget_ms=5.0))
    optuna.load_study(study_name="legacy", storage=storage).set_user_attr("hwaware_search", None)
    with pytest.raises(InvalidArgumentError, match=r"its trials searched nb201 .* on cpu-epyc-1t"):  # another GPU
        run_search(dataclasses.replace(legacy, gpu="agx"))
    assert len(run_search(legacy).trials) == 6  # adopted again
    # a record written before estimators were recorded by name: None was the platform's default
    study = optuna.load_study(study_name="legacy", storage=storage)
    study.set_user_attr("hwaware_search", {**study.user_attrs["hwaware_search"], "estimator": None})
    assert len(run_search(legacy).trials) == 8
    from hwaware.estimators.base import default_estimator
    from hwaware.hardware import Platform

    named = dataclasses.replace(first, estimator=default_estimator(Platform.resolve("cpu")))
    assert len(run_search(named).trials) == 6  # the default estimator by name is the same search


def test_a_search_bound_on_the_interval_is_its_own_search(tmp_path):
    """SearchConfig(bound='high') (CLI --bound high) constrains the interval's high end; a stored study resumes only
    under its own bound, and a record written before the bound was recorded is the estimate's."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    high = SearchConfig(space="nb201", gpu="agx", budget_ms=20.0, trials=2, proxy="params", storage=storage,
                        bound="high")
    study = run_search(high)
    assert {t.user_attrs["hwaware_bound"] for t in study.trials} == {"high"}
    assert study.user_attrs["hwaware_search"]["bound"] == "high"
    with pytest.raises(InvalidArgumentError, match=re.escape("bound 'high' (now 'estimate')")):
        run_search(dataclasses.replace(high, bound="estimate"))
    assert len(run_search(high).trials) == 4
    point = dataclasses.replace(high, bound="estimate", study_name="older")
    run_search(point)
    older = optuna.load_study(study_name="older", storage=storage)
    older.set_user_attr("hwaware_search", {k: v for k, v in older.user_attrs["hwaware_search"].items() if k != "bound"})
    assert len(run_search(point).trials) == 4
    with pytest.raises(InvalidArgumentError, match=r"bound='high' \(CLI: --bound high\) needs a prediction interval"):
        SearchConfig(space="nb201", gpu="cpu", bound="high")
    # a study a search made before studies recorded what they search: its trials' bound decides, as their space does
    optuna.load_study(study_name="hwaware-search", storage=storage).set_user_attr("hwaware_search", None)
    with pytest.raises(InvalidArgumentError, match=r"its trials searched nb201 .*bound 'high'"):
        run_search(dataclasses.replace(high, bound="estimate"))
    assert len(run_search(high).trials) == 6


def test_a_summary_counts_every_constraint_of_a_trial():
    """Two constraints on one trial, the first on the interval's high end and the second on the estimate, with a budget
    between them: the trial is infeasible (is_feasible reads every key), and the summary counts it so (it read the last
    constraint's record alone: helper-120)."""
    space = get_space("nb201")
    arch = space.default()
    shell, size = space.shell(arch), space.input_size(arch)
    est = LatencyConstraint(1.0, gpu="agx").estimate(shell, input_size=size)
    budget = (est.total_ms + est.interval_ms[1]) / 2
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    trial.set_user_attr("hwaware_arch", space.spec(arch))
    LatencyConstraint(budget, gpu="agx", bound="high", key="hi")(trial, shell, input_size=size)
    latency = LatencyConstraint(budget, gpu="agx", key="pt")(trial, shell, input_size=size)
    study.tell(trial, [1.0, latency])
    assert not is_feasible(study.trials[0]) and summarize(study, budget).infeasible == 1


def test_an_architecture_spec_is_a_model_everywhere(capsys):
    """A search records architectures as specs ('nb201:{...}'): hwaware latency refused them as 'not a timm name', so a
    space-latency row or a Pareto row could not be predicted again (review helper-109)."""
    from hwaware.search.table import space_table

    rows = space_table("nb201", "agx", limit=2, progress=False)
    assert [hwaware.latency(r.spec, gpu="agx") for r in rows] == [r.ms for r in rows]
    fbnet = get_space("fbnet")
    arch = fbnet.random_arch(random.Random(0))
    c = LatencyConstraint(5.0, gpu="2080ti")
    assert hwaware.latency(fbnet.spec(arch), gpu="2080ti") == c.estimate(fbnet.shell(arch),
                                                                         input_size=fbnet.input_size(arch)).total_ms
    assert main(["latency", rows[0].spec, "--gpu", "agx", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_ms"] == rows[0].ms
    with pytest.raises(InvalidArgumentError, match=r"not an architecture of the nb201 space: arch must have"):
        hwaware.latency('nb201:{"x": 1}')
    with pytest.raises(InvalidArgumentError, match="malformed architecture JSON"):
        hwaware.latency("nb201:{bad")


@pytest.mark.parametrize("field,value,match", [
    ("block", "x", r"block must be one of \['basic', 'bottleneck'\]"), ("block", None, "must be str, got None"),
    ("width", -1.0, r"arch\['width'\] must be above 0"), ("width", 0, "must be above 0"),
    ("width", None, r"must be a number, got None"), ("deep_stem", "x", "must be bool"),
    ("layers", [], "must be a list of 4"), ("layers", [3, 4, 6, 0], "must be above 0"),
    ("extra", 1, "must have the fields")])
def test_an_architecture_unlike_its_spaces_is_one_line_not_a_guess(field, value, match):
    """helper-115: a ResNet block of 'x' built a bottleneck network, a width of 0 or None the default answer, five
    MobileNetV3 stages zipped with none, a negative width a RuntimeError from torch, an int NB201 cell an AttributeError
    (the CLI printed those tracebacks); every space's architecture is checked against its default's fields."""
    arch = {**get_space("resnet").default(), field: value}
    with pytest.raises(InvalidArgumentError, match=f"not an architecture of the resnet space: .*{match}"):
        hwaware.latency(get_space("resnet").spec(arch))


@pytest.mark.parametrize("space", ["nb201", "fbnet", "ofa_mbv3", "resnet", "mobilenetv3", "efficientnet"])
def test_input_size_and_spec_refuse_an_architecture_as_build_does(space):
    """helper-122: ``input_size({})`` was a KeyError ('resolution', 'dataset') and ``input_size(None)`` a TypeError,
    ``spec(None)`` wrote 'nb201:null', where ``build`` gives the one-line refusal."""
    s = get_space(space)
    for arch in ({}, None):
        for call in (s.input_size, s.spec, s.build):
            with pytest.raises(InvalidArgumentError, match=f"not an architecture of the {space} space"):
                call(arch)
    assert s.input_size(s.default())[0] == 3


def test_a_space_whose_default_fails_its_own_check_refuses_in_one_line():
    """Review helper-123: the refusal's example went through spec, which checks, so a space whose default broke its
    own CHOICES recursed without end once spec checked."""

    class Odd(ModelSpace):
        name, CHECKED, CHOICES = "odd", True, {"k": (3, 5)}

        def sample(self, trial):
            return self.default()

        def default(self):
            return {"k": 7, "resolution": 32}

        def _build(self, arch):
            return nn.Identity()

    with pytest.raises(InvalidArgumentError, match=r"k must be one of \[3, 5\], got 9.*odd:\{\"k\":7"):
        Odd().spec({"k": 9, "resolution": 32})


def test_the_other_spaces_check_their_architectures_and_a_users_space_is_its_own():
    """The check holds this package's spaces to their defaults; numpy numbers, which a search's own sampling makes,
    pass (review helper-116: refused); a space of one's own is not held to its default (its lists may vary, its
    numbers be 0)."""
    with pytest.raises(InvalidArgumentError, match="must be str, got 5"):
        hwaware.latency('nb201:{"arch": 5, "dataset": "cifar10"}')
    with pytest.raises(InvalidArgumentError, match="must be a list of 5"):
        get_space("mobilenetv3").build({**get_space("mobilenetv3").default(), "stages": []})
    fbnet = get_space("fbnet")
    fbnet.check({"ops": [0] * 22})  # op 0 is an op, not a number that must be above 0
    with pytest.raises(InvalidArgumentError, match="ops must be one of"):
        fbnet.check({"ops": [9] * 22})
    for spec in (None, 5):
        with pytest.raises(InvalidArgumentError, match="a spec is"):
            build_from_spec(spec)
    rng = np.random.default_rng(0)
    fbnet.shell({"ops": list(rng.integers(0, 9, 22))})
    ofa = get_space("ofa_mbv3")
    ofa.shell({**ofa.default(), "resolution": np.int64(160)})
    for field, value in (("resolution", 31), ("resolution", 226), ("ks", [4] * 20), ("d", [5] * 5)):
        spec = "ofa_mbv3:" + json.dumps({**ofa.default(), field: value})  # as a hand-written spec (spec() checks too)
        with pytest.raises(InvalidArgumentError, match=f"{field} must be one of"):  # helper-136: 31 was answered
            hwaware.latency(spec)

    class Mine(ModelSpace):  # a space of a user's own
        name = "mine"

        def sample(self, trial):
            return {"hidden": [trial.suggest_int("h", 8, 32)], "dropout": 0.0}

        def default(self):
            return {"hidden": [32, 32], "dropout": 0.0}

        def _build(self, arch):
            return nn.Sequential(*(nn.Linear(8, h) for h in arch["hidden"][:1]))

    assert Mine().build({"hidden": [16], "dropout": 0.0}) is not None


def test_a_users_space_may_draw_floats_without_a_study():
    """LatencyConstraint.at_quantile on a space whose sample() calls trial.suggest_float raised AttributeError:
    '_RandomTrial' object has no attribute 'suggest_float' (helper-130). Floats are drawn (uniform, log, stepped), in
    range; a trial method no draw offers is one line that says which ones it has."""
    from hwaware.errors import InvalidArgumentError
    from hwaware.search.constraint import LatencyConstraint

    class Widths(ModelSpace):
        name = "widths-test"

        def sample(self, trial):
            return {"width": trial.suggest_float("width", 0.5, 2.0), "lr": trial.suggest_float("lr", 1e-4, 1e-1,
                                                                                               log=True),
                    "drop": trial.suggest_float("drop", 0.0, 0.5, step=0.1), "depth": trial.suggest_int("d", 1, 8,
                                                                                                      log=True)}

        def default(self):
            return {"width": 1.0, "lr": 0.01, "drop": 0.1, "depth": 2}

        def _input_size(self, arch):
            return (3, 32, 32)

        def _build(self, arch):
            w = max(1, round(16 * arch["width"]))
            return nn.Sequential(nn.Conv2d(3, w, 3), *(nn.Conv2d(w, w, 3, padding=1) for _ in range(arch["depth"])))

    rng = random.Random(0)
    archs = [Widths().random_arch(rng) for _ in range(200)]
    assert all(0.5 <= a["width"] <= 2.0 and 1e-4 <= a["lr"] <= 1e-1 and 1 <= a["depth"] <= 8 for a in archs)
    assert {round(a["drop"], 6) for a in archs} == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}
    assert sum(a["lr"] < 1e-3 for a in archs) > 40  # log-uniform: a third of the draws below 1e-3
    assert LatencyConstraint.at_quantile(Widths(), 0.5, gpu="agx", samples=5).budget_ms > 0

    class Odd(Widths):
        def sample(self, trial):
            return {"width": trial.suggest_discrete_uniform("w", 0.5, 2.0, 0.5)}

    with pytest.raises(InvalidArgumentError, match="trial.suggest_discrete_uniform, which drawing without a study"):
        Odd().random_arch(rng)
    # the grid's top is cut to the last step inside, as Optuna's; log and step together are refused (helper-132)
    from hwaware.zoo.spaces import _RandomTrial

    trial = _RandomTrial(random.Random(0))
    assert {round(trial.suggest_float("d", 0.0, 0.5, step=0.3), 6) for _ in range(100)} == {0.0, 0.3}
    with pytest.raises(InvalidArgumentError, match="on a log scale or in steps, not both"):
        trial.suggest_int("n", 1, 8, step=2, log=True)
    assert not hasattr(trial, "report")  # a probe, not an error

    class Sizeless(Widths):
        _input_size = ModelSpace._input_size

    with pytest.raises(InvalidArgumentError, match="no 'resolution' field, so the input size is unknown"):
        LatencyConstraint.at_quantile(Sizeless(), 0.5, gpu="agx", samples=2)


def test_every_space_checks_its_own_samples_as_architectures():
    for name in list_spaces():
        space, rng = get_space(name), random.Random(0)
        for _ in range(50):
            space.check(space.random_arch(rng))  # raises on a sample unlike the default


def test_space_latency_writes_to_standard_output(tmp_path, capsys, monkeypatch):
    """--out - wrote a file named '-' (review helper-109): the CSV goes to standard output, the summary to stderr."""
    import csv
    import io

    monkeypatch.chdir(tmp_path)
    assert main(["space-latency", "nb201", "--gpu", "agx", "--limit", "2", "--out", "-"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["ms"]) for r in rows] == [hwaware.latency(f"nb201:{r['arch']}", gpu="agx") for r in rows]
    assert "2 architectures of nb201 on agx -> -" in err and not (tmp_path / "-").exists()


def test_a_constraint_says_its_budget_and_platform_when_printed():
    """print(LatencyConstraint.at_quantile(...)) showed an object address, not the budget it chose (helper-128)."""
    c = LatencyConstraint(12.5, gpu="agx", precision="fp16")
    assert repr(c) == ("LatencyConstraint(12.5 ms, gpu='agx', batch_size=1, precision='fp16', runtime='pytorch', "
                       "estimator=None, key='latency', bound='estimate')")


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups: POSIX")
@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_stops_every_search_worker_in_one_line(tmp_path, workers):
    """Ctrl-C reaches the whole process group: each spawned worker printed a traceback, one ran on with its share and
    the parent waited for it (helper-129). The workers ignore it now; the parent stops them and says one line. The
    trials running then were left RUNNING in the storage by the workers, and stored FAIL with Optuna's traceback
    printed by a single process: each now ends after its running trial, stored as it finished, and says so first."""
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "s.db"
    p = subprocess.Popen([sys.executable, "-m", "hwaware", "search", "--space", "nb201", "--gpu", "agx", "--budget",
                          "5", "--trials", "20000", "--workers", str(workers), "--storage", f"sqlite:///{db}",
                          "--proxy", "params", "--out", str(tmp_path / "out")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal's job
    def stored() -> int:  # trials the workers have begun
        import sqlite3

        try:
            with sqlite3.connect(db) as c:
                return c.execute("select count(*) from trials").fetchone()[0]
        except sqlite3.Error:
            return 0

    deadline = time.time() + 120
    while time.time() < deadline and stored() < 6:
        time.sleep(0.5)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=60)
    stopping = ("hwaware: stopping after the running trial; Ctrl-C again to stop it too" if workers == 1 else
                "hwaware: stopping each worker after its running trial; Ctrl-C again to stop them too")
    assert p.returncode == 130 and [line for line in err.splitlines() if line] == [stopping, (
        "hwaware: interrupted; the trials finished so far are kept in the --storage: run again with the same --storage "
        "and --study to go on")]
    import sqlite3

    with sqlite3.connect(db) as c:
        states = dict(c.execute("select state, count(*) from trials group by state").fetchall())
    assert set(states) <= {"COMPLETE", "PRUNED"} and sum(states.values()) >= 6, states


def test_a_second_interrupt_stops_the_running_trial_quietly():
    """The second Ctrl-C (a worker's second SIGTERM) interrupts the running trial, which Optuna stores FAIL, with its
    failure log silenced, and the caller's Optuna verbosity comes back after (helper-132: that path had no test; a
    subprocess pressing twice races the process's own exit)."""
    import signal

    import optuna

    from hwaware.search.run import _stop_on

    study, calls = optuna.create_study(), []
    optuna.logging.set_verbosity(optuna.logging.INFO)

    def objective(trial):
        calls.append(trial.number)
        os.kill(os.getpid(), signal.SIGUSR1)  # the first: stop after this trial
        if trial.number == 1:
            os.kill(os.getpid(), signal.SIGUSR1)  # never reached: the study stopped after trial 0
        return 1.0

    with _stop_on(signal.SIGUSR1, study) as got:
        study.optimize(objective, n_trials=5)
    assert got == [signal.SIGUSR1] and calls == [0] and study.trials[0].state.name == "COMPLETE"

    def twice(trial):
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)  # the second: this trial stops now
        return 1.0

    study = optuna.create_study()
    with pytest.raises(KeyboardInterrupt), _stop_on(signal.SIGUSR1, study):
        study.optimize(twice, n_trials=5)
    assert [t.state.name for t in study.trials] == ["FAIL"]
    assert optuna.logging.get_verbosity() == optuna.logging.INFO
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_a_search_of_ones_own_space_with_attention_runs_at_a_batch(monkeypatch):
    """The objective predicts each candidate's graph at the constraint's batch and precision: a graph captured at
    batch 1 cannot move to batch 4 where attention's views do not lead with the batch (helper-157: every trial of such
    a space failed after the objective first predicted batch-1 graphs)."""
    import torch.nn.functional as F

    from hwaware.search.run import make_objective
    from hwaware.zoo import spaces

    class Attention(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, 10)

        def forward(self, x):  # (batch, tokens, d), four heads
            q, k, v = self.qkv(x).view(x.shape[0], x.shape[1], 3, 4, -1).permute(2, 0, 3, 1, 4)
            return self.out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(x.shape).mean(1))

    class Tokens(ModelSpace):
        name = "tokens-test"

        def sample(self, trial):
            return {"d": trial.suggest_categorical("d", (32, 64))}

        def default(self):
            return {"d": 32}

        def _input_size(self, arch):
            return (16, arch["d"])

        def _build(self, arch):
            return Attention(arch["d"])

    monkeypatch.setitem(spaces._SPACES, Tokens.name, Tokens)
    cfg = SearchConfig(space=Tokens.name, gpu="2080ti", budget_ms=1e3, batch_size=4, precision="fp16", proxy="params")
    trial = optuna.create_study(directions=["maximize", "minimize"]).ask()
    _, ms = make_objective(cfg)(trial)
    arch = {"d": trial.params["d"]}
    assert ms == hwaware.latency(Tokens().shell(arch), gpu="2080ti", batch_size=4, precision="fp16",
                                 input_size=(16, arch["d"]))


def test_a_stored_study_resumes_under_another_spelling_of_its_gpu_and_a_budget_within_float_noise(tmp_path):
    """helper-163: a study started with --gpu agx was another search under --gpu agx_xavier, and one whose quantile
    budget came back from another prediction cache differed in its 9th digit; a record of the GPU as spelled (before
    2026-12-07) resumes under its other spellings too."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = SearchConfig(space="nb201", gpu="agx", budget_ms=6.0, trials=1, proxy="params", storage=storage)
    run_search(first)
    for again in (dataclasses.replace(first, gpu="AGX-Xavier"), dataclasses.replace(first, gpu="jetson_agx_xavier"),
                  dataclasses.replace(first, budget_ms=6.0 * (1 + 1e-9))):
        run_search(again)
    with pytest.raises(InvalidArgumentError, match=re.escape("budget_ms 6.0 (now 6.001)")):
        run_search(dataclasses.replace(first, budget_ms=6.001))
    study = optuna.load_study(study_name="hwaware-search", storage=storage)
    study.set_user_attr("hwaware_search", {**study.user_attrs["hwaware_search"], "gpu": "agx"})  # as recorded before
    assert len(run_search(dataclasses.replace(first, gpu="xavier")).trials) == 5
    with pytest.raises(InvalidArgumentError, match=re.escape("gpu 'Jetson AGX Xavier' (now 'Jetson AGX Orin 64GB')")):
        run_search(dataclasses.replace(first, gpu="orin"))


def test_seeds_are_numpys_or_refused_in_one_line():
    """helper-163: --seed -1 and 2**32 ended in NumPy's traceback, the last seed with --workers 2 in one per worker,
    and a NumPy integer seed in Python's random's TypeError."""
    for seed, workers in ((-1, 1), (2 ** 32, 1), (2 ** 32 - 1, 2), (1.5, 1), (True, 1)):
        with pytest.raises(InvalidArgumentError, match="^seed must be an integer from 0 to 2\\*\\*32 - 1"):
            SearchConfig(space="nb201", gpu="agx", budget_ms=6.0, seed=seed, workers=workers,
                         storage="sqlite:///:memory:")
    assert SearchConfig(space="nb201", gpu="agx", budget_ms=6.0, seed=np.int64(2 ** 32 - 1)).seed == 2 ** 32 - 1
    nb201 = get_space("nb201")
    assert nb201.random_specs(3, seed=np.int64(4)) == nb201.random_specs(3, seed=4)
    assert LatencyConstraint.at_quantile("nb201", 0.5, "agx", samples=2, seed=np.uint32(1)).budget_ms == \
        LatencyConstraint.at_quantile("nb201", 0.5, "agx", samples=2, seed=1).budget_ms
    assert main(["search", "--space", "nb201", "--gpu", "agx", "--budget", "5", "--trials", "1", "--seed", "-1"]) == 2


def test_a_spec_holds_numpy_numbers_as_json_does_python_ones():
    """helper-163: an architecture drawn with NumPy (np.int64 op indices) passed its check, then failed in
    json.dumps."""
    for name, arch in (("fbnet", {"ops": list(np.random.default_rng(0).integers(0, 9, 22))}),
                       ("resnet", {"block": "basic", "layers": list(np.array([1, 2, 2, 1])), "width": np.float64(0.5),
                                   "deep_stem": False, "resolution": np.int64(160)})):
        space = get_space(name)
        again = from_spec(space.spec(arch))[1]
        assert again == arch and all(type(v) in (int, float, str, bool, list) for v in again.values())
    from hwaware.zoo.spaces import _plain  # a space of one's own, unchecked, may hold NumPy's bools too

    assert [_plain(v) for v in (np.bool_(True), np.float32(0.5), np.uint8(3))] == [True, 0.5, 3]


def test_proxy_score_leaves_the_model_as_it_was_and_reads_sizes_as_the_api_does():
    """helper-163: synflow made the caller's weights float64 and positive (the next forward failed on a float input);
    an input size of 32 or '3x32x32' was a TypeError, a meta shell a device error."""
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    model(torch.randn(1, 3, 32, 32))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scores = {proxy_score("synflow", model, size) for size in (32, "3x32x32", (3, 32, 32))}
    assert len(scores) == 1 and model.training and model(torch.randn(2, 3, 32, 32)).dtype == torch.float32
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with torch.device("meta"):
        shell = nn.Sequential(nn.Conv2d(3, 8, 3))
    with pytest.raises(InvalidArgumentError, match="weights are on the meta device"):
        proxy_score("synflow", shell, 32)
    with pytest.raises(InvalidArgumentError, match="give its size"):
        proxy_score("synflow", model, None)


def test_a_graph_answered_at_another_batch_or_precision_says_so():
    """helper-163: a graph captured at batch 8 in fp16 was answered at batch 1 in fp32 without a word (only
    capture's docstring said graphs move)."""
    nb201 = get_space("nb201")
    graph = nb201.graph(nb201.default(), batch_size=8, precision="fp16")
    moved = [n for n in hwaware.estimate(graph, gpu="t4").notes if "the graph was captured at batch" in n]
    assert moved == ["the graph was captured at batch 8, fp16, and moved to batch 1, fp32, as asked "
                     "(batch_size=, precision=; CLI: --batch, --precision)"]
    kept = hwaware.estimate(graph, gpu="t4", batch_size=8, precision="fp16")
    assert not [n for n in kept.notes if "the graph was captured at batch" in n]
    # the moved, noted graph is remembered (as at_batch's is): a fresh one per call re-derived the batch checks' own
    # moved graphs on every warm call (benchmarks/prediction_speed.py's "resnet50 captured, warm, agx, fp16, 8")
    from hwaware.api import _graph

    assert _graph(graph, 1, None, "fp32", "meta") is _graph(graph, 1, None, "fp32", "meta")


def test_torch_threads_leaves_the_processs_count_however_blocks_interleave_across_threads():
    """helper-163: after a study of n_jobs threads the count was 1. torch keeps it per thread, and a thread's first use
    takes the process's last set one: a block that entered while another ran took 1 as its count to restore, restored
    it last, and threads started afterwards (a later study's) ran on 1."""
    import threading

    from hwaware.threads import torch_threads

    def together(*works):
        threads = [threading.Thread(target=w) for w in works]
        [t.start() for t in threads]
        [t.join(10) for t in threads]

    def in_a_new_thread(work):
        out: list[int] = []
        together(lambda: out.append(work()))
        return out[0]

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

        def first():
            with torch_threads(1):
                first_in.set()
                second_in.wait(10)
            first_out.set()

        def second():
            first_in.wait(10)
            with torch_threads(1):
                second_in.set()
                first_out.wait(10)  # leaves last

        together(first, second)
        assert in_a_new_thread(torch.get_num_threads) == 3
        # the other order (helper-166): a thread enters and leaves while another is inside (its own count then 1),
        # and enters again alone; a pool's threads are reused across trials
        inside, left, done = threading.Event(), threading.Event(), threading.Event()

        def long():
            with torch_threads(1):
                inside.set()
                left.wait(10)
            done.set()

        def reused():
            inside.wait(10)
            with torch_threads(1):
                pass
            left.set()
            done.wait(10)
            with torch_threads(1):
                pass

        together(long, reused)
        assert in_a_new_thread(torch.get_num_threads) == 3
        from hwaware import threads as counted

        with pytest.raises(RuntimeError):  # a count torch refuses leaves nothing counted (helper-166: never restored)
            with torch_threads(0):
                pass
        assert counted._depth == [0]
        with torch_threads(2):  # nested in one thread, as a search's estimates are: the outer count comes back
            with torch_threads(1):
                pass
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_a_second_thread_never_sees_the_gpu_model_half_loaded(monkeypatch):
    """helper-163: Optuna's n_jobs threads raced in the GPU estimator's first load, and one read weights_id_ before
    it was set (an AttributeError); the loaded state is published last."""
    import hashlib
    import threading
    import time

    from hwaware.estimators import resperfnet_gpu
    from hwaware.estimators.resperfnet_gpu import ResPerfNetGPUEstimator

    real, loading = hashlib.blake2b, threading.Event()

    def slow(data=b"", **kw):  # a slow disk under the weights' digest, while the second thread starts
        if len(data) > 100_000:
            loading.set()
            time.sleep(0.5)
        return real(data, **kw)

    monkeypatch.setattr(resperfnet_gpu.hashlib, "blake2b", slow)
    est = ResPerfNetGPUEstimator(cache=False)
    graph = capture("resnet18")
    platform = hwaware.Platform.resolve("agx")
    out: list[object] = []

    def predict():
        try:
            out.append(est.predict(graph, platform).total_ms)
        except Exception as exc:  # noqa: BLE001 - what the race raised
            out.append(exc)

    first, second = threading.Thread(target=predict), threading.Thread(target=predict)
    first.start()
    loading.wait(60)  # the first is inside the load (helper-166: a fixed sleep could miss it on a slow machine)
    second.start()
    first.join(60)
    second.join(60)
    assert len(out) == 2 and all(isinstance(v, float) for v in out) and out[0] == out[1], out


def test_spaces_refuse_what_their_builders_cannot_build_in_one_line():
    """helper-163: a ResNet width under 1/64 built 0-channel convolutions (said as a forward failing on the meta
    device, with --trace-device cpu, which specs ignore); a space of one's own whose builder torch refused (a negative
    width) raised RuntimeError; a sample() that records a user attribute failed without a study; a space's name in
    another case or cut short suggested nothing."""
    with pytest.raises(InvalidArgumentError, match=r"width 0.001 leaves the first stage .* 0 channels"):
        hwaware.latency('resnet:{"block":"basic","layers":[1,1,1,1],"width":0.001,"deep_stem":false,'
                        '"resolution":160}', gpu="agx")

    class Mine(ModelSpace):
        name = "mine-review"

        def sample(self, trial):
            trial.set_user_attr("drawn", True)
            return {"width": trial.suggest_int("width", -16, -1), "resolution": 32}

        def default(self):
            return {"width": 8, "resolution": 32}

        def _build(self, arch):
            return nn.Conv2d(3, arch["width"], 3)

    with pytest.raises(InvalidArgumentError, match=r"not an architecture of the mine-review space: its builder "
                                                   r"failed \(.*negative"):
        Mine().build(Mine().random_arch(random.Random(0)))
    assert get_space("NB201").name == "nb201"
    # and a search records the registered name (helper-166: a study started as 'NB201' was another search as 'nb201')
    assert SearchConfig(space="NB201", gpu="agx", budget_ms=6.0).space == "nb201"
    with pytest.raises(hwaware.HwawareError, match=r"no model space 'ofa'; did you mean 'ofa_mbv3'\? available"):
        get_space("ofa")
