"""Marks are earned, and the same everywhere (issue 10: "marks for nothing", "correct work
marked wrong").

- Imports between a student's own ``ex*.py`` files, at the top or inside a function, resolve
  to that student's folder under every command (``pytest exercises --impl``, ``grade``,
  ``experiments``), whatever else ``sys.path`` and ``sys.modules`` hold.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import types
from pathlib import Path

import pytest
from conftest import ROOT, run_py
from patching import build

from grader.impl import DirImpl

SOLUTIONS = ROOT / "solutions"
SIBLING = ROOT / "fixtures" / "alt_variants" / "he_imports_sibling_in_init" / "ex5_init.py.diff"
IMPORT_LINE = "        from ex4_activations import DeepMLPR  # the ReLU net of exercise 4, reused\n"
USE = "self.net = DeepMLPR(in_dim"


def sibling_source(how: str) -> str:
    """The alt_variants fixture (DeepMLPI built on ex4's DeepMLPR), importing it ``how``."""
    _, text = build(SIBLING, SOLUTIONS)
    assert IMPORT_LINE in text and USE in text
    if how == "from_import_in_init":
        return text
    if how == "import_module_in_init":
        return text.replace(IMPORT_LINE, "        import ex4_activations\n").replace(
            USE, "self.net = ex4_activations.DeepMLPR(in_dim")
    if how == "dunder_import_in_init":
        return text.replace(IMPORT_LINE, "").replace(
            USE, 'self.net = __import__("ex4_activations").DeepMLPR(in_dim')
    if how == "top_level_import":
        head, sep, rest = text.partition("import torch\n")
        return head + sep + "from ex4_activations import DeepMLPR\n" + rest.replace(
            IMPORT_LINE, "")
    raise ValueError(how)


def submission(folder: Path, how: str = "from_import_in_init") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SOLUTIONS.glob("ex*.py"):
        shutil.copy(path, folder / path.name)
    (folder / "ex5_init.py").write_text(sibling_source(how), encoding="utf-8")
    return folder


HOWS = ["from_import_in_init", "import_module_in_init", "dunder_import_in_init",
        "top_level_import"]


@pytest.mark.parametrize("how", HOWS)
def test_sibling_imports_resolve_to_the_students_folder(how, tmp_path, monkeypatch):
    """A decoy ``ex4_activations`` first on sys.path and another in sys.modules (what pytest
    and a second implementation leave around) never stand in for the student's own file."""
    sub = submission(tmp_path / "sub", how)
    decoy_dir = tmp_path / "decoy"
    decoy_dir.mkdir()
    (decoy_dir / "ex4_activations.py").write_text("raise ImportError('the decoy on sys.path')\n")
    monkeypatch.syspath_prepend(str(decoy_dir))
    decoy = types.ModuleType("ex4_activations")
    monkeypatch.setitem(sys.modules, "ex4_activations", decoy)

    impl = DirImpl(sub)
    net = impl.get("ex5_init").DeepMLPI(20, 3, 8, 2)
    assert Path(type(net.net).forward.__code__.co_filename) == sub / "ex4_activations.py"
    # the same module object the task checks of ex4 get: one copy per implementation
    assert type(net.net) is impl.get("ex4_activations").DeepMLPR
    assert sys.modules["ex4_activations"] is decoy  # left as it was


def test_a_missing_sibling_is_an_import_error_not_someone_elses_file(tmp_path, monkeypatch):
    sub = submission(tmp_path / "sub")
    (sub / "ex4_activations.py").unlink()
    monkeypatch.syspath_prepend(str(ROOT / "solutions"))  # a complete ex4 elsewhere
    cls = DirImpl(sub).get("ex5_init").DeepMLPI
    with pytest.raises(ImportError, match="no ex4_activations.py in the submission"):
        cls(20, 3, 8, 2)


def test_circular_sibling_imports_work(tmp_path):
    (tmp_path / "ex8_a.py").write_text("import ex9_b\nVALUE = 1\ndef get():\n"
                                       "    return ex9_b.other()\n")
    (tmp_path / "ex9_b.py").write_text("import ex8_a\ndef other():\n    return ex8_a.VALUE + 1\n")
    assert DirImpl(tmp_path).get("ex8_a").get() == 2


@pytest.mark.slow
def test_one_verdict_under_pytest_grade_and_experiments(tmp_path):
    """The fixture that imports ex4 inside DeepMLPI.__init__ keeps he_init's full marks under
    all three commands (before: 0/10 under pytest --impl OTHER, which loaded exercises/'s
    stub, 0/10 under grade and a ModuleNotFoundError in experiments)."""
    sub = submission(tmp_path / "sub")
    res = run_py("-m", "pytest", "exercises/test_ex5_init.py", "--impl", str(sub), "-k",
                 "he_init", "-p", "no:cacheprovider", "-q")
    assert re.search(r"he_init\s+10/10", res.stdout), res.stdout[-2000:]

    out = tmp_path / "grade.json"
    res = run_py("-m", "grader", "grade", str(sub), "--tasks", "he_init", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(out.read_text())["tasks"]["he_init"]["score"] == 10

    from grader.experiments import Progress
    from grader.experiments.catalogue import EXPERIMENTS
    from grader.experiments.harness import Run, make_budget, run_experiment

    report = tmp_path / "report"
    report.mkdir()
    run = Run(DirImpl(sub), report, make_budget(quick=True), "cpu", "en",
              Progress(1, enabled=False))
    rec = run_experiment(run, next(e for e in EXPERIMENTS if e.id == "he_init"))
    assert rec.issues == [], rec.issues
    assert rec.status == "ok"


# ------------------------------------------------------------------ marks for nothing


@pytest.mark.parametrize("kind", ["mse", "ce"])
def test_loop_validation_net_spreads_its_predictions(kind):
    """The frozen net of the loop checks gives examples different classes, so a val_acc that
    compares (B,) with (B, 1) (a (B, B) table) differs from the real one, in every batch."""

    from grader.checks import Context
    from grader.checks.loops import BATCH, CELosses, MSELosses

    check = MSELosses() if kind == "mse" else CELosses()
    inp = check.inputs(Context())
    X, y = inp["X_val"], inp["y_val"]
    pred = (X.reshape(X.shape[0], -1) @ inp["weight"].T + inp["bias"]).argmax(dim=1)
    assert len(set(pred.tolist())) >= 5
    acc = float((pred == y).double().mean())
    assert 0.2 < acc < 0.9
    for start in range(0, X.shape[0], BATCH):
        p, t = pred[start:start + BATCH], y[start:start + BATCH]
        broadcast = float((p == t.view(-1, 1)).double().mean())
        assert abs(broadcast - float((p == t).double().mean())) > 1e-3


def test_accuracy_range_allows_argmax_ties_only():
    import torch

    from grader.checks.learning import accuracy_range

    out = torch.tensor([[1.0, 1.0, 0.0],     # a tie between 0 and 1, label 1: possibly right
                        [0.0, 2.0, 1.0],     # clear, label 1: surely right
                        [3.0, 0.0, 3.0 - 1e-9],  # a tie within rounding, label 2: possible
                        [0.0, 0.0, 5.0]])    # clear, label 0: wrong
    y = torch.tensor([1, 1, 2, 0])
    assert accuracy_range(lambda x: x, out, y) == (0.25, 0.75)


@pytest.mark.slow
def test_uniform_check_tells_a_clamped_normal_from_the_uniform():
    import math

    import torch

    from grader.checks.weight_stats import fits_uniform, guess_scheme

    gen = torch.Generator().manual_seed(5)
    for fan_in, fan_out in ((784, 64), (64, 64), (100, 128)):
        bound = math.sqrt(6.0 / fan_in)
        for _ in range(20):  # the real kaiming_uniform_ always fits
            w = torch.empty(fan_out, fan_in)
            torch.nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=gen)
            assert fits_uniform(w, bound)
        w = torch.empty(fan_out, fan_in)
        torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=gen)
        w.clamp_(-bound, bound)
        assert not fits_uniform(w, bound)
        assert "clipped" in guess_scheme(w)
