"""The accuracy tables of the README and of docs/ (``DOCUMENTS``: read as one text, so a table's header names it once
across them) equal the committed results files they name, so that neither can drift; their links resolve.

A table is registered in :data:`TABLES` as a :class:`Table`:

* ``header``: the README table's header line, exactly as written (it identifies the table);
* ``source``: the results file, from the repository root; the README must name it (in backticks) in the
  paragraph just above the table;
* ``rows``: a function of the source's path returning ``{key: cells}``, each row's cells formatted exactly as the
  README writes them, the key being its first ``key_cells`` cells. Every README row must equal the source's row
  of the same key (a README may show a subset of the source's rows: ``all_rows=False``).

For a Markdown source whose table has the same header, ``rows=md_rows(header, key_cells)`` reads it. To register
the GPU table, add e.g.::

    Table(header="| column | MAPE | ... |", source="benchmarks/results/gpu/train.json",
          rows=lambda path: {c: [f"{m['mape'] * 100:.1f} %", ...]
                             for c, m in json.loads(path.read_text())["candidates"][...]["test"].items()})

and the test covers it. After a re-run changes a results file, this test fails until the README is updated.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
Rows = dict[tuple[str, ...], list[str]]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_table(text: str, header: str) -> tuple[str, list[list[str]]]:
    """(the paragraph above the table, its body rows as cells) of the table whose header line is ``header``."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == header.strip()]
    if len(starts) != 1:
        raise AssertionError(f"{len(starts)} tables with the header {header!r}")
    i = starts[0]
    above = []
    for line in reversed(lines[:i]):
        if not line.strip() and above:
            break
        above.insert(0, line)
    body = []
    for line in lines[i + 2:]:  # skip the |---| line
        if not line.strip().startswith("|"):
            break
        body.append(_cells(line))
    return "\n".join(above), body


def md_rows(header: str, key_cells: int = 1) -> Callable[[Path], Rows]:
    def rows(path: Path) -> Rows:
        body = markdown_table(path.read_text(), header)[1]
        keyed = {tuple(r[:key_cells]): r[key_cells:] for r in body}
        assert len(keyed) == len(body), f"{path.name}: a row key repeats in the table under {header[:40]!r}"
        return keyed

    return rows


@dataclass(frozen=True)
class Table:
    header: str
    source: str
    rows: Callable[[Path], Rows]
    key_cells: int = 1
    all_rows: bool = True


CPU_ESTIMATORS = {"resperfnet": "ResPerfNet (default for `gpu=\"cpu\"`), calibrated (form chosen after these results "
                                "were seen, see below)",
                  "resperfnet_uncalibrated": "ResPerfNet without the calibration (a = 1, c = d = e = 0)",
                  "roofline": "roofline (peak/bandwidth from the training layers)", "flops_linear": "FLOPs-linear"}


def cpu_wholenet_rows(path: Path) -> Rows:
    held = json.loads(path.read_text())["networks"]["held_out"]
    return {(label,): [f"{held[k]['mape'] * 100:.1f} %", f"{held[k]['within10'] * 100:.1f} %",
                       f"{held[k]['kendall']:.3f}", f"{held[k]['spearman']:.3f}"] for k, label in CPU_ESTIMATORS.items()}


def cpu_space_rows(path: Path) -> Rows:
    spaces = json.loads(path.read_text())["spaces"]
    return {(sp,): [str(int(v["resperfnet"]["n"])), f"{v['median_measured_ms']:.2f}",
                    f"{v['resperfnet']['mape'] * 100:.1f} %", f"{v['resperfnet']['spearman']:.3f}",
                    f"{v['resperfnet_uncalibrated']['mape'] * 100:.1f} %", f"{v['resperfnet_uncalibrated']['spearman']:.3f}",
                    f"{v['roofline']['mape'] * 100:.1f} %", f"{v['kernels_with_a_trained_layer_group'] * 100:.0f} %"]
            for sp, v in spaces.items()}


IPC_TREE = ("| family | val MAPE | test MAPE | test within ±10 % | test R² (IPC) | test adj. R² "
            "| CV MAPE | test interval coverage (90 %) | train s | paper MAPE | paper R² | paper adj. R² |")
def cpu_calibration_rows(path: Path) -> Rows:
    doc = json.loads(path.read_text())
    forms = {**doc["candidates"], f"previous rule: {doc['previous_rule']['form']} (timm only)": doc["previous_rule"]}
    return {(f,): [f"{v['leave_one_group_out_mape']:.1f} %",
                   " / ".join(f"{m:.1f} %" for m in v["leave_one_group_out_mape_by_batch"].values()),
                   f"{v['held_out_families']['mape'] * 100:.1f} %",
                   *(f"{v[sp + ' (seed 1)']['mape'] * 100:.1f} %" for sp in ("nb201", "fbnet", "ofa_mbv3")),
                   f"{v['scale']:.3f}", f"{v['overhead_ms_per_kernel'] * 1e3:.1f}", f"{v['overhead_ms_per_mb'] * 1e3:.1f}",
                   f"{v['overhead_ms_per_mb_pow'] * 1e3:.1f}", f"{v['overhead_exponent']:g}",
                   f"{v.get('overhead_mb_cap', 0.0):g}"]
            for f, v in forms.items()}


CPU_CALIBRATION = ("| calibration form | leave-one-group-out CV MAPE | CV MAPE at batch 1 / 4 / 16 "
                   "| held-out families MAPE | NB201 MAPE | FBNet MAPE | OFA MAPE | a | µs per kernel | µs per MB | µs × MB^α "
                   "| α | cap (MB) |")
CPU_SPACES = ("| space | networks | median measured ms | calibrated MAPE | calibrated ρ | uncalibrated MAPE | "
              "uncalibrated ρ | roofline MAPE | kernels in trained layer groups |")
LAYERS_MAIN = "| kind | phase | MAPE % (per_kind) | MAPE % (conditioned) | RMSE ms | MAE ms | n | paper Table 5 MAPE % |"
LAYERS_BASELINES = "| kind | ResPerfNet (shipped) | XGBoost | SVR (RBF) | polynomial (deg 2) |"
CPU_CANDIDATES = "| candidate | val exe MAPE % | held-out networks MAPE % (calibrated) | (uncalibrated) |"
GPU_SUMMARY = ("| held-out set | columns | MAPE | within ±10 % | Spearman ρ | 10-shot MAPE | 10-shot within ±10 % | "
               "10-shot ρ | own setup MAPE | own setup within ±10 % | roofline MAPE | MACs-linear MAPE |")
GPU_HELP = ("| test column | n | 10-shot ρ (HELP: 0.987 on titan_rtx_256) | 10-shot MAPE | within ±10 % | "
            "zero-shot ρ | profile terms | scale-and-kernel profile ρ / MAPE | device-and-host profile ρ / MAPE | "
            "linear forms only ρ / MAPE | forms before the per-call ones ρ / MAPE | best agreement ρ |")
GPU_EXPECTED = "| GPU | regime | expected MAPE | with 10 measurements (hwaware calibrate) | 90 % interval |"
GPU_TARGETS = "| columns | n | as users predict | after 10 shots | own setup |"
GPU_KERNELS = ("| held-out GPU | kernel columns | zero-shot MAPE | within ±10 % | Spearman ρ | answer / measured | "
               "roofline MAPE | same chip trains |")
GPU_FLOORS = ("| model | GPU_VAL loss (chooses) | GPU_TEST loss | GPU_TEST median MAPE over network columns "
              "| training rows under their floor before it | kernel head's output range (log) |")
GPU_SEEDS = "| stage (rule) | recipe | what the rule reads | per seed | mean | GPU_TEST mean | picked |"
GPU_RESULTS = "benchmarks/results/gpu_accuracy.md"  # written by `python benchmarks/gpu_accuracy.py`
LEADERBOARD = "| method | space | columns | MAPE | ±10 % | Kendall τ | Spearman ρ | predict ms/net | train s |"
CPU_HOST = "| test networks | n | zero-shot MAPE (median answer / measured) | run 1 | run 2 | run 3 |"
CPU_SAME = "| pair | networks | n | median | 10th-90th percentile |"
CPU_ROUNDS = ("| profile | nb201 (19) MAPE / within ±10 % / ρ | fbnet (40) MAPE / within ±10 % / ρ | ofa_mbv3 (40) "
              "MAPE / within ±10 % / ρ | timm (38) MAPE / within ±10 % / ρ |")
CPU_BATCHES = "| networks | n | MAPE | within ±10 % | Spearman ρ | median predicted / measured | scaling |"
CPU_ROUNDS_RULE = ("| candidate | worst NAS-space MAPE per profile | median (the rule's score) | suite's slowest / "
                   "fastest time across its runs, median / max |")
TABLES = [
    Table(GPU_SUMMARY, GPU_RESULTS, md_rows(GPU_SUMMARY)),
    Table(GPU_HELP, GPU_RESULTS, md_rows(GPU_HELP)),
    Table(GPU_EXPECTED, GPU_RESULTS, md_rows(GPU_EXPECTED)),
    Table(GPU_TARGETS, GPU_RESULTS, md_rows(GPU_TARGETS)),
    Table(GPU_KERNELS, GPU_RESULTS, md_rows(GPU_KERNELS)),
    Table(GPU_FLOORS, GPU_RESULTS, md_rows(GPU_FLOORS)),
    Table(GPU_SEEDS, GPU_RESULTS, md_rows(GPU_SEEDS, 3), key_cells=3),
    # written by `python benchmarks/leaderboard.py`
    Table(LEADERBOARD, "benchmarks/results/leaderboard/leaderboard.md", md_rows(LEADERBOARD, 2), key_cells=2),
    Table("| estimator | MAPE | within ±10 % | Kendall τ | Spearman ρ |", "benchmarks/results/cpu_wholenet.json",
          cpu_wholenet_rows),
    Table(LAYERS_MAIN, "benchmarks/results/resperfnet_layers.md", md_rows(LAYERS_MAIN, 2), key_cells=2, all_rows=False),
    Table(LAYERS_BASELINES, "benchmarks/results/resperfnet_layers.md", md_rows(LAYERS_BASELINES), all_rows=False),
    Table(CPU_CANDIDATES, "benchmarks/results/resperfnet_layers.md", md_rows(CPU_CANDIDATES)),
    Table(CPU_SPACES, "benchmarks/results/cpu_wholenet.json", cpu_space_rows),
    Table(CPU_CALIBRATION, "benchmarks/results/cpu_calibration.json", cpu_calibration_rows),
    Table(IPC_TREE, "benchmarks/results/ipc_tree.md", md_rows(IPC_TREE)),  # OMP_NUM_THREADS=1 python scripts/train_ipc_tree.py
    # python benchmarks/cpu_host_profile.py (the docs show the declared test sets' rows)
    Table(CPU_HOST, "benchmarks/results/cpu_host_profile.md", md_rows(CPU_HOST), all_rows=False),
    Table(CPU_SAME, "benchmarks/results/cpu_host_profile.md", md_rows(CPU_SAME, 2), key_cells=2),
    Table(CPU_ROUNDS, "benchmarks/results/cpu_here_rounds.md", md_rows(CPU_ROUNDS)),
    Table(CPU_ROUNDS_RULE, "benchmarks/results/cpu_here_rounds.md", md_rows(CPU_ROUNDS_RULE)),
    Table(CPU_BATCHES, "benchmarks/results/cpu_batches.md", md_rows(CPU_BATCHES)),  # python benchmarks/cpu_batches.py
]


DOCUMENTS = ("README.md", "docs/how-it-works.md", "docs/accuracy.md")


@pytest.fixture(scope="module")
def readme() -> str:
    return "\n".join((ROOT / d).read_text() for d in DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_relative_link_resolves(document):
    """The README's summary sends readers to docs/ and back: a link to a moved or renamed file fails here."""
    path = ROOT / document
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    relative = [link for link in links if "://" not in link]
    assert relative, f"{document} links nothing: the check would pass vacuously"
    missing = [link for link in relative if not (path.parent / link).exists()]
    assert not missing, f"{document} links to missing files: {missing}"


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.header[:40])
def test_readme_table_matches_its_results_file(readme, table):
    above, body = markdown_table(readme, table.header)
    assert f"`{table.source}`" in above, f"the paragraph above the table must name `{table.source}`"
    expected = table.rows(ROOT / table.source)
    shown = {tuple(r[:table.key_cells]): r[table.key_cells:] for r in body}
    assert shown, "empty table"
    assert len(shown) == len(body), "a README row key repeats: the dict would check only its last row"
    for key, cells in shown.items():
        assert key in expected, f"README row {key} is not in {table.source}"
        assert cells == expected[key], f"README row {key}: {cells} != {table.source}: {expected[key]}"
    if table.all_rows:
        assert set(shown) == set(expected), f"rows missing from the README: {set(expected) - set(shown)}"


def test_the_gpu_tables_are_the_shipped_weights(readme):
    """The README's GPU tables come from gpu_accuracy.md: it must name the weights and data that ship, or the tables
    describe other weights (tests/test_resperfnet_gpu.py checks gpu_accuracy.json the same way)."""
    from hwaware.estimators.resperfnet_gpu import ResPerfNetGPUEstimator

    est = ResPerfNetGPUEstimator(cache=False)
    _, meta = est._loaded()
    named = f"weights {est.weights_id_}, data sha256 {meta['provenance']['data_sha256'][:16]}."
    assert named in (ROOT / GPU_RESULTS).read_text(), "re-run python benchmarks/gpu_accuracy.py"


def test_gpu_accuracy_md_is_its_json_written_out(repo_script):
    """gpu_accuracy.md (what the README's GPU tables are checked against) is ``markdown`` of gpu_accuracy.json (what
    tests/test_resperfnet_gpu.py recomputes from the weights): neither file edited or regenerated without the other."""
    bench = repo_script("benchmarks/gpu_accuracy.py")
    report = json.loads((ROOT / GPU_RESULTS).with_suffix(".json").read_text())
    assert bench.markdown(report) == (ROOT / GPU_RESULTS).read_text(), "re-run python benchmarks/gpu_accuracy.py"


def test_readme_counts_the_held_out_networks_and_families(readme):
    rec = json.loads((ROOT / "benchmarks" / "results" / "cpu_wholenet.json").read_text())
    n = int(rec["networks"]["held_out"]["resperfnet"]["n"])
    assert rec["held_out_families"] == sorted(rec["declared_held_out_families"])
    assert re.search(rf"\b{n} networks from {len(rec['held_out_families'])} timm families\b", readme)


def test_readme_prediction_speed_is_the_committed_run():
    """The README's speed paragraph quotes benchmarks/results/prediction_speed.txt (helper-117 found it quoting a
    superseded run): its load, commit, resnet50 rows and candidate rates, as the file writes them."""
    text = (ROOT / "benchmarks" / "results" / "prediction_speed.txt").read_text()
    start = (ROOT / "README.md").read_text().index("How fast (`python benchmarks/prediction_speed.py`")
    para = " ".join((ROOT / "README.md").read_text()[start:].split("\n\n")[0].split())

    def row(label: str) -> float:
        return float(re.search(rf"^{re.escape(label)}\s+([\d.]+) ms", text, re.M).group(1))

    found = re.findall(r"^(nb201|fbnet|ofa_mbv3|mobilenetv3)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", text, re.M)
    first, rates = ({name: r[k] for name, *r in found} for k in (0, 1))  # a space's first batch; then 1 thread
    assert sorted(rates) == ["fbnet", "mobilenetv3", "nb201", "ofa_mbv3"]
    load = float(re.search(r"^load average before: \['([\d.]+)'", text, re.M).group(1))
    commit = re.search(r"^code commit (\w+)", text, re.M).group(1)
    assert f"load {load:.1f}, code {commit}" in para
    assert f"takes {row('resnet50 captured, warm, agx'):.1f} ms on the AGX Xavier" in para
    assert (f"RTX 4090 {row('resnet50 captured, warm, 4090, fp16, tensorrt'):.1f} ms, at batch 64 "
            f"{row('resnet50 captured, warm, 4090, fp16, tensorrt, 64'):.1f} ms") in para
    assert f"{float(rates['fbnet']):.1f} for FBNet and {float(rates['nb201']):.1f} for NB201" in para
    assert f"{float(rates['ofa_mbv3']):.1f} for OFA" in para
    assert f"{float(rates['mobilenetv3']):.1f} for MobileNetV3" in para
    assert f"the first 40 NB201 candidates in a process ran at {float(first['nb201']):.1f} per second" in para
    assert f"FBNet's at {float(first['fbnet']):.1f}" in para
