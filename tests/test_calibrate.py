"""``bench/calibrate.py --quick`` as a smoke test on two checks (issue 21), with a false fail and
a wrong pass planted where the test knows exactly on which variants they happen.

- a "correct" submission whose ``one_hot`` shifts the 1 when its input is a single odd label:
  it fails ``one_hot_values`` on the variants whose first case (a batch of one) draws an odd
  label, and only there;
- a "wrong" one whose ``one_hot`` shifts only the public variant's single label: it is caught
  on variant 0 (so the check is its target) and passes wherever the hidden label differs.

The test draws the check's inputs itself, under the calibration secret, to know both counts,
then asserts the report's rows say them; a second run must find everything done (resume).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import run_py

from grader.checks import CHECKS, Context

ROOT = Path(__file__).resolve().parent.parent
CHECK = "onehot_mse::one_hot_values"
OTHER = "he_init::kaiming_uniform_weights"
RIGHT = "    out[torch.arange(y.shape[0], device=y.device), y] = 1.0\n"


def _planted(dest: Path, condition: str) -> Path:
    """The reference with ``one_hot`` shifting the 1 by one column when ``condition`` holds."""
    shutil.copytree(ROOT / "solutions", dest, ignore=shutil.ignore_patterns("__pycache__"))
    path = dest / "ex1_onehot_mse.py"
    text = path.read_text(encoding="utf-8")
    assert text.count(RIGHT) == 1
    path.write_text(text.replace(RIGHT, RIGHT + f"    if {condition}:  # PLANTED\n"
                                        "        out = out.roll(1, dims=1)\n"), encoding="utf-8")
    return dest


def _first_labels(monkeypatch, count: int) -> list[int]:
    """The single label of ``one_hot_values``' first case on variants 0..count-1."""
    import calibrate

    monkeypatch.setenv("PRACTICO_SECRET", calibrate.CALIBRATION_SECRET)
    check = next(c for c in CHECKS if c.id == CHECK)
    labels = []
    for variant in range(count):
        first = check.inputs(Context(variant=variant))["labels"][0]
        assert first.numel() == 1
        labels.append(int(first[0]))
    return labels


def _rows(markdown: str) -> dict[str, list[str]]:
    """The first table's rows by check id."""
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`") and "::" in cells[0]:
            rows.setdefault(cells[0].strip("`"), cells)
    return rows


def _count(cell: str) -> int:
    return int(re.match(r"(\d+)", cell).group(1))


@pytest.fixture(scope="module")
def bench_path():
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    yield
    sys.path.remove(str(ROOT / "bench"))


@pytest.mark.slow
def test_quick_counts_planted_false_fails_and_wrong_passes(bench_path, tmp_path, monkeypatch):
    import calibrate

    labels = _first_labels(monkeypatch, calibrate.QUICK)
    public = labels[0]
    false_fails = sum(label % 2 == 1 for label in labels)
    wrong_passes = sum(label != public for label in labels)
    # the planted cases must be partial, or they would not test the counting
    assert 0 < false_fails < calibrate.QUICK and 0 < wrong_passes < calibrate.QUICK, labels

    single = "y.numel() == 1 and int(y[0]) "
    correct = _planted(tmp_path / "flaky", single + "% 2 == 1")
    wrong = _planted(tmp_path / "public_only", single + f"== {public}")
    out, md = tmp_path / "out", tmp_path / "table.md"
    args = ["bench/calibrate.py", "--quick", "--checks", CHECK, OTHER, "--impls", "reference",
            "--correct", str(correct), "--wrong", f"onehot_mse={wrong}", "--jobs", "1",
            "--out", str(out), "--markdown", str(md)]
    proc = run_py(*args, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # goals not met: planted on purpose
    rows = _rows(md.read_text(encoding="utf-8"))
    assert list(rows) == [CHECK, OTHER]

    row = rows[CHECK]
    assert row[2] == f"{calibrate.QUICK} variants"
    assert _count(row[3]) == 2 * calibrate.QUICK  # the reference and the flaky one
    assert _count(row[4]) == false_fails
    assert _count(row[5]) == calibrate.QUICK  # the planted wrong one, every variant
    assert _count(row[6]) == wrong_passes
    assert _count(rows[OTHER][3]) == 2 * calibrate.QUICK
    assert _count(rows[OTHER][4]) == 0 and _count(rows[OTHER][5]) == 0

    text = proc.stdout
    first_odd = next(v for v, label in enumerate(labels) if label % 2)
    assert f"FALSE FAIL correct:flaky variant {first_odd}: onehot_wrong_position" in text
    assert re.search(r"LOW wrong:public_only +onehot_mse +caught on "
                     rf"{calibrate.QUICK - wrong_passes}/{calibrate.QUICK}", text), text
    kaiming = text.split(OTHER, 1)[1].split("\n")[1:5]
    assert [line.split(" (worst layer)")[0].strip() for line in kaiming] == [
        "max|w| / bound", "fill n(1 - max|w|/bound), n >= 200",
        "|std / (bound/sqrt 3) - 1|, n >= 400", "KS distance x sqrt(n), n >= 400"]
    assert "goals: zero false fails NOT met" in text
    # a "|" inside a statistic's name is escaped in the markdown, or it splits the table's cell
    assert f"| `{OTHER}` | max\\|w\\| / bound (worst layer) | <= " in md.read_text(encoding="utf-8")

    results = out / calibrate.RESULTS
    lines = results.read_text(encoding="utf-8").count("\n")
    assert lines == 2 * 2 * calibrate.QUICK + calibrate.QUICK  # 2 correct x 2 checks + wrong
    again = run_py(*args, timeout=600)
    assert again.returncode == 1
    assert results.read_text(encoding="utf-8").count("\n") == lines  # nothing run again
    assert _rows(md.read_text(encoding="utf-8")) == rows


def test_upper_bound_is_clopper_pearson(bench_path):
    from calibration_report import rate_text, upper_bound

    assert upper_bound(0, 200) == pytest.approx(0.01487, abs=1e-5)  # about 3 / 200
    assert upper_bound(0, 20) == pytest.approx(0.1391, abs=1e-4)
    # k > 0: P(X <= k) = 0.05 at the bound, for a binomial at it
    from math import comb

    p = upper_bound(3, 200)
    assert sum(comb(200, k) * p**k * (1 - p) ** (200 - k) for k in range(4)) == pytest.approx(
        0.05, abs=1e-6)
    assert upper_bound(5, 5) == 1.0
    assert rate_text(0, 200) == "0 (< 1.5 %)"
    assert rate_text(2, 200).startswith("2 = 1 % (<")


def test_statistic_summaries_and_contradictions(bench_path):
    import math

    from calibration_report import StatSummary, disagrees

    acc = StatSummary("accuracy", ">=", 0.9, "accuracy_low", correct=[0.94, 0.96, 0.95])
    assert acc.closest_correct() == 0.94
    assert acc.z() == pytest.approx((0.95 - 0.9) / 0.01)
    ratio = StatSummary("ratio", ">=", 5.0, "norms_no_growth", log=True, correct=[10.0, 40.0])
    sd = math.sqrt(2) * math.log(2)  # of log 10 and log 40
    assert ratio.z() == pytest.approx((math.log(20) - math.log(5)) / sd)
    assert StatSummary("bound", "<=", 1.0, None, hard=True, correct=[0.9, 1.0]).z() is None
    assert StatSummary("c", "<=", 1.0, None, correct=[0.5, 0.5]).z() == math.inf

    def rec(status: str, key: str, *stats: tuple[float, str]) -> dict:
        return {"status": status, "key": key,
                "stats": [["s", v, ">=", 0.5, k, False, False, False] for v, k in stats]}

    assert not disagrees(rec("passed", "", (0.6, "low")))
    assert disagrees(rec("passed", "", (0.4, "low")))  # passed beyond its limit
    assert not disagrees(rec("failed", "low", (0.4, "low")))
    assert disagrees(rec("failed", "low", (0.6, "low")))  # failed for it, yet inside
    assert not disagrees(rec("failed", "other", (0.6, "low")))  # failed for another reason


@pytest.mark.slow  # imports every check module and copies grader/ (37 s at load 30)
def test_a_change_to_one_check_module_reruns_only_its_checks(bench_path, tmp_path):
    """``code_keys``: the results of a check are reused only for the same code; editing one
    check module changes the keys of the checks that use it, editing a shared one all keys."""
    import calibrate

    from grader.scoring import checks_for

    copy = tmp_path / "kit"
    shutil.copytree(ROOT / "grader", copy / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "bench").mkdir()
    shutil.copy(ROOT / "bench" / "calibration_stats.py", copy / "bench")
    checks = checks_for()
    before = calibrate.code_keys(checks, "s" * 16, copy)
    assert before == calibrate.code_keys(checks, "s" * 16, ROOT)
    assert before != calibrate.code_keys(checks, "t" * 16, copy)  # other secret, other runs

    def edited(name: str) -> set[str]:
        path = copy / "grader" / "checks" / name
        original = path.read_text(encoding="utf-8")
        path.write_text(original + "\n# edited\n", encoding="utf-8")
        after = calibrate.code_keys(checks, "s" * 16, copy)
        path.write_text(original, encoding="utf-8")
        return {c for c in before if before[c] != after[c]}

    def defined_in(*modules: str) -> set[str]:
        return {c.id for c in checks if type(c).__module__.rsplit(".", 1)[1] in modules}

    assert edited("probe_stats.py") == defined_in("probe_stats")
    # weight_stats is imported by the init checks' modules and by probe_stats
    assert edited("weight_stats.py") == defined_in("init_schemes", "he_init", "probe_stats")
    assert edited("replay.py") == defined_in("lr_sweep", "exploding")
    assert edited("expect.py") == set(before)
