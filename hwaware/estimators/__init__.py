"""Latency estimators: one protocol (:class:`Estimator`), a registry, and the shipped estimators."""
from hwaware.estimators.base import (
    Estimate,
    Estimator,
    LayerEstimate,
    default_estimator,
    get_estimator,
    list_estimators,
    register_estimator,
)
from hwaware.estimators.ipc_tree import IPCTreeEstimator
from hwaware.estimators.netregress import NetRegressEstimator
from hwaware.estimators.resperfnet import ResPerfNetEstimator
from hwaware.estimators.resperfnet_gpu import ResPerfNetGPUEstimator
from hwaware.estimators.roofline import RooflineEstimator

__all__ = ["Estimate", "Estimator", "IPCTreeEstimator", "LayerEstimate", "NetRegressEstimator", "ResPerfNetEstimator", "ResPerfNetGPUEstimator", "RooflineEstimator", "default_estimator", "get_estimator",
           "list_estimators", "register_estimator"]
