"""Few-shot calibration profiles: the fit, the file, and every entry point that accepts a profile."""
from __future__ import annotations

import math

import numpy as np
import pytest

import hwaware
from hwaware.calibration import Profile, find_profile, fit_profile, save_profile
from hwaware.errors import InvalidArgumentError


def test_fit_recovers_scale_and_overhead():
    rng = np.random.default_rng(0)
    pred = rng.uniform(1, 30, 12)
    kernels = rng.integers(50, 400, 12)
    true = 1.3 * pred + 0.02 * kernels  # a device 30 % slower with 20 us more per kernel
    p = fit_profile("agx", pred, true, kernels, name="t")
    assert p.scale == pytest.approx(1.3, rel=0.05)
    assert p.overhead_ms_per_kernel == pytest.approx(0.02, rel=0.1)
    assert p.fit_mape < 0.01 and p.gpu == "Jetson AGX Xavier"


def test_leave_one_out_interval_narrow_on_exact_data_and_wider_with_an_outlier():
    """Ten exact points of T = 2 * pred + 0.01 ms per kernel: every leave-one-out fit lands near that line (the
    ridge pulls it slightly towards scale 1), so the residual range is within a few percent of 0; one point
    measured 20 % high must widen the range's top by at least 10 points."""
    rng = np.random.default_rng(1)
    pred, kernels = rng.uniform(1, 20, 10), rng.integers(40, 400, 10)
    true = 2 * pred + 0.01 * kernels
    lo, hi = fit_profile("agx", pred, true, kernels, name="t").log_residual_interval
    assert -0.05 < lo <= hi < 0.05
    true[3] *= 1.2
    lo2, hi2 = fit_profile("agx", pred, true, kernels, name="t").log_residual_interval
    assert hi2 > hi + 0.10


def test_ridge_keeps_two_samples_sane():
    p = fit_profile("agx", [10.0, 10.5], [20.0, 21.0], [100, 101], name="t")
    assert 0 < p.scale < 3  # two nearly collinear samples cannot give a wild per-kernel term
    assert abs(p.apply(10.0, 100) - 20.0) < 2.0


def test_bad_measurements_are_one_line_errors():
    with pytest.raises(InvalidArgumentError, match="at least 2"):
        fit_profile("agx", [1.0], [1.0], [10], name="t")
    with pytest.raises(InvalidArgumentError, match="positive"):
        fit_profile("agx", [1.0, 2.0], [1.0, -2.0], [10, 20], name="t")
    with pytest.raises(InvalidArgumentError, match="hwaware calibrate"):
        find_profile("/nonexistent/profile.json")


def test_profile_round_trip_and_api(tmp_path, monkeypatch):
    monkeypatch.setenv("HWAWARE_PROFILES", str(tmp_path))
    p = fit_profile("2080ti", [2.0, 4.0, 8.0], [3.0, 5.5, 10.0], [60, 60, 60], name="my-2080ti")
    path = save_profile(p)
    assert Profile.from_json(path.read_text()) == p
    graph = hwaware.capture("resnet18")
    base = hwaware.estimate(graph, gpu="2080ti", estimator="roofline")
    kernels = len(graph.kernels())
    for gpu in (str(path), "my-2080ti"):
        cal = hwaware.estimate(graph, gpu=gpu, estimator="roofline")
        assert cal.total_ms == pytest.approx(p.scale * base.total_ms + p.overhead_ms_per_kernel * kernels, rel=1e-9)
        lo, hi = p.log_residual_interval
        assert cal.interval_ms == pytest.approx((cal.total_ms * math.exp(lo), cal.total_ms * math.exp(hi)))
        assert "my-2080ti" in cal.notes[0]
    with pytest.raises(InvalidArgumentError, match="calibrated with precision='fp32'"):
        hwaware.estimate(graph, gpu="my-2080ti", precision="fp16", estimator="roofline")
