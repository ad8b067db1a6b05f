"""Which networks train the per-layer models and which are held out, by whole timm family.

A family is the timm module that defines a model (``efficientnet`` holds EfficientNet, MobileNetV2,
MnasNet, MixNet ...). Held-out families contribute no layer to training and no tuning decision; the
whole-network accuracy of the CPU estimator is reported on them only.
"""
from __future__ import annotations

import functools

HELD_OUT_FAMILIES: tuple[str, ...] = ("regnet", "densenet", "ghostnet", "dla", "rexnet", "vovnet", "hardcorenas",
                                      "selecsls", "res2net")

# Whole networks measured on the CPU at batch 1 (default timm input size): training families first.
TRAIN_NETWORKS: tuple[str, ...] = (
    "resnet18", "resnet26", "resnet34", "resnet50", "resnet18d", "resnet26d", "resnet34d", "seresnet18",
    "seresnet34", "seresnet50", "ecaresnet26t", "resnext26ts", "wide_resnet50_2", "efficientnet_b0",
    "efficientnet_b1", "efficientnet_lite0", "mobilenetv2_050", "mobilenetv2_100", "mobilenetv2_140",
    "mnasnet_100", "semnasnet_100", "spnasnet_100", "fbnetc_100", "mixnet_s", "tinynet_a", "tinynet_c",
    "mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv3_small_050", "lcnet_100", "convnext_atto",
    "convnext_femto", "convnext_pico", "inception_v3", "vgg11", "vgg13_bn", "cspresnet50", "cs3darknet_s",
    "skresnet18", "dpn48b",
)
HELD_OUT_NETWORKS: tuple[str, ...] = (
    "regnetx_002", "regnetx_004", "regnetx_006", "regnetx_008", "regnetx_016", "regnetx_032", "regnety_002",
    "regnety_004", "regnety_006", "regnety_008", "regnety_016", "densenet121", "densenet169", "densenet201",
    "densenetblur121d", "ghostnet_050", "ghostnet_100", "ghostnet_130", "dla34", "dla46_c", "dla46x_c", "dla60x_c",
    "dla60", "rexnet_100", "rexnet_130", "rexnet_150", "rexnetr_100", "ese_vovnet19b_dw", "ese_vovnet19b_slim_dw",
    "hardcorenas_a", "hardcorenas_b", "hardcorenas_c", "hardcorenas_d", "selecsls42b", "regnety_032", "dla102",
    "res2net50_14w_8s", "res2net50_26w_4s",
)


@functools.cache
def _model_to_family() -> dict[str, str]:
    import timm

    return {m: module for module in timm.list_modules() for m in timm.list_models(module=module)}


def timm_family(model: str) -> str:
    """The timm module defining ``model`` (``"mobilenetv2_100"`` -> ``"efficientnet"``)."""
    return _model_to_family().get(model.split(".")[0], model)


def is_held_out(model: str) -> bool:
    return timm_family(model) in HELD_OUT_FAMILIES


def layer_split(samples: list, seed: int = 0, test_share: float = 0.2) -> tuple[list, list]:
    """(train, test) of layer samples: per layer kind, a seeded permutation of the samples sorted by id;
    ``test_share`` of each kind is the test split, never used for training or any choice."""
    import numpy as np

    by_kind: dict = {}
    for s in sorted(samples, key=lambda s: s.sample_id):
        by_kind.setdefault(s.layer.kind.value, []).append(s)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for kind in sorted(by_kind):
        rows = by_kind[kind]
        order = rng.permutation(len(rows))
        n_test = int(round(test_share * len(rows)))
        test += [rows[i] for i in order[:n_test]]
        train += [rows[i] for i in order[n_test:]]
    return train, test
