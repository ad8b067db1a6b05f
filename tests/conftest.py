from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

# Predictions made by the tests (and their worker processes) go to a throw-away cache, not ~/.cache; saved profiles
# likewise (a user's profile named "agx" would otherwise answer the tests' gpu="agx").
# The process that makes them removes them at exit (pytest-xdist's workers inherit the variables).
for _var, _prefix in (("HWAWARE_CACHE_DIR", "hwaware-test-cache-"), ("HWAWARE_PROFILES", "hwaware-test-profiles-")):
    if _var not in os.environ:
        os.environ[_var] = tempfile.mkdtemp(prefix=_prefix)
        atexit.register(shutil.rmtree, os.environ[_var], True)

from hwaware.datasets import data_root, load_timm_benchmark, timm_benchmark_files

# The table whose MAC/param figures the capture tests check against (fvcore counts by timm).
REFERENCE_TABLE = "benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


@pytest.fixture(scope="session")
def shared_data():
    """The shared measurement data; CI has it beside the checkout. Fails (never skips) when missing."""
    return data_root()


@pytest.fixture(scope="session")
def timm_reference(shared_data):
    """(model, img_size) -> published row of the reference timm table."""
    path = next(p for p in timm_benchmark_files(shared_data) if p.name == REFERENCE_TABLE)
    return {(r.model, r.img_size): r for r in load_timm_benchmark(path)}


@pytest.fixture(scope="session")
def repo_script():
    """``load(path)``: a benchmark or script of the repository (files, not a package) as a module."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def load(path: str):
        spec = importlib.util.spec_from_file_location(Path(path).stem, root / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def onnx_consistency(repo_script):
    """benchmarks/onnx_consistency.py: its ``as_trained`` and ``with_biases`` serve the tests as they do it."""
    return repo_script("benchmarks/onnx_consistency.py")


@pytest.fixture(scope="session")
def resnet18_onnx(tmp_path_factory, onnx_consistency):
    """torchvision's resnet18, looking trained (``as_trained``: an untrained network's folded biases are zero and the
    dynamo exporter drops them), and its export."""
    import torch
    import torchvision

    model = onnx_consistency.as_trained(torchvision.models.resnet18())
    path = tmp_path_factory.mktemp("onnx") / "resnet18.onnx"
    batch = torch.export.Dim("batch", min=1, max=64)
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), input_names=["x"],
                      dynamic_shapes={"x": {0: batch}})
    return model, path


@pytest.fixture(scope="session")
def onnx_to_module_ratio():
    """``ratio(onnx_path, module, gpu, input_size=(3, 224, 224))``: the TensorRT fp16 batch-1 estimate of an ONNX
    export over that of its module at ``input_size`` (one engine, so about 1)."""
    import hwaware

    def ratio(path, model, gpu: str, input_size: tuple[int, ...] = (3, 224, 224)) -> float:
        kw = dict(gpu=gpu, runtime="tensorrt", precision="fp16")
        return hwaware.latency(path, **kw) / hwaware.latency(model, input_size=input_size, **kw)

    return ratio


@pytest.fixture
def two_threads():
    """torch at two intra-op threads during the test, a caller's count that hwaware must leave as it found it; the
    count from before the test afterwards (tests must not leave other tests a count they did not choose)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)
