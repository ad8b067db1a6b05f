import json
import subprocess
import sys

import pytest

from hwaware.cli import main


def test_latency_table_and_json(capsys):
    assert main(["latency", "resnet18", "--gpu", "agx", "--by-layer", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "resnet18 on Jetson AGX Xavier" in out and out.count("conv") >= 3
    assert main(["latency", "resnet18", "--gpu", "v100", "--batch", "2", "--input", "3x160x160", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["platform"] == {"device": "Tesla V100 SXM2 16/32GB", "runtime": "pytorch", "precision": "fp32", "batch_size": 2}
    assert d["layers"][0]["input_shapes"] == [[2, 3, 160, 160]]


def test_gpus_and_features_and_estimators(capsys):
    assert main(["gpus"]) == 0
    assert "Jetson AGX Xavier" in capsys.readouterr().out
    assert main(["features", "resnet18", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == 11689512
    assert main(["estimators"]) == 0
    assert "roofline" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["latency", "resnet18", "--gpu", "agxx"], "did you mean 'agx'"),
    (["latency", "resnet18", "--input", "3x22a"], "malformed input size"),
    (["latency", "resnet18", "--batch", "0"], "positive integer"),
    (["latency", "missing.onnx"], "does not exist"),
    (["features", "not_a_model_name"], "neither a timm model name"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwaware: error:") and message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--help"], ["latency", "--help"], ["gpus", "--help"], ["features", "--help"]])
def test_help_everywhere(args):
    r = subprocess.run([sys.executable, "-m", "hwaware.cli", *args], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: hwaware" in r.stdout
