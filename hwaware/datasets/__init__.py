"""Loaders for the measured tables hwaware trains and validates on (one loader per table).

The tables live in the project's shared data folder (``shared/data`` beside the repository, see
its README for sources and licences); :func:`data_root` finds it.
"""
from hwaware.datasets.paths import data_root
from hwaware.datasets.timm_results import TimmBenchmarkRow, load_timm_benchmark, timm_benchmark_files

__all__ = ["data_root", "TimmBenchmarkRow", "load_timm_benchmark", "timm_benchmark_files"]
