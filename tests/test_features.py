import pytest
from torch import nn

import hwaware
from hwaware.features import FEATURE_NAMES, network_features
from hwaware.graph import capture


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        y = self.bn(self.c1(x)).relu()
        y = self.c2(y) + y
        return self.fc(y.mean((2, 3)))


def test_tiny_network_features_by_hand():
    f = network_features(capture(Tiny(), input_size=(3, 6, 6), batch_size=2))
    assert f.params == 108 + 8 + 36 + 25
    assert f.params_by_kind == {"conv": 108, "norm": 8, "depthwise_conv": 36, "activation": 0, "elementwise": 0,
                                "global_pool": 0, "dense": 25}
    assert f.macs == 144 * 27 + 144 * 9 + 20  # per image
    # weighted neurons: conv outputs x (k_h k_w C_in/groups) + dense outputs, per image
    assert f.weighted_neurons == 144 * 27 + 144 * 9 + 5
    # activations: outputs of conv, bn, relu, dwconv, add (144 each), pool (4), fc (5)
    assert f.activations == 5 * 144 + 4 + 5
    assert f.depth == 3  # c1 -> c2 -> fc
    assert (f.batch_size, f.input_channels, f.input_height, f.input_width) == (2, 3, 6, 6)
    assert f.layers_by_kind["conv"] == 1 and f.layers_by_kind["depthwise_conv"] == 1


def test_feature_vector_has_a_fixed_order():
    d = hwaware.features("resnet18").as_dict()
    assert tuple(d) == FEATURE_NAMES
    assert d["params"] == 11689512 and d["depth"] == 18


@pytest.mark.parametrize("name", ["resnet50", "mobilenetv2_100", "densenet121"])
def test_activations_match_timm_published_macts(name, timm_reference):
    """timm's infer_macts (fvcore) counts conv/linear outputs; ours counts every kernel's outputs."""
    g = capture(name)
    conv_dense_outputs = sum(l.output_elements for l in g.layers if l.macs) / 1e6
    assert conv_dense_outputs == pytest.approx(timm_reference[(name, 224)].macts_m, rel=0.02)
    assert network_features(g).activations > conv_dense_outputs
