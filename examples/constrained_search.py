"""A latency-constrained search in a few lines: MobileNetV3 blocks under 2.5 ms on a Jetson AGX Xavier.

The accuracy stand-in is the synflow zero-cost proxy (computed on the CPU, no data, no training);
replace ``proxy_score`` with a few epochs of training for real use. Runs in about a minute on a CPU.

    python examples/constrained_search.py
"""
import optuna

from hwaware.search import LatencyConstraint, get_space
from hwaware.search.proxies import proxy_score
from hwaware.search.run import pareto_front, plot_search

space = get_space("mobilenetv3")
budget = LatencyConstraint(2.5, gpu="agx")  # ms, predicted for batch 1, fp32, PyTorch (roofline)


def objective(trial: optuna.Trial) -> tuple[float, float]:
    arch = space.sample(trial)
    trial.set_user_attr("hwaware_arch", space.spec(arch))  # a spec string rebuilds the model later
    model = space.build(arch)
    latency = budget(trial, model, input_size=space.input_size(arch))  # records it + sets the constraint
    return proxy_score("synflow", model, space.input_size(arch)), latency


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(objective, n_trials=40)

front = pareto_front(study)
print(f"{'proxy':>8} {'ms':>7}  architecture")
for t in front:
    print(f"{t.values[0]:8.2f} {t.values[1]:7.2f}  {t.user_attrs['hwaware_arch']}")
over = sum(t.values[1] > budget.budget_ms for t in front)
print(f"budget-violation rate of the chosen (Pareto) models, predicted: {over}/{len(front)}")
print("plot:", plot_search(study, budget.budget_ms, "results/example_search.png"))
