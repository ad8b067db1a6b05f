"""ONNX input: the same graph semantics as the PyTorch capture, and clear errors."""
import onnx
import pytest
import torch
import torchvision

from hwaware.errors import ModelNotFoundError, ONNXLoadError
from hwaware.graph import LayerKind, capture


@pytest.fixture(scope="module")
def resnet18_onnx(tmp_path_factory):
    model = torchvision.models.resnet18().eval()
    path = tmp_path_factory.mktemp("onnx") / "resnet18.onnx"
    batch = torch.export.Dim("batch", min=1, max=64)
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), input_names=["x"],
                      dynamic_shapes={"x": {0: batch}})
    return model, path


def test_onnx_matches_the_pytorch_capture(resnet18_onnx):
    model, path = resnet18_onnx
    g = capture(path)
    t = capture(model, input_size=(3, 224, 224))
    assert g.source == "onnx" and not g.unknown_ops
    assert g.macs == t.macs  # same convs and fc, same shapes
    assert [l.attrs for l in g.layers if l.kind is LayerKind.CONV] == [l.attrs for l in t.layers if l.kind is LayerKind.CONV]
    # the exporter folds batch norm into the convs; the folded biases of an untrained net are zero and
    # the exporter drops them, so exactly the BN scale+shift parameters (2 x 4,800) disappear
    bn = sum(l.params for l in t.layers if l.kind is LayerKind.NORM)
    assert bn == 9600 and g.total_params == t.total_params - bn
    assert {l.kind for l in g.layers} == {l.kind for l in t.layers} - {LayerKind.NORM}


def test_dynamic_batch_is_bound_and_protos_are_accepted(resnet18_onnx):
    _, path = resnet18_onnx
    proto = onnx.load(str(path))
    g4 = capture(proto, batch_size=4)
    assert g4.input_shape == (4, 3, 224, 224)
    assert g4.macs == 4 * capture(path).macs
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # caller's proto untouched


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        capture(tmp_path / "absent.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not protobuf \x00\xff")
    with pytest.raises(ONNXLoadError, match="not a valid ONNX model"):
        capture(bad)
