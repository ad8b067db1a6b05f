"""A latency-constrained search in a few lines: MobileNetV3 blocks under a budget on a Jetson AGX Xavier.

The budget is derived, not typed in: the median predicted latency of 20 random architectures of the
space, so it binds (about half of the candidates are over it) whatever the estimator's scale. The accuracy
stand-in is the synflow zero-cost proxy, computed on the CPU at each candidate's own resolution (no data,
no training); replace ``proxy_score`` with a few epochs of training for real use. Runs in well under a
minute on one CPU core (`scripts/example_under_contention.py` checks it beside busy processes).

    python examples/constrained_search.py
"""
import optuna

from hwaware.search import LatencyConstraint, get_space, sampler_kwargs
from hwaware.search.proxies import proxy_score
from hwaware.search.run import plot_search, summarize

space = get_space("mobilenetv3")
budget = LatencyConstraint.at_quantile(space, 0.5, gpu="agx")  # median predicted ms: batch 1, fp32, PyTorch
print(f"budget {budget.budget_ms:.2f} ms: the median predicted latency of 20 random {space.name} architectures")


def objective(trial: optuna.Trial) -> tuple[float, float]:
    arch = space.sample(trial)
    trial.set_user_attr("hwaware_arch", space.spec(arch))  # a spec string rebuilds the model later
    size = space.input_size(arch)
    latency = budget(trial, space.shell(arch), input_size=size)  # shapes only; records it, sets the constraint
    return proxy_score("synflow", space.build(arch), size), latency


optuna.logging.set_verbosity(optuna.logging.WARNING)
sampler = optuna.samplers.TPESampler(seed=0, **sampler_kwargs())  # constrained on Optuna 4 too (constraints_func)
study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
study.optimize(objective, n_trials=40)

summary = summarize(study, budget.budget_ms)
print(f"{summary.infeasible}/{summary.predicted} candidates predicted over the budget "
      f"({summary.violation_rate_predicted:.0%}); the Pareto front within it:")
print(f"{'proxy':>8} {'ms':>7}  architecture")
for row in summary.pareto:
    print(f"{row['proxy']:8.2f} {row['predicted_ms']:7.2f}  {row['arch']}")
print("plot:", plot_search(study, budget.budget_ms, "results/example_search.png", proxy="synflow"))
