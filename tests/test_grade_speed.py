"""What makes ``grade`` fast, checked for what it must not change (README, "Grading speed").

Speed itself is measured in ``bench/grading.py``, never asserted here. These tests hold the
means to their promises: the same verdicts, the same data, nothing heavy at start-up.

One submission over two children: ``grade`` hands a submission's modules to two children at once (``SandboxOptions.children``,
``grader.sandbox.supervisor.split_by_module``). Every decision that spans checks (a module
whose import kills the child, one timeout per task at most) stays inside one child because
a group is made of whole modules. Here real children grade submissions that time out,
crash at import and are merely wrong, once with one child and once with two, and every
score, status and message must be the same.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, sandbox_grade
from patching import build

from grader.outputs.results import to_json_dict
from grader.sandbox.limits import SandboxOptions
from grader.sandbox.supervisor import Sandbox, split_by_module
from grader.scoring import checks_for

#: modules ex0 (viewer), ex3 (parity) and ex5 (three tasks): cheap, and three ways to lose
TASKS = ["test_viewer", "deep_net", "init_schemes", "probe_stats"]


def _groups(children: int, task_ids=None) -> list[list[str]]:
    checks = checks_for(task_ids)
    return [[checks[i].module for i in group]
            for group in split_by_module(checks, list(range(len(checks))), children)]


def test_groups_hold_whole_modules_in_the_checks_order():
    checks = checks_for()
    for children in (1, 2, 3, 7, 50):
        groups = split_by_module(checks, list(range(len(checks))), children)
        assert 1 <= len(groups) <= min(children, len({c.module for c in checks}))
        assert sorted(i for g in groups for i in g) == list(range(len(checks)))
        owners = {}
        for number, group in enumerate(groups):
            assert group == sorted(group)  # each child runs its checks in the usual order
            for i in group:
                assert owners.setdefault(checks[i].module, number) == number


def test_the_two_long_mnist_runs_go_to_different_children():
    # ex1's and ex2's 2 × 30,000-image runs are most of the work (README, "Grading speed").
    a, b = _groups(2)
    assert ("ex1_onehot_mse" in a) != ("ex1_onehot_mse" in b)
    assert ("ex2_cross_entropy" in a) != ("ex2_cross_entropy" in b)
    assert ("ex1_onehot_mse" in a) != ("ex2_cross_entropy" in a)


def test_one_child_or_one_module_is_one_group():
    assert len(_groups(1)) == 1
    assert len(_groups(2, ["probe_stats", "init_schemes"])) == 1  # both in ex5_init
    checks = checks_for(["probe_stats"])
    assert split_by_module(checks, [], 2) == [[]]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("split")
    made = []
    for name, replace in (
        ("timeout_and_wrong", {"ex5_init.py": ROOT / "fixtures/adversarial/infinite_loop",
                               "ex3_depth.py": "fixtures/wrong/deepnet_off_by_one"}),
        ("crash_at_import", {"ex5_init.py": ROOT / "fixtures/adversarial/os_exit_at_import"}),
    ):
        folder = base / name
        shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
        for file, source in replace.items():
            if isinstance(source, Path):  # an attack appended to the reference, as in test_sandbox
                reference = (ROOT / "solutions" / file).read_text()
                (folder / file).write_text(reference + "\n\n" + (source / file).read_text())
            else:
                _, text = build(ROOT / source / f"{file}.diff", ROOT / "solutions")
                (folder / file).write_text(text)
        made.append(folder)
    return made


@pytest.mark.slow
def test_two_children_give_the_verdicts_of_one(submissions):
    graded = {}
    for children in (1, 2):
        with Sandbox(SandboxOptions(children=children)) as sandbox:
            for folder in submissions:
                outcome = sandbox_grade(sandbox, folder, TASKS, timeout=5)
                graded[children, folder.name] = to_json_dict(outcome.results)
                if children == 2:
                    assert outcome.report.children >= 2, "both groups ran a child"
    for folder in submissions:
        assert graded[2, folder.name] == graded[1, folder.name]
    lost = graded[1, "timeout_and_wrong"]["tasks"]
    assert lost["probe_stats"]["score"] == 0 and lost["deep_net"]["score"] < 10
    assert lost["test_viewer"]["score"] == 10 and lost["init_schemes"]["score"] == 15
    crashed = graded[1, "crash_at_import"]["tasks"]
    assert crashed["init_schemes"]["score"] == crashed["probe_stats"]["score"] == 0
    assert crashed["deep_net"]["score"] == 10


# ------------------------------------------------------------------ start-up

@pytest.mark.parametrize("code", [
    "import grader.cli; grader.cli.build_parser()",
    "from grader.sandbox.supervisor import Sandbox; from grader.sandbox.limits import "
    "SandboxOptions",
], ids=["every_command_parser", "sandbox"])
def test_starting_up_imports_nothing_heavy(code):
    # The parser of every command is built on each start; the sandbox is made before torch
    # loads so that its zygote imports torch on another core at the same time.
    check = (f"{code}\nimport sys\nheavy = [m for m in ('torch', 'torchvision', 'nbformat', "
             "'matplotlib', 'numpy', 'dask') if m in sys.modules]\nprint(heavy)")
    proc = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


# ------------------------------------------------------------------ MNIST without torchvision

@pytest.mark.slow
def test_mnist_reads_as_torchvision_reads_it():
    import torch
    from torchvision import datasets

    from grader.data import _mnist_uint8, ensure_mnist

    root = str(ensure_mnist(download=False).resolve())
    for train in (True, False):
        images, labels = _mnist_uint8(root, train)
        theirs = datasets.MNIST(root, train=train, download=False)
        assert images.dtype == torch.uint8 and labels.dtype == torch.int64
        assert torch.equal(images, theirs.data) and torch.equal(labels, theirs.targets)


def test_rows_of_a_split_are_those_rows_of_the_whole_split():
    import torch

    from grader.data import fast_mnist_loaders, mnist_rows, mnist_tensors, split_indices

    gen = torch.Generator().manual_seed(5)
    for split in ("train", "test"):
        X, y = mnist_tensors(split)
        idx = torch.randint(0, X.shape[0], (300,), generator=gen)
        rows, labels = mnist_rows(split, idx)
        assert torch.equal(rows, X[idx]) and torch.equal(labels, y[idx])
    # the loaders built from rows give what the whole split gave them before
    train, val, _ = fast_mnist_loaders(64, seed=3, train_limit=500)
    X, y = mnist_tensors("train")
    tr, va = split_indices(X.shape[0], 0.9, 0)
    assert torch.equal(train.X, X[tr[:500]]) and torch.equal(val.y, y[va])


@pytest.mark.parametrize("damage", ["truncated", "labels_as_images", "longer"])
def test_a_damaged_mnist_file_is_a_clear_error(tmp_path, damage, monkeypatch):
    from grader.data import ensure_mnist
    from grader.options import UserError, require_data
    from grader.settings import MNIST_RAW_FILES

    source = ensure_mnist(download=False) / "MNIST" / "raw"
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_RAW_FILES:
        (raw / name).symlink_to((source / name).resolve())
    victim = raw / "t10k-images-idx3-ubyte"
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes({"truncated": data[: len(data) // 2],
                        "labels_as_images": (source / "t10k-labels-idx1-ubyte").read_bytes(),
                        "longer": data + b"\0" * 784}[damage])
    monkeypatch.setenv("PRACTICO_DATA", str(tmp_path))
    monkeypatch.delenv("PRACTICO_LANG", raising=False)
    with pytest.raises(UserError) as caught:
        require_data()
    message = str(caught.value)
    assert "t10k-images-idx3-ubyte" in message
    # one message, in the reader's language (Spanish by default), ending in the fix
    assert "lo vuelve a descargar" in message and "again" not in message
    assert message.splitlines()[-1].strip() == f"rm {victim}"
    monkeypatch.setenv("PRACTICO_LANG", "en")
    with pytest.raises(UserError) as caught:
        require_data()
    assert "downloads it again" in str(caught.value) and "descargar" not in str(caught.value)
