"""The search hook: Optuna latency constraints, model spaces, and multi-worker searches."""
from hwaware.search.constraint import LatencyConstraint, constraints_func, is_feasible, sampler_kwargs
from hwaware.zoo.spaces import ModelSpace, build_from_spec, from_spec, get_space, list_spaces, register_space

__all__ = ["LatencyConstraint", "ModelSpace", "build_from_spec", "constraints_func", "from_spec", "get_space",
           "is_feasible", "list_spaces", "register_space", "sampler_kwargs"]
