"""ONNX input: the same graph semantics as the PyTorch capture, and clear errors."""
import os

import numpy as np
import onnx
import pytest
import torch
import torchvision
from torch import nn

from hwaware.errors import InvalidArgumentError, ModelNotFoundError, ONNXLoadError
from hwaware.graph import LayerKind, capture


def test_onnx_matches_the_pytorch_capture(resnet18_onnx):
    model, path = resnet18_onnx
    g = capture(path)
    t = capture(model, input_size=(3, 224, 224))
    assert g.source == "onnx" and not g.unknown_ops
    assert g.macs == t.macs  # same convs and fc, same shapes
    onnx_conv = [{k: v for k, v in l.attrs.items() if k not in ("aten_op", "bias")} for l in g.layers
                 if l.kind is LayerKind.CONV]
    assert onnx_conv == [{k: v for k, v in l.attrs.items() if k != "bias"} for l in t.layers if l.kind is LayerKind.CONV]
    assert all(l.attrs["bias"] for l in g.layers if l.kind is LayerKind.CONV)  # the folded norms' shifts
    # the exporter folds batch norm into the convs: the BN scale+shift parameters (2 x 4,800) become one bias per
    # channel
    bn = sum(l.params for l in t.layers if l.kind is LayerKind.NORM)
    assert bn == 9600 and g.total_params == t.total_params - bn // 2
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
    # a pipe would block the read forever (helper-161), a directory fail inside onnx: both are named
    (tmp_path / "dir.onnx").mkdir()
    os.mkfifo(tmp_path / "pipe.onnx")
    for path in ("pipe.onnx", "dir.onnx"):  # the pipe first: the directory would fail otherwise anyway
        with pytest.raises(ONNXLoadError, match="is not a file"):
            capture(tmp_path / path)
    # a text file that protobuf reads as an empty model is no ONNX model (helper-169: 'no graph input, truncated?'),
    # while an .onnx file that holds nothing is an empty export
    (tmp_path / "notes.txt").write_bytes(b"x\n")  # protobuf parses it: an empty model
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ONNXLoadError, match=r"^'notes.txt' is not an ONNX model .*pass a timm model name"):
        capture(tmp_path / "notes.txt")
    with pytest.raises(ONNXLoadError, match="has no graph input"):
        capture(tmp_path / "empty.onnx")


def test_a_data_dependent_shape_is_named_as_such(tmp_path):
    """helper-134: a detector's export (NonZero) was refused with 'or an input size given contradicts a size the file
    fixes' when no size was given; the refusal names the node whose shape depends on the values, and the fix."""

    class Keep(nn.Module):
        def forward(self, x):
            return torch.nonzero(x > 0).float().sum(0)

    path = tmp_path / "keep.onnx"
    torch.onnx.export(Keep(), (torch.randn(1, 4),), str(path), dynamo=False)
    said = r"\(NonZero\) gives a shape that depends on the values.*--trace-device cpu"
    with pytest.raises(ONNXLoadError, match=said):
        capture(path)


def test_external_data_is_not_needed(resnet18_onnx, tmp_path):
    _, path = resnet18_onnx
    onnx.save(onnx.load(str(path)), str(tmp_path / "ext.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="ext.onnx.data")  # small constants (axes, shapes) stay inline
    assert (tmp_path / "ext.onnx.data").stat().st_size > 40e6  # resnet18's 11.7 M float weights live there
    (tmp_path / "ext.onnx.data").unlink()  # copied without its weights
    g, ref = capture(tmp_path / "ext.onnx"), capture(path)
    assert [l.as_dict() for l in g.layers] == [l.as_dict() for l in ref.layers] and g.total_params == ref.total_params


def test_folded_batch_norm_is_noted_in_the_estimate(resnet18_onnx):
    import hwaware
    from hwaware.graph.onnx_import import FOLDED_NORM_NOTE

    model, path = resnet18_onnx
    assert FOLDED_NORM_NOTE in hwaware.estimate(path, "agx").notes  # the exporter folded resnet18's BN
    # under TensorRT, which folds them from the module too, the note would be false (helper-139)
    assert FOLDED_NORM_NOTE not in hwaware.estimate(path, "agx", precision="fp16", runtime="tensorrt").notes
    assert FOLDED_NORM_NOTE not in hwaware.estimate(model, "agx", input_size=224).notes
    x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])
    y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    stats = [onnx.numpy_helper.from_array(np.ones(4, np.float32), n) for n in ("s", "b", "m", "v")]
    graph = onnx.helper.make_graph([onnx.helper.make_node("Conv", ["x", "w"], ["c"]),
                                    onnx.helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"])],
                                   "conv_bn", [x], [y], [w, *stats])
    unfolded = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    assert capture(unfolded).notes == ()  # batch norm still there: nothing to note


def test_an_onnx_graph_under_eager_pytorch_says_it_is_timed_op_by_op(resnet18_onnx):
    """Under eager PyTorch an export is timed as its file writes it, a module as PyTorch runs it (0.62-1.58x apart on
    benchmarks/onnx_consistency.py's networks); under TensorRT they are one engine, with nothing to say."""
    import hwaware
    from hwaware.graph.onnx_import import ONNX_EAGER_NOTE

    model, path = resnet18_onnx
    assert ONNX_EAGER_NOTE in hwaware.estimate(path, "agx").notes
    assert ONNX_EAGER_NOTE in hwaware.estimate(path, "cpu").notes
    assert ONNX_EAGER_NOTE not in hwaware.estimate(path, "agx", runtime="tensorrt", precision="fp16").notes
    assert ONNX_EAGER_NOTE not in hwaware.estimate(model, "agx", input_size=224).notes


def test_learned_estimators_read_an_onnx_layer_as_its_aten_op(resnet18_onnx, onnx_to_module_ratio):
    """Learned estimators were trained on captured graphs and read each layer's op name: an imported ONNX layer names
    its aten equivalent (``aten_op``), so the same network fused for TensorRT (no batch-norm difference left) gets the
    same feature codes and about the same answer from either source. Before, every ONNX layer read as an unknown op,
    and this test's ratio failed (resnet18 on a Xavier NX came out about two thirds of its torchvision answer)."""
    from hwaware.estimators.features import LAYER_FEATURES, layer_features

    model, path = resnet18_onnx
    g, t = capture(path), capture(model, input_size=(3, 224, 224))
    code = LAYER_FEATURES.index("op_code")
    for kind in (LayerKind.CONV, LayerKind.POOL, LayerKind.GLOBAL_POOL, LayerKind.DENSE, LayerKind.ACTIVATION,
                 LayerKind.ELEMENTWISE):
        onnx_codes = {layer_features(l)[code] for l in g.layers if l.kind is kind}
        assert onnx_codes == {layer_features(l)[code] for l in t.layers if l.kind is kind} and 0 not in onnx_codes, kind
    for gpu in ("xavier-nx", "2080ti"):
        assert 0.9 < onnx_to_module_ratio(path, model, gpu) < 1.1, gpu


def test_a_rebatched_onnx_graph_costs_what_its_import_at_that_batch_does(tmp_path):
    """Re-batching (the estimators' batch-1 check, hwaware.estimate at another batch) recomputes each layer's cost from
    its op name: an ONNX layer's must be its aten equivalent (``Layer.aten_name``), as at import, or HardSwish costs
    1 FLOP per element there against 4 at import. torchvision's MobileNetV3-Small has hardswish and hardsigmoid."""
    from hwaware.graph.transform import with_batch

    model = torchvision.models.mobilenet_v3_small().eval()
    path = tmp_path / "mnv3.onnx"
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), input_names=["x"],
                      dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=64)}})
    one, four = capture(path), capture(path, batch_size=4)
    assert {"hardswish", "hardsigmoid"} <= {l.aten_name for l in one.layers}
    moved = with_batch(one, 4)
    assert [l.flops for l in moved.layers] == [l.flops for l in four.layers]
    assert moved.fvcore_macs == four.fvcore_macs


def test_constants_are_neither_kernels_nor_activation_inputs():
    """torch.onnx's TorchScript exporter (``dynamo=False``) passes a deduplicated weight through an Identity node and
    gives Clip (ReLU6) its bounds as Constant nodes. Before 2026-12-01 the Identity's output read as an activation
    input of the conv (a second input, a second producer: the graph input) and its bias was not a parameter, and each
    Clip read two scalar activations; the TensorRT estimate of torchvision's MobileNetV2 exported so came out 0.76x
    its torchvision answer on the Jetson Nano (1.00x with the fix)."""
    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    b = onnx.numpy_helper.from_array(np.zeros(4, np.float32), "b")
    nodes = [h.make_node("Identity", ["b"], ["b_alias"]),
             h.make_node("Constant", [], ["lo"], value=onnx.numpy_helper.from_array(np.array(0.0, np.float32))),
             h.make_node("Constant", [], ["hi"], value=onnx.numpy_helper.from_array(np.array(6.0, np.float32))),
             h.make_node("Conv", ["x", "w", "b_alias"], ["c"], pads=[1, 1, 1, 1]),
             h.make_node("Clip", ["c", "lo", "hi"], ["y"])]
    graph = h.make_graph(nodes, "conv_relu6", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w, b])
    g = capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]))
    conv, clip = g.layers
    assert (conv.kind, clip.kind) == (LayerKind.CONV, LayerKind.ACTIVATION)
    assert conv.input_shapes == ((1, 3, 8, 8),) and conv.inputs == (-1,) and conv.attrs["bias"]
    assert clip.input_shapes == ((1, 4, 8, 8),) and clip.inputs == (0,)
    assert conv.params == g.total_params == 4 * 3 * 3 * 3 + 4
    assert g.skipped == {"onnx.Identity": 1, "onnx.Constant": 2}


def test_legacy_export_estimates_as_its_module_under_tensorrt(tmp_path, onnx_to_module_ratio):
    """The same network exported by the TorchScript exporter, fused for TensorRT, gets about its torchvision answer
    (the batch-norm difference is gone in the fused graph; torchvision's untrained convs have zero folded biases,
    which the exporter keeps). Fails without the constant handling above (0.76 on the Nano)."""
    model = torchvision.models.mobilenet_v2().eval()
    path = tmp_path / "mnv2.onnx"
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), input_names=["x"], dynamo=False,
                      opset_version=17)
    for gpu in ("nano", "agx", "xavier-nx"):
        assert 0.93 < onnx_to_module_ratio(path, model, gpu) < 1.07, gpu
    g, t = capture(path), capture(model, input_size=(3, 224, 224))
    assert g.macs == t.macs
    assert g.skipped["onnx.Identity"] > 0 and g.skipped["onnx.Constant"] > 0  # the constructs this test is about


def test_a_quantized_export_is_noted_and_its_qdq_nodes_launch_nothing():
    """A QDQ model (what TensorRT's explicit int8 quantization reads): the quantize/dequantize pair on the activation
    is no kernel, the int8 weight's dequantize folds into the conv's bytes, and the graph says the model is quantized
    and asks for precision='int8' (before 2026-12-01 both activation nodes were unknown ops)."""
    import hwaware
    from hwaware.graph.onnx_import import QDQ_NOTE

    h = onnx.helper
    inits = [onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.int8), "wq"),
             onnx.numpy_helper.from_array(np.array(0.1, np.float32), "s"),
             onnx.numpy_helper.from_array(np.array(0, np.int8), "z")]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             h.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
             h.make_node("DequantizeLinear", ["wq", "s", "z"], ["w"]),
             h.make_node("Conv", ["xd", "w"], ["c"], pads=[1, 1, 1, 1]),
             h.make_node("Relu", ["c"], ["y"])]
    graph = h.make_graph(nodes, "qdq_conv", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], inits)
    g = capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]))
    assert [l.kind for l in g.kernels()] == [LayerKind.CONV, LayerKind.ACTIVATION]
    assert g.unknown_ops == {} and QDQ_NOTE.format(n=2) in g.notes
    conv = g.kernels()[0]
    assert conv.bytes_read == 4 * (3 * 8 * 8 + 4 * 3 * 3 * 3)  # the dequantized weight is read with the activation
    assert QDQ_NOTE.format(n=2) in hwaware.estimate(g, "agx", runtime="tensorrt", precision="int8").notes


def test_a_dilated_max_pool_keeps_its_dilation_from_a_module_and_from_its_export(tmp_path):
    """A max-pool's dilation is recorded by capture and by the ONNX import alike (the DRAM floor's taps read it,
    ``gpu_features._tap_share``); a pool without one records none, so its attributes are what they were before."""
    import dataclasses

    from hwaware.estimators.gpu_features import dram_floor_ms
    from hwaware.hardware.catalog import get_gpu

    model = torch.nn.Sequential(torch.nn.MaxPool2d(3, stride=2, dilation=2), torch.nn.MaxPool2d(2)).eval()
    path = tmp_path / "pools.onnx"
    torch.onnx.export(model, (torch.randn(1, 8, 64, 64),), str(path), input_names=["x"], dynamo=False, opset_version=17)
    for g in (capture(model, input_size=(8, 64, 64)), capture(path)):
        dilated, plain = [l for l in g.layers if l.kind is LayerKind.POOL]
        assert dilated.attrs["dilation"] == (2, 2) and "dilation" not in plain.attrs
    # with its dilation a stride-2 3x3 window dilated by 2 reads even positions only: a quarter of a big input
    big = capture(torch.nn.MaxPool2d(3, stride=2, dilation=2), input_size=(64, 1024, 1024)).layers[0]
    undilated = dataclasses.replace(big, attrs={k: v for k, v in big.attrs.items() if k != "dilation"})
    assert dram_floor_ms(big, get_gpu("rtx4090")) < 0.5 * dram_floor_ms(undilated, get_gpu("rtx4090"))


@pytest.mark.parametrize("name", ["test_vit", "swin_tiny_patch4_window7_224"])
def test_transformer_legacy_exports_import_with_their_modules_macs(name, tmp_path):
    """The TorchScript exporter computes a ViT's class-token Expand shape through ConstantOfShape, Equal and Where,
    and a Swin's window Reshapes from its input's Shape; ONNX's shape inference evaluates neither, so both were
    refused ("no static shape for tensor '/Concat_output_0'", review helper-93). Folded as an engine folds them, the
    import has its module's multiply-adds, with its weights beside the file too (a fold that read the class token's
    bytes, never loaded, failed whole: review helper-95)."""
    import timm

    model = timm.create_model(name).eval()
    size = model.pretrained_cfg["input_size"]
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(model, (torch.randn(1, *size),), str(path), dynamo=False)
    assert capture(path).macs == capture(name).macs
    outside = tmp_path / "outside" / f"{name}.onnx"
    outside.parent.mkdir()
    onnx.save(onnx.load(str(path)), str(outside), save_as_external_data=True, size_threshold=1024)
    assert capture(outside).macs == capture(name).macs


def _one_conv(inputs, precision=onnx.TensorProto.FLOAT):
    """A 3-channel conv fed by the last of ``inputs`` ((name, dims) pairs; None dims are dynamic)."""
    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float16 if precision == onnx.TensorProto.FLOAT16
                                             else np.float32), "w")
    values = [h.make_tensor_value_info(n, precision, d) for n, d in inputs]
    graph = h.make_graph([h.make_node("Conv", [inputs[-1][0], "w"], ["y"])], "g", values,
                         [h.make_tensor_value_info("y", precision, None)], [w])
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


@pytest.mark.parametrize("inputs,kwargs,match", [
    ([("x", ["N", 3, 32, 32])], {"input_size": (1, 32, 32)}, "fixes dimension 1 at 3, not 1"),
    ([("x", ["N", 3, 32, 32])], {"input_size": (3, 32, 32, 7)}, "has 3 dimensions after the batch"),
    ([("x", [])], {}, "is a scalar"),
    ([("y", ["N", 8]), ("x", ["N", 3, 32, 32])], {}, "a second input 'x' with a dynamic dimension"),
    # a dynamic side input took the batch while the image stayed at 1, unsaid (review helper-95)
    ([("s", ["N", 2]), ("x", [1, 3, 32, 32])], {"batch_size": 8},
     r"'x' of 'g' fixes its batch at 1, not 8: pass batch_size=1 \(CLI: --batch 1\)"),  # helper-139: the CLI's spelling
])
def test_an_input_size_the_file_contradicts_is_refused(inputs, kwargs, match):
    """A size the file fixes was overwritten (a 1-channel input against a 3-channel weight), an extra dimension was
    dropped from the cost but kept in the input shape, a scalar input was an IndexError, a second dynamic input stayed
    unbound (review helper-93)."""
    with pytest.raises(InvalidArgumentError, match=match):
        capture(_one_conv(inputs), **kwargs)


def test_an_op_onnx_does_not_define_and_a_size_a_weight_fixes_are_named():
    """helper-122: both said only that a shape "depends on more than the input's shape; estimate the nn.Module", which
    named neither the unknown op nor the size the file's dense weight fixes (the module fails at that size too)."""
    h = onnx.helper
    graph = h.make_graph([h.make_node("FooBar", ["x"], ["y"])], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    with pytest.raises(ONNXLoadError, match="the op 'FooBar' .*which ONNX does not define"):
        capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]))
    # a standard op written with the default domain's full name is not said to be undefined (review helper-123)
    node = h.make_node("Reshape", ["x", "s"], ["y"], domain="ai.onnx")
    graph = h.make_graph([node], "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8]),
                                       h.make_tensor_value_info("s", onnx.TensorProto.INT64, [2])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    with pytest.raises(ONNXLoadError, match="no static shape for tensor 'y' of node 'Reshape'") as exc:
        capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("ai.onnx", 17)]))
    assert "does not define" not in str(exc.value)
    w = onnx.numpy_helper.from_array(np.zeros((10, 3 * 8 * 8), np.float32), "w")
    graph = h.make_graph([h.make_node("Flatten", ["x"], ["f"]), h.make_node("Gemm", ["f", "w"], ["y"], transB=1)], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    assert capture(model).name  # at its own size
    with pytest.raises(ONNXLoadError, match="an input size given contradicts a size the file fixes .*exported at"):
        capture(model, input_size=(3, 16, 16))


def test_a_size_that_breaks_the_files_fixed_shapes_is_refused():
    """A fixed-size export asked at another size: a CNN's convolution takes it; a tensor of the exported size added
    to the activations (a ViT's position embedding) no longer broadcasts, which ONNX's shape inference lets pass:
    refused, naming the operation (a legacy export of vit_tiny_patch16_224 asked at 384 was answered at the
    exported size, unsaid: review helper-106; this small graph failed without a cause named). The same graph with its
    sides dynamic, asked at a size its tensor does not fit, says to pass the exported size; an opset-6 Add, which
    broadcasts by its attributes, not numpy's rule, imports (review helper-107)."""
    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 4, 4), np.float32), "w")
    pos = onnx.numpy_helper.from_array(np.ones((1, 4, 2, 2), np.float32), "pos")
    nodes = [h.make_node("Conv", ["x", "w"], ["y"], strides=[4, 4]),
             h.make_node("Add", ["y", "pos"], ["z"], name="add_pos")]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 3, 8, 8])],
                         [h.make_tensor_value_info("z", onnx.TensorProto.FLOAT, None)], [w, pos])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    assert capture(model).layers[-1].output_shapes == ((1, 4, 2, 2),)
    with pytest.raises(InvalidArgumentError, match=r"fixes dimension 2 at 8, dimension 3 at 8; at the input_size "
                                                   r"asked, its Add 'add_pos' broadcasts \(1, 4, 4, 4\) with "
                                                   r"\(1, 4, 2, 2\): pass the fixed sizes"):
        capture(model, input_size=(3, 16, 16))
    assert capture(_one_conv([("x", ["N", 3, 8, 8])]), input_size=(3, 16, 16)).layers[0].output_shapes == (
        (1, 4, 14, 14),)
    graph.input[0].CopyFrom(h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 3, "H", "W"]))
    dynamic = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    with pytest.raises(InvalidArgumentError, match=r"at the input_size asked, its Add 'add_pos' broadcasts .* pass the "
                                                   r"size it was exported at"):
        capture(dynamic, input_size=16)
    assert capture(dynamic, input_size=8).layers[-1].output_shapes == ((1, 4, 2, 2),)
    bias = onnx.numpy_helper.from_array(np.ones(4, np.float32), "b")
    legacy = h.make_graph([h.make_node("Conv", ["x", "w"], ["y"]),
                           h.make_node("Add", ["y", "b"], ["z"], broadcast=1, axis=1)], "g",
                          [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
                          [h.make_tensor_value_info("z", onnx.TensorProto.FLOAT, None)], [w, bias])
    assert capture(h.make_model(legacy, opset_imports=[h.make_opsetid("", 6)])).layers[-1].op == "onnx.Add"


def test_the_bound_input_is_the_dynamic_one_and_precision_follows_the_file():
    """A static input first (a scale vector) no longer takes the batch; an fp16 export asked in fp32 is refused, as
    an nn.Module after .half() is, and imports in fp16."""
    g = capture(_one_conv([("scale", [1]), ("x", ["N", 3, 32, 32])]), batch_size=4)
    assert g.input_shape == (4, 3, 32, 32)
    half = _one_conv([("x", [1, 3, 32, 32])], precision=onnx.TensorProto.FLOAT16)
    with pytest.raises(InvalidArgumentError, match="takes an fp16 input"):
        capture(half)
    assert capture(half, precision="fp16").precision == "fp16"


@pytest.mark.parametrize("inputs,precision,said", [
    ([("x", [1, 3, 32, 32])], onnx.TensorProto.FLOAT16, "pass precision='fp16' (CLI: --precision fp16; "
                                                        "a calibration profile answers its own precision only)"),
    ([("x", [1, 3, 32, 32])], onnx.TensorProto.BFLOAT16, "pass precision='bf16' (CLI: --precision bf16; "
                                                         "a calibration profile answers its own precision only)"),
    ([("x", [2, 3, 32, 32])], onnx.TensorProto.FLOAT, "has a fixed batch size 2; pass batch_size=2 (CLI: --batch 2)"),
])
def test_the_cli_says_an_onnx_file_s_fix_in_its_own_flags(tmp_path, capsys, inputs, precision, said):
    """The fixes an ONNX file's input asks for are spelled as the CLI takes them, in one line, exit 2 (helper-139
    added the spellings; untested until 2026-12-06)."""
    from hwaware.cli import main

    path = tmp_path / "m.onnx"
    onnx.save(_one_conv(inputs, precision=precision), str(path))
    assert main(["latency", str(path), "--gpu", "rtx3090"]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1


def test_one_number_sizes_what_the_file_leaves_dynamic():
    """`--input 10` on a token model (N x L) was read as 3 x 10 x 10 and bound L to 3 (review helper-93): one number
    is the sequence length of a one-dimensional input, an image's side with the file's channels."""
    h = onnx.helper
    tokens = h.make_model(h.make_graph(
        [h.make_node("Relu", ["x"], ["y"])], "t", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", "L"])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)]), opset_imports=[h.make_opsetid("", 17)])
    assert capture(tokens, input_size=10).input_shape == capture(tokens, input_size="10").input_shape == (1, 10)
    image = _one_conv([("x", ["N", 3, "H", "W"])])
    assert capture(image, input_size=64).input_shape == (1, 3, 64, 64)
    wave = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 1, "L"])  # the length alone is dynamic
    audio = h.make_model(h.make_graph([h.make_node("Relu", ["x"], ["y"])], "a", [wave],
                                      [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)]),
                         opset_imports=[h.make_opsetid("", 17)])
    assert capture(audio, input_size=16000).input_shape == (1, 1, 16000)
    # a static export's spatial size is replaced, as before (its convolutions' weights do not depend on it)
    assert capture(_one_conv([("x", [1, 3, 32, 32])]), input_size=(3, 64, 64)).input_shape == (1, 3, 64, 64)


def _attention(q, k, v, past=None, out=None, **attrs):
    """An opset-23 ``Attention`` node over graph inputs of these shapes (a past key of shape ``past`` if given; the
    output's shape declared if given)."""
    h = onnx.helper
    names = ["q", "k", "v", "", "past_key", "past_value"] if past else ["q", "k", "v"]  # the spec: both or neither
    shapes = [q, k, v, None, past, past]
    values = [h.make_tensor_value_info(n, onnx.TensorProto.FLOAT, s) for n, s in zip(names, shapes) if n]
    node = h.make_node("Attention", names, ["y"], **attrs)
    graph = h.make_graph([node], "g", values, [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out)])
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 23)])


@pytest.mark.parametrize("inputs,attrs,cost", [
    # 4-D: (batch, heads, length, head size); values of another head size
    (((2, 4, 16, 8), (2, 4, 20, 8), (2, 4, 20, 12)), {}, (8, 16, 20, 8, 12)),
    # 3-D: (batch, length, heads x head size), grouped keys and values (8 query heads read 2)
    (((2, 16, 64), (2, 20, 16), (2, 20, 24)), {"q_num_heads": 8, "kv_num_heads": 2}, (16, 16, 20, 8, 12)),
    # a past key and value lengthen what the queries read: 20 new keys after 5
    (((1, 4, 16, 8), (1, 4, 20, 8), (1, 4, 20, 8), (1, 4, 5, 8)), {}, (4, 16, 25, 8, 8)),
])
def test_an_opset_23_attention_is_one_fused_attention_layer(inputs, attrs, cost):
    """torch.onnx.export at opset 23 writes a transformer's attention as ONNX's ``Attention`` op (12 in timm's
    vit_tiny_patch16_224, checked 2026-12-05 with torch 2.14), which the import listed as an unknown op and timed as a
    copy: the export's multiply-adds fell 14 % below its module's, and under eager PyTorch on the AGX Xavier it came out
    27.9 ms against 14.0 for the same network at opset 20 (its attention as MatMul, Softmax, MatMul). It is now the
    fused attention a capture records, with a capture's attributes, so its cost is the one formula."""
    from hwaware.graph.ops import layer_cost

    q, k, v, *past = inputs
    (layer,) = capture(_attention(q, k, v, *past, **attrs), batch_size=q[0]).layers
    batch_heads, q_len, kv_len, head_dim, v_dim = cost
    assert layer.kind is LayerKind.ATTENTION and layer.op == "onnx.Attention"
    assert {k_: layer.attrs[k_] for k_ in ("batch_heads", "q_len", "kv_len", "head_dim", "v_dim")} == dict(
        batch_heads=batch_heads, q_len=q_len, kv_len=kv_len, head_dim=head_dim, v_dim=v_dim)
    assert layer.macs == batch_heads * q_len * kv_len * (head_dim + v_dim)
    captured = layer_cost(LayerKind.ATTENTION, "scaled_dot_product_attention", layer.input_shapes,
                          layer.output_shapes, layer.attrs, 0, 4)
    assert (layer.macs, layer.flops) == captured[:2]


def test_a_3d_attention_without_its_head_counts_is_refused_in_one_line():
    """ONNX requires the head counts with 3-D inputs; a file that declares the output's shape reaches the import."""
    with pytest.raises(ONNXLoadError, match="without q_num_heads and kv_num_heads"):
        capture(_attention((1, 16, 64), (1, 20, 64), (1, 20, 64), out=(1, 16, 64)))


def test_an_opset_23_export_of_a_vit_has_its_modules_macs(tmp_path):
    """The exporter's own ``Attention`` nodes (see above), end to end: no unknown op, the module's multiply-adds."""
    path, _ = _timm_export(tmp_path, "test_vit", 23)
    assert "Attention" in {n.op_type for n in onnx.load(str(path)).graph.node}
    g = capture(path)
    assert not g.unknown_ops and g.macs == capture("test_vit").macs


def _conv_silu(also_output=False):
    """A conv, then ``y * Sigmoid(y)`` on its output (the exporters' SiLU); the Sigmoid's output also a graph output
    if ``also_output``."""
    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    nodes = [h.make_node("Conv", ["x", "w"], ["c"]), h.make_node("Sigmoid", ["c"], ["s"]),
             h.make_node("Mul", ["s", "c"], ["y"])]
    outputs = [h.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in ("y", "s")[:1 + also_output]]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])], outputs,
                         [w])
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


def test_x_times_sigmoid_x_is_one_silu_and_fuses_as_the_modules_silu(tmp_path, onnx_to_module_ratio):
    """ONNX has no SiLU op (Swish from opset 24): exporters write ``x * Sigmoid(x)``, which was two kernels, and under
    TensorRT its Sigmoid could not join the conv whose output the Mul reads too: efficientnet_b0's export came out
    1.64x its module on the AGX Xavier (fp16). Now one SiLU layer, as PyTorch runs ``nn.SiLU``; a Sigmoid whose output
    something else reads too stays a kernel of its own."""
    conv, silu = capture(_conv_silu()).layers
    assert (silu.kind, silu.aten_name, silu.op, silu.inputs) == (LayerKind.ACTIVATION, "silu", "onnx.Mul+Sigmoid", (0,))
    assert silu.input_shapes == conv.output_shapes and capture(_conv_silu()).skipped == {"onnx.Sigmoid": 1}
    assert [l.op for l in capture(_conv_silu(also_output=True)).layers] == ["onnx.Conv", "onnx.Sigmoid", "onnx.Mul"]
    import timm

    model = timm.create_model("efficientnet_b0").eval()
    path = tmp_path / "efficientnet_b0.onnx"
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), dynamo=False, opset_version=17)
    assert not any(n.op_type == "Swish" for n in onnx.load(str(path)).graph.node)  # the spelling this test is about
    for gpu in ("agx", "nano"):
        assert 0.98 < onnx_to_module_ratio(path, model, gpu) < 1.02, gpu


@pytest.mark.parametrize("input_type", [onnx.TensorProto.FLOAT, onnx.TensorProto.UINT8])
def test_an_op_that_keeps_its_inputs_shape_gets_it_where_onnx_infers_none(input_type):
    """onnx 1.23's shape inference gives no GroupNormalization-21 output (checked 2026-12-05): timm's poolformer_s12
    exported at opset 23 was refused ("no static shape for tensor 'group_norm'"). A norm's output has its input's
    shape; the import declares it, in its input's element type (not the graph input's: a uint8 image cast to float
    was refused, review helper-96), round after round as each norm's input becomes known (two norms in a row)."""
    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    scale, bias = (onnx.numpy_helper.from_array(np.ones(4, np.float32), n) for n in ("scale", "bias"))
    nodes = [h.make_node("Cast", ["image"], ["x"], to=onnx.TensorProto.FLOAT), h.make_node("Conv", ["x", "w"], ["c"]),
             h.make_node("GroupNormalization", ["c", "scale", "bias"], ["n1"], num_groups=1),
             h.make_node("Conv", ["n1", "w4"], ["c2"]),
             h.make_node("GroupNormalization", ["c2", "scale", "bias"], ["n2"], num_groups=1),
             h.make_node("Relu", ["n2"], ["y"])]
    w4 = onnx.numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w4")
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("image", input_type, ["N", 3, 8, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w, w4, scale, bias])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 21)])
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    assert "n1" not in {v.name for v in inferred}  # what this test is about: else ONNX gives the shape itself
    g = capture(model, batch_size=2)
    assert [l.kind for l in g.layers][1:] == [LayerKind.CONV, LayerKind.NORM, LayerKind.CONV, LayerKind.NORM,
                                              LayerKind.ACTIVATION]
    assert all(l.output_shapes == ((2, 4, 6, 6),) for l in g.layers[1:])


def _conv_then(nodes, outputs=("y",)):
    """A conv writing ``c``, then ``nodes`` (constants ``half``, ``one``, ``root2`` at hand)."""
    h = onnx.helper
    consts = [onnx.numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w"),
              *(onnx.numpy_helper.from_array(np.array(v, np.float32), n)
                for n, v in (("half", 0.5), ("one", 1.0), ("root2", 2 ** 0.5)))]
    graph = h.make_graph([h.make_node("Conv", ["x", "w"], ["c"]), *nodes], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
                         [h.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in outputs], consts)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


def test_gelu_spelled_with_erf_is_one_gelu_and_unrelated_reads_stay_apart():
    """The exporters' GELU below opset 20, ``x * 0.5 * (1 + Erf(x / sqrt 2))``, is one GELU layer reading the conv's
    output (as ``nn.GELU``); two branches that each read the conv's output once stay two ops, and so does a spelling
    whose intermediate something else reads too."""
    node = onnx.helper.make_node
    gelu = [node("Div", ["c", "root2"], ["d"]), node("Erf", ["d"], ["e"]), node("Add", ["e", "one"], ["a"]),
            node("Mul", ["c", "a"], ["m"]), node("Mul", ["m", "half"], ["y"])]
    g = capture(_conv_then(gelu))
    assert [(l.kind, l.aten_name, l.inputs) for l in g.layers] == [(LayerKind.CONV, "convolution", (-1,)),
                                                                    (LayerKind.ACTIVATION, "gelu", (0,))]
    assert g.layers[1].op == "onnx.Add+Div+Erf+Mul" and sum(g.skipped.values()) == 4
    branches = [node("Sigmoid", ["c"], ["y"]), node("Mul", ["c", "half"], ["z"])]  # a SiLU's ops, two outputs
    assert [l.op for l in capture(_conv_then(branches, ("y", "z"))).layers] == ["onnx.Conv", "onnx.Sigmoid", "onnx.Mul"]
    assert len(capture(_conv_then(gelu, ("y", "e"))).layers) == 6  # the Erf's output leaves the region too


@pytest.mark.parametrize("after,ops", [
    # a layer scale and a residual after the SiLU (ConvNeXt-like, NFNet's beta): neither joins it
    ([("Mul", ["m", "half"], ["g"]), ("Add", ["g", "c"], ["y"])], ["onnx.Mul+Sigmoid", "onnx.Mul", "onnx.Add"]),
    ([("Add", ["c", "m"], ["y"])], ["onnx.Mul+Sigmoid", "onnx.Add"]),  # x + silu(x)
])
def test_a_spelled_silu_ends_at_its_product(after, ops):
    """Review helper-96: the region took every op combining the SiLU's output with x or a constant, so a layer
    scale and a residual add were read as part of the activation."""
    node = onnx.helper.make_node
    silu = [node("Sigmoid", ["c"], ["s"]), node("Mul", ["c", "s"], ["m"])]
    g = capture(_conv_then([*silu, *(node(op, i, o) for op, i, o in after)]))
    assert [l.op for l in g.layers][1:] == ops and g.layers[1].aten_name == "silu"


def test_a_sigmoid_times_a_constant_is_no_silu():
    """x read once by the region (its other reader a residual add) is no x * Sigmoid(x) (review helper-96)."""
    node = onnx.helper.make_node
    g = capture(_conv_then([node("Sigmoid", ["c"], ["s"]), node("Mul", ["s", "half"], ["m"]),
                            node("Add", ["m", "c"], ["y"])]))
    assert [l.op for l in g.layers] == ["onnx.Conv", "onnx.Sigmoid", "onnx.Mul", "onnx.Add"]


@pytest.mark.parametrize("spelling,aten", [
    # GELU's tanh form: x * 0.5 * (1 + Tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
    ([("Pow", ["c", "three"], ["p"]), ("Mul", ["p", "k"], ["q"]), ("Add", ["c", "q"], ["r"]),
      ("Mul", ["r", "root2"], ["s"]), ("Tanh", ["s"], ["t"]), ("Add", ["t", "one"], ["u"]),
      ("Mul", ["c", "u"], ["v"]), ("Mul", ["v", "half"], ["y"])], "gelu"),
    # the same as torch.onnx.export(dynamo=True) writes it, x * (0.5 * (1 + Tanh(...))): it closed before the product
    # by x, which stayed an op of its own (timm's test_convnext export: the dense layer's output read twice, no fusion)
    ([("Pow", ["c", "three"], ["p"]), ("Mul", ["k", "p"], ["q"]), ("Add", ["c", "q"], ["r"]),
      ("Mul", ["root2", "r"], ["s"]), ("Tanh", ["s"], ["t"]), ("Add", ["t", "one"], ["u"]),
      ("Mul", ["half", "u"], ["v"]), ("Mul", ["c", "v"], ["y"])], "gelu"),
    ([("Softplus", ["c"], ["s"]), ("Tanh", ["s"], ["t"]), ("Mul", ["c", "t"], ["y"])], "mish"),
    ([("HardSigmoid", ["c"], ["s"]), ("Mul", ["c", "s"], ["y"])], "hardswish"),
])
def test_other_spelled_activations_are_one_layer(spelling, aten):
    h = onnx.helper
    model = _conv_then([h.make_node(op, ins, outs) for op, ins, outs in spelling])
    model.graph.initializer.extend(onnx.numpy_helper.from_array(np.array(v, np.float32), n)
                                   for n, v in (("three", 3.0), ("k", 0.044715)))
    g = capture(model)
    assert [(l.kind, l.aten_name, l.inputs) for l in g.layers] == [(LayerKind.CONV, "convolution", (-1,)),
                                                                    (LayerKind.ACTIVATION, aten, (0,))]


def _exported_test_vit(tmp_path, **export):
    """timm's test_vit with non-zero biases (the legacy exporter shares equal ones through Identity nodes, the dynamo
    one drops zero ones), and its ONNX export under ``export``'s options."""
    import timm

    model = timm.create_model("test_vit").eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.bias.copy_(torch.randn(m.bias.shape))
    path = tmp_path / "test_vit.onnx"
    torch.onnx.export(model, (torch.randn(1, *model.pretrained_cfg["input_size"]),), str(path), **export)
    return model, path


@pytest.mark.parametrize("dynamo", [False, True])
def test_a_linear_on_tokens_is_the_modules_addmm(dynamo, tmp_path):
    """An ``nn.Linear`` on a (batch, tokens, features) input exports as MatMul then Add: the import read a 3-D matmul
    and an add kernel, where PyTorch runs one addmm on the tokens folded into rows, which the learned model was trained
    on (a leading 1 reads as another batch: mixer_b16_224's export came out 1.22x its module under TensorRT fp16 on
    the AGX Xavier, vit_small_patch16_224's at opset 23 1.28x under eager PyTorch, 2026-12-05). Every dense layer of
    a ViT's export is now its module's (shapes, bias), by either exporter (biases drawn non-zero: the legacy exporter
    shares equal ones through Identity nodes, the dynamo one drops zero ones)."""
    model, path = _exported_test_vit(tmp_path, dynamo=dynamo)

    def dense(g):
        return sorted((l.input_shapes, l.output_shapes, l.attrs["bias"], l.aten_name, l.params)
                      for l in g.layers if l.kind is LayerKind.DENSE)

    g, module = capture(path), capture(model, input_size=model.pretrained_cfg["input_size"])
    assert dense(g) == dense(module) and len(dense(g)) == 25


def test_a_layer_norm_spelled_below_opset_17_is_one_norm_with_its_weights():
    """Below opset 17 exporters spell layer norm as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then its weight
    and bias: nine kernels where PyTorch runs one (deit_tiny_patch16_224's opset-14 export came out 1.71x its module
    under TensorRT fp16 on the AGX Xavier, 2.26x under eager PyTorch, 2026-12-05). Now one norm, its weight and bias
    its parameters; without the affine pair it still closes, at the Div."""
    h = onnx.helper
    affine = [h.make_node("Mul", ["n", "gamma"], ["g"]), h.make_node("Add", ["g", "beta"], ["y"])]
    for tail, params in ((affine, 12), ([], 0)):
        nodes = [h.make_node("ReduceMean", ["c"], ["m"], axes=[-1]), h.make_node("Sub", ["c", "m"], ["d"]),
                 h.make_node("Pow", ["d", "two"], ["p"]), h.make_node("ReduceMean", ["p"], ["v"], axes=[-1]),
                 h.make_node("Add", ["v", "eps"], ["e"]), h.make_node("Sqrt", ["e"], ["s"]),
                 h.make_node("Div", ["d", "s"], ["n" if tail else "y"]), *tail]
        model = _conv_then(nodes)
        model.graph.initializer.extend(onnx.numpy_helper.from_array(np.array(v, np.float32), n)
                                       for n, v in (("two", 2.0), ("eps", 1e-5), ("gamma", np.ones(6)),
                                                    ("beta", np.zeros(6))))
        conv, norm = capture(model).layers
        assert (norm.kind, norm.aten_name, norm.inputs, norm.params) == (LayerKind.NORM, "native_layer_norm", (0,),
                                                                          params)
        assert norm.input_shapes == norm.output_shapes == ((1, 4, 6, 6),)


def test_an_opset_14_export_of_a_vit_has_its_modules_layers(tmp_path):
    """End to end, the legacy exporter at opset 14 (layer norm and GELU spelled, Linear as MatMul and Add): every
    dense layer, norm and activation of test_vit's export is its module's."""
    model, path = _exported_test_vit(tmp_path, dynamo=False, opset_version=14)

    def kept(g):
        return sorted((l.kind.value, l.aten_name, l.input_shapes[:1], l.params) for l in g.layers
                      if l.kind in (LayerKind.DENSE, LayerKind.NORM, LayerKind.ACTIVATION))

    assert kept(capture(path)) == kept(capture(model, input_size=model.pretrained_cfg["input_size"]))


def _layer_norm(x, out, affine=True, axes=(-1,), tag=""):
    """Layer norm over ``axes`` spelled as below opset 17, reading ``x`` and writing ``out`` (``tag`` names its
    intermediates apart)."""
    node = onnx.helper.make_node
    t = {n: f"{n}{tag}" for n in ("m", "d", "p", "v", "e", "s", "n", "g")}
    nodes = [node("ReduceMean", [x], [t["m"]], axes=list(axes)), node("Sub", [x, t["m"]], [t["d"]]),
             node("Pow", [t["d"], "two"], [t["p"]]), node("ReduceMean", [t["p"]], [t["v"]], axes=list(axes)),
             node("Add", [t["v"], "eps"], [t["e"]]), node("Sqrt", [t["e"]], [t["s"]]),
             node("Div", [t["d"], t["s"]], [t["n"] if affine else out])]
    return nodes + ([node("Mul", [t["n"], "gamma"], [t["g"]]), node("Add", [t["g"], "beta"], [out])] if affine else [])


def _spelled(nodes, outputs=("y",)):
    model = _conv_then(nodes, outputs)
    model.graph.initializer.extend(onnx.numpy_helper.from_array(np.array(v, np.float32), n)
                                   for n, v in (("two", 2.0), ("eps", 1e-5), ("gamma", np.ones(6)),
                                                ("beta", np.zeros(6)), ("k", 1.7015)))
    return [(l.op, l.aten_name, l.params) for l in capture(model).layers[1:]]


def test_spelled_ops_take_nothing_after_them_but_their_own_constants():
    """Review helper-97: GELU with its 0.5 inside took a following scale (timm's GammaAct, gelu x 1.7015) that PyTorch
    runs as its own kernel; a norm's region took what follows it, a residual add or a product by another tensor;
    standard-deviation pooling (a reduced shape) read as a layer norm; of two norms on one tensor only the first was
    one layer (timm's parallel blocks)."""
    node = onnx.helper.make_node
    gelu = [node("Div", ["c", "root2"], ["d"]), node("Erf", ["d"], ["e"]), node("Add", ["e", "one"], ["a"]),
            node("Mul", ["a", "half"], ["h"]), node("Mul", ["c", "h"], ["g"]), node("Mul", ["g", "k"], ["y"])]
    assert _spelled(gelu) == [("onnx.Add+Div+Erf+Mul", "gelu", 0), ("onnx.Mul", "mul", 0)]
    norm = ("onnx.Add+Div+Mul+Pow+ReduceMean+Sqrt+Sub", "native_layer_norm", 12)
    bare = ("onnx.Add+Div+Pow+ReduceMean+Sqrt+Sub", "native_layer_norm", 0)
    assert _spelled([*_layer_norm("c", "z"), node("Add", ["z", "c"], ["y"])]) == [norm, ("onnx.Add", "add", 0)]
    assert _spelled([*_layer_norm("c", "z", affine=False), node("Mul", ["z", "c"], ["y"])]) == [
        bare, ("onnx.Mul", "mul", 0)]
    computed = node("ReduceMean", ["c"], ["t"], axes=[0, 1, 2], keepdims=0)  # of the norm's width, not a weight
    assert _spelled([computed, *_layer_norm("c", "z", affine=False), node("Mul", ["z", "t"], ["y"])]) == [
        ("onnx.ReduceMean", "sum", 0), bare, ("onnx.Mul", "mul", 0)]
    assert _spelled([*_layer_norm("c", "y"), *_layer_norm("c", "y2", tag="2")], ("y", "y2")) == [norm, norm]
    assert _spelled(_layer_norm("c", "y"), ("y", "n")) == [bare, ("onnx.Mul", "mul", 0), ("onnx.Add", "add", 0)]
    pooled = _spelled([*_layer_norm("c", "z", affine=False)[:6], node("Mul", ["s", "k"], ["y"])])  # (1, 4, 6, 1)
    assert "native_layer_norm" not in {aten for _, aten, _ in pooled}


def test_spelled_ops_hold_only_their_own_kind_of_op():
    """Review helper-98: ``x * Sigmoid(ReduceMean(x))`` (timm's GatherExcite) read as SiLU; a norm over channels and RMS
    norm (which PyTorch runs as several kernels) read as a layer norm; two interleaved norms on one tensor collapsed
    neither; the weight rule, the residual rule and 'only a norm takes parameters' went untested."""
    node = onnx.helper.make_node
    norm = ("onnx.Add+Div+Mul+Pow+ReduceMean+Sqrt+Sub", "native_layer_norm", 12)
    bare = ("onnx.Add+Div+Pow+ReduceMean+Sqrt+Sub", "native_layer_norm", 0)
    excite = [node("ReduceMean", ["c"], ["m"], axes=[2, 3]), node("Sigmoid", ["m"], ["s"]),
              node("Mul", ["c", "s"], ["y"])]
    assert "silu" not in {aten for _, aten, _ in _spelled(excite)}
    excite[0] = node("ReduceMean", ["c"], ["m"], axes=[-1])  # over the last axis, as a norm's: still no SiLU
    assert "silu" not in {aten for _, aten, _ in _spelled(excite)}
    channels = _layer_norm("c", "z", affine=False, axes=(1,))
    assert "native_layer_norm" not in {aten for _, aten, _ in _spelled(channels, ("z",))}
    rms = [node("Pow", ["c", "two"], ["p"]), node("ReduceMean", ["p"], ["v"], axes=[-1]),
           node("Add", ["v", "eps"], ["e"]), node("Sqrt", ["e"], ["s"]), node("Div", ["c", "s"], ["y"])]
    assert "native_layer_norm" not in {aten for _, aten, _ in _spelled(rms)}
    one, two = _layer_norm("c", "y"), _layer_norm("c", "y2", tag="2")
    assert _spelled([n for pair in zip(one, two) for n in pair], ("y", "y2")) == [norm, norm]  # interleaved
    weighted = [*_layer_norm("c", "z", affine=False), node("Mul", ["z", "gamma"], ["g"]),
                node("Add", ["g", "c"], ["y"])]  # a weight, then a residual add
    assert _spelled(weighted) == [(bare[0].replace("Div+", "Div+Mul+"), "native_layer_norm", 6), ("onnx.Add", "add", 0)]
    scaled = [*_layer_norm("c", "z", affine=False), node("Mul", ["z", "k"], ["y"])]  # a scalar is no weight
    assert _spelled(scaled) == [bare, ("onnx.Mul", "mul", 0)]
    wide = [node("Div", ["c", "gamma"], ["d"]), node("Erf", ["d"], ["e"]), node("Add", ["e", "one"], ["a"]),
            node("Mul", ["c", "a"], ["y"])]  # an activation reading a vector: still no parameters
    assert _spelled(wide) == [("onnx.Add+Div+Erf+Mul", "gelu", 0)]


def _timm_export(tmp_path, name: str, opset: int):
    """(path, input size) of timm's ``name`` exported with ``torch.onnx.export(dynamo=True)`` at ``opset``."""
    import timm

    model = timm.create_model(name).eval()
    size = model.pretrained_cfg["input_size"]
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(model, (torch.randn(1, *size),), str(path), dynamo=True, opset_version=opset)
    return path, size


@pytest.mark.parametrize("opset", [18, 23])
def test_a_vit_and_its_export_are_one_tensorrt_engine(tmp_path, opset, onnx_to_module_ratio):
    """Opset 23 writes attention as one ``Attention`` node, opset 18 as MatMul, Softmax and MatMul with Q and K
    scaled; TensorRT fuses both into one attention kernel (its rewrite's rule 6), as it does the module's captured
    (written-out) attention. Before that rule the opset-23 exports of five timm transformers answered 0.65-0.80x their
    modules under TensorRT (``python benchmarks/onnx_exports.py``)."""
    from hwaware.runtime.tensorrt import fuse

    path, size = _timm_export(tmp_path, "test_vit", opset)
    exported, module = capture(path, precision="fp16"), capture("test_vit", input_size=size, precision="fp16")
    count = [sum(l.kind is LayerKind.ATTENTION for l in fuse(g).kernels()) for g in (exported, module)]
    assert count[0] == count[1] == sum(n.op_type in ("Softmax", "Attention")
                                       for n in onnx.load(str(path)).graph.node) > 0
    for gpu in ("agx", "orin", "nano"):
        assert 0.97 < onnx_to_module_ratio(path, "test_vit", gpu, size) < 1.03, gpu


class _Rolled(nn.Module):
    """A conv, its map rolled by (2, 3) on both spatial axes (a Swin's shifted windows), a conv; ``split``: also a
    concat of two slices of different tensors, which is no roll."""

    def __init__(self, split: bool = False) -> None:
        super().__init__()
        self.a, self.b, self.split = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 1), split

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.roll(self.a(x), shifts=(2, 3), dims=(2, 3))
        if self.split:
            y = torch.cat([y[:, :, 4:], (y + 1)[:, :, :4]], dim=2)
        return self.b(y)


def test_an_exported_roll_is_one_copy_per_axis_and_no_kernel_under_tensorrt(tmp_path):
    """Exporters spell ``torch.roll`` as two Slices and a Concat per axis; read op by op they were three copies the
    TensorRT rewrite keeps (swin_tiny's export 1.27x its module under TensorRT fp16 on the AGX Xavier). Read as one
    roll, a copy like the module's, which the rewrite eliminates; two slices of different tensors stay as written."""
    from hwaware.runtime.tensorrt import fuse

    path = tmp_path / "rolled.onnx"
    torch.onnx.export(_Rolled().eval(), (torch.randn(1, 3, 16, 16),), str(path), dynamo=True, opset_version=18)
    g = capture(path)
    assert [l.aten_name for l in g.layers if l.kind is LayerKind.COPY] == ["roll", "roll"]
    assert not any(l.op in ("onnx.Slice", "onnx.Concat") for l in g.layers)
    assert [l.kind for l in fuse(g).kernels()] == [LayerKind.CONV, LayerKind.CONV]
    path = tmp_path / "split.onnx"
    torch.onnx.export(_Rolled(split=True).eval(), (torch.randn(1, 3, 16, 16),), str(path), dynamo=True,
                      opset_version=18)
    assert sum(l.op == "onnx.Concat" for l in capture(path).layers) == 1


@pytest.mark.parametrize("name", ["test_convnext", "test_convnext2", "test_coatnet"])
def test_a_channels_last_network_and_its_export_are_one_tensorrt_engine(tmp_path, name, onnx_to_module_ratio):
    """ConvNeXt's block ends with a Linear on channels-last tokens, a permute back, its layer scale and the residual
    add. The module's permute is a view the rewrite fuses through; the export's is a Transpose, which until 2026-12-05
    kept the scale and the add out of the dense kernel (convnext_tiny's export 1.09x its module under TensorRT)."""
    from hwaware.runtime.tensorrt import fuse

    path, size = _timm_export(tmp_path, name, 18)
    exported, module = capture(path, precision="fp16"), capture(name, input_size=size, precision="fp16")
    assert len(list(fuse(exported).kernels())) == len(list(fuse(module).kernels()))
    for gpu in ("agx", "orin", "nano"):
        assert 0.97 < onnx_to_module_ratio(path, name, gpu, size) < 1.03, gpu


@pytest.mark.parametrize("gelu", [
    # erf form with x halved first: x * 0.5 is read by the closing product
    [("Mul", ["c", "half"], ["h"]), ("Div", ["c", "root2"], ["d"]), ("Erf", ["d"], ["e"]), ("Add", ["e", "one"], ["a"]),
     ("Mul", ["h", "a"], ["g"])],
    # erf form as the TorchScript exporter writes it
    [("Div", ["c", "root2"], ["d"]), ("Erf", ["d"], ["e"]), ("Add", ["e", "one"], ["a"]), ("Mul", ["c", "a"], ["m"]),
     ("Mul", ["m", "half"], ["g"])],
])
def test_a_product_by_x_after_a_complete_gelu_stays_apart(gelu):
    """x * gelu(x) is a GELU and a product: the dynamo tanh form's rule (its product by x after the 0.5) takes no
    product after a GELU that closed complete (review helper-99)."""
    node = onnx.helper.make_node
    g = capture(_conv_then([*(node(op, i, o) for op, i, o in gelu), node("Mul", ["g", "c"], ["y"])]))
    assert [(l.kind, l.aten_name) for l in g.layers] == [(LayerKind.CONV, "convolution"),
                                                          (LayerKind.ACTIVATION, "gelu"),
                                                          (LayerKind.ELEMENTWISE, "mul")]


def test_a_tanh_gelu_with_its_half_inside_takes_no_product_by_half_after_it():
    """The dynamo form ends with x * (0.5 * ...): a product by 0.5 after it is not GELU's (review helper-100)."""
    h = onnx.helper
    spelling = [("Pow", ["c", "three"], ["p"]), ("Mul", ["k", "p"], ["q"]), ("Add", ["c", "q"], ["r"]),
                ("Mul", ["root2", "r"], ["s"]), ("Tanh", ["s"], ["t"]), ("Add", ["t", "one"], ["u"]),
                ("Mul", ["half", "u"], ["v"]), ("Mul", ["c", "v"], ["g"]), ("Mul", ["g", "half"], ["y"])]
    model = _conv_then([h.make_node(op, ins, outs) for op, ins, outs in spelling])
    model.graph.initializer.extend(onnx.numpy_helper.from_array(np.array(v, np.float32), n)
                                   for n, v in (("three", 3.0), ("k", 0.044715)))
    assert [(l.kind, l.aten_name) for l in capture(model).layers] == [
        (LayerKind.CONV, "convolution"), (LayerKind.ACTIVATION, "gelu"), (LayerKind.ELEMENTWISE, "mul")]


def test_an_onnx_softmax_keeps_its_axis_and_log_softmax_its_name():
    """As a capture records them, so that the TensorRT rewrite's attention fusion reads an export's softmax as it
    reads the module's (review helper-99: every ONNX softmax read as over the last axis, a LogSoftmax as a softmax)."""
    h = onnx.helper
    graph = h.make_graph([h.make_node("Softmax", ["x"], ["s"], axis=1), h.make_node("LogSoftmax", ["s"], ["y"])], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    g = capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]))
    assert [(l.aten_name, l.attrs["dim"]) for l in g.layers] == [("softmax", 1), ("log_softmax", -1)]
    # below opset 13 a Softmax without an axis normalises from axis 1 on, not the last axis alone
    graph = h.make_graph([h.make_node("Softmax", ["x"], ["y"])], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 8])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    assert capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 11)])).layers[0].attrs["dim"] == 1


def test_an_integer_input_size_resizes_a_fixed_size_image_as_a_tuple_does():
    """helper-115: --input 64 on a 1x3x32x32 export answered at 32x32, unsaid, where 3x64x64 was applied."""
    fixed = _one_conv([("x", ["N", 3, 32, 32])])
    assert capture(fixed, input_size=64).layers[0].output_shapes == capture(fixed, input_size=(3, 64, 64)).layers[
        0].output_shapes == ((1, 4, 62, 62),)
    h = onnx.helper  # a non-image input with every dimension fixed: an integer has nowhere to go
    graph = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 16])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    with pytest.raises(InvalidArgumentError, match="fixes every dimension after the batch"):
        capture(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), input_size=8)
    # a channels-last image (tf2onnx, Keras) is no NCHW one: review helper-116 found 32 taken as its channels
    w = onnx.numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32), "w")
    nodes = [h.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]), h.make_node("Conv", ["t", "w"], ["y"])]
    for dims, size, out in ((["N", 32, 32, 3], None, (1, 8, 30, 30)), (["N", "H", "W", 3], 64, (1, 8, 62, 62))):
        nhwc = h.make_model(h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, dims)],
                                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w]),
                            opset_imports=[h.make_opsetid("", 17)])
        assert capture(nhwc, input_size=size).layers[-1].output_shapes == (out,)
    with pytest.raises(InvalidArgumentError, match="fixes every dimension after the batch"):
        capture(h.make_model(h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                                 ["N", 32, 32, 3])],
                                          [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w]),
                             opset_imports=[h.make_opsetid("", 17)]), input_size=32)
