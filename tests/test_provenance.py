"""What trained models and results files record of how they were made (hwaware.evaluation.provenance)."""
from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import torch

from hwaware.evaluation.provenance import ROOT, cpu_model, provenance


def test_provenance_names_the_commit_libraries_threads_and_cpu():
    prov = provenance()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert prov["code_commit"] == head
    assert prov["versions"]["torch"] == torch.__version__
    assert prov["threads"]["torch"] == torch.get_num_threads()
    # the same code and data trained other weights on another CPU (provenance's docstring): the CPU is part of a run
    assert prov["cpu"] == {"model": cpu_model(), "machine": platform.machine(),
                           "torch_capability": torch.backends.cpu.get_cpu_capability()}
    # what differs from the commit decides whether train_gpu's fold cache saves a fit: it must be git's own list
    diff = subprocess.run(["git", "diff", "--name-only", "--no-renames", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout
    assert prov["uncommitted_files"] == sorted(diff.split())
    # every committed graph store is hashed (an empty dict from a wrong folder would pass a type check)
    stores = subprocess.run(["git", "ls-files", "data/gpu/graphs/*.json.gz"], cwd=ROOT, capture_output=True,
                            text=True).stdout.split()
    assert stores and sorted(prov["graph_stores_sha256"]) == sorted(Path(f).name for f in stores)
    json.dumps(prov)  # it is written to meta.json


def test_cpu_model_reads_cpuinfo_else_the_platform(tmp_path, monkeypatch):
    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n")
    assert cpu_model(x86) == "AMD EPYC 7B13"
    arm = tmp_path / "arm"  # arm64 Linux names no model
    arm.write_text("processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n")
    monkeypatch.setattr(platform, "processor", lambda: "sentinel-cpu")  # "" on x86 Linux: a fallback must show
    assert cpu_model(arm) == cpu_model(tmp_path / "missing") == "sentinel-cpu"


def test_weights_bytes_are_the_file_save_net_writes(tmp_path):
    """The seeds stage names each seed's weights by the sha256 of weights_bytes: the shipped weights, loaded and
    serialised again, are their file byte for byte, and save_net writes those bytes."""
    from hwaware.estimators.resperfnet_gpu import ResPerfNetGPUEstimator, load_net, save_net, weights_bytes

    folder = ResPerfNetGPUEstimator()._folder()
    net, meta = load_net(folder)
    shipped = (folder / "weights.safetensors").read_bytes()
    assert weights_bytes(net) == shipped  # bytes, not their hashes: equal bytes are what the hash then names
    save_net(net, tmp_path, meta)
    assert (tmp_path / "weights.safetensors").read_bytes() == shipped
    # meta.json records the weights' sha256 and the estimator version they were trained for (helper-117: the shipped
    # one named neither); saved again, the shipped meta is its file byte for byte
    import hashlib

    assert meta["weights_sha256"] == hashlib.sha256(shipped).hexdigest()
    assert meta["estimator_version"] == ResPerfNetGPUEstimator.version.split(".")[0]
    assert (tmp_path / "meta.json").read_text() == (folder / "meta.json").read_text()
    save_net(net, tmp_path, {**meta, "weights_sha256": "stale", "estimator_version": "0"})
    assert json.loads((tmp_path / "meta.json").read_text())["weights_sha256"] == meta["weights_sha256"]
