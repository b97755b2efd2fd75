"""The sample submissions in ``fixtures/`` score as stated.

- ``fixtures/alt_correct/``, ``alt_correct_b/``, ``alt_correct_c/``: complete submissions
  written independently of ``solutions/`` and of each other (other layer names,
  ``nn.Sequential`` where the reference uses attributes and the other way round, ``F.one_hot``,
  hand-written init bounds, parameter groups, hand-written clipping, their own loops, other
  viewers, ...) must each earn full marks on every task. Each is stored as one patch per module
  against the stubs in ``exercises/`` (only the TODO stubs change), applied into a temporary
  folder here.
- ``fixtures/alt_variants/<name>/``: one ``ex*.py.diff`` each, a patch that rewrites one part
  of the reference in another correct idiom that an earlier version of the checks rejected;
  the patched file, overlaid on a copy of ``solutions/``, must keep full marks.
- ``fixtures/wrong/<name>/``: one ``ex*.py.diff`` each, a patch that puts one plausible
  mistake into the reference (see ``tests/patching.py``). Its header declares ``Task:`` (the
  one task that must lose points), ``Keys:`` (the message keys of the checks that fail) and
  ``Diagnoses:`` (the known mistakes those checks are diagnosed with, ranked; ``-`` for none:
  no detector applies and the verdict's message stands). Overlaid on a copy of
  ``solutions/``, the patched file must fail exactly those keys, only in that task, each failing
  check diagnosed with exactly those ids or none, and keep full marks on every other task.
- Correct code is never diagnosed: every detector of every check is run *forced* (as if the
  check had failed) on the data of the reference, ``alt_correct`` and every ``alt_variants``
  fixture, and none may match.

Time: a wrong fixture changes one module, so only that module's tasks are graded here; the
other tasks' results are the reference's (``reference_results``), which is valid because the
checks are deterministic and the test asserts those modules are byte-identical to the
reference. The declared task's training runs (MNIST, parity: the slow checks) are skipped for
wrong fixtures: the declared failure is already established by the cheaper checks, and the
other tasks of the same module are graded in full, training runs included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from patching import (
    ALT_CORRECTS,
    EXERCISES,
    materialise_alt_correct,
    overlay_reference,
    read_fixture,
    split_lines,
)
from probe_records import forced_diagnoses, record

from grader.authoring.stubs import HEADER
from grader.checks import Context
from grader.grading import InProcess, grade
from grader.impl import DirImpl
from grader.messages import MESSAGES
from grader.request import GradeRequest
from grader.scoring import DIAGNOSIS_VALUES, checks_for, summarize
from grader.tasks import TASK_BY_ID, TASKS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SOLUTIONS = ROOT / "solutions"
WRONG = FIXTURES / "wrong"
WRONG_NAMES = sorted(p.name for p in WRONG.iterdir() if p.is_dir() and not p.name.startswith("_"))
VARIANTS = FIXTURES / "alt_variants"
VARIANT_NAMES = sorted(p.name for p in VARIANTS.iterdir() if p.is_dir())
#: a check at least this costly is a training run (see ``Check.cost``)
TRAINING_RUN_COST = 2.0


def only_file(folder: Path) -> Path:
    """The fixture's one ``ex<N>_<module>.py.diff`` (a patch against the reference)."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert len(files) == 1 and re.fullmatch(r"ex\d+_\w+\.py\.diff", files[0].name), (
        f"{folder.name}: the fixture holds exactly one ex*.py.diff file, found {files}")
    return files[0]


def overlay(patch: Path, into: Path) -> DirImpl:
    """A submission made of ``solutions/`` with the patched file in place of its namesake."""
    name = overlay_reference(patch, into)
    for path in SOLUTIONS.glob("ex*.py"):
        same = (into / path.name).read_bytes() == path.read_bytes()
        # what grading only this module relies on: every other module is the reference's,
        # byte for byte, so its results are the reference's
        assert same == (path.name != name), path.name
    return DirImpl(into)


def declaration(folder: Path) -> tuple[Path, str, list[str]]:
    """The fixture's patch, its declared task and its expected message keys."""
    file = only_file(folder)
    fields, _ = read_fixture(file)
    assert {"Task", "Keys"} <= set(fields), f"{folder.name}: the header needs Task: and Keys:"
    keys = [k.strip() for k in fields["Keys"].split(",")]
    return file, fields["Task"].strip(), keys


def declared_diagnoses(folder: Path) -> list[str]:
    """The fixture's ``Diagnoses:`` (ranked ids; ``-``: none)."""
    fields, _ = read_fixture(only_file(folder))
    assert "Diagnoses" in fields, f"{folder.name}: the header needs Diagnoses: (ids, or -)"
    value = fields["Diagnoses"].strip()
    return [] if value == "-" else [d.strip() for d in value.split(",")]


#: the names a diagnosis message may show: what the student sees in their own code
SHOWN_VALUES = {"fn", "what", "layer", "act", "asked", "dtype", "statistic", "gain"}


def assert_diagnosed_as_declared(name: str, failing: list, declared: list[str]) -> None:
    """Each failing check is diagnosed with exactly the declared ids (ranked as declared), or
    with none; together they name all of them; a diagnosis message shows only what the
    student can see and never a value the verdict expected."""
    from grader.diagnoses.catalogue import MISTAKES

    assert all(d in MISTAKES for d in declared), f"{name}: unknown diagnosis in {declared}"
    named: set[str] = set()
    for r in failing:
        assert r.diagnoses in ([], declared), (name, r.check, r.key, r.diagnoses)
        named |= set(r.diagnoses)
        if not r.diagnoses:  # the verdict's own message, as before diagnoses existed
            assert DIAGNOSIS_VALUES not in r.values, (name, r.check)
            continue
        shown = r.values[DIAGNOSIS_VALUES]
        assert list(shown) == r.diagnoses, (name, r.check)
        for did, values in shown.items():
            assert set(values) <= SHOWN_VALUES | {"_message"}, (name, did, values)
        expected = r.values.get("expected")
        if isinstance(expected, str) and re.search(r"\d\.\d", expected):
            assert expected not in r.message, (name, r.check, r.message)
    assert named == set(declared), (name, [(r.check, r.key, r.diagnoses) for r in failing])


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Grade with one intra-op thread here, then restore the previous setting.

    On 2 cores shared with other processes, torch's default thread pool spends most of its
    time waiting for a core: measured, this file took 5.5 min with the default and 45 s with
    one thread, with the same verdicts (the checks must not depend on the thread count).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


#: what the alt_correct patches may remove from a stub: the generated header and the TODO stubs
STUB_ONLY_RE = re.compile(r"^-[ \t]*(# TODO \[\w+\]: |raise NotImplementedError\()")


@pytest.fixture(scope="module", params=ALT_CORRECTS, ids=lambda p: p.name)
def alt_correct(request, tmp_path_factory) -> Path:
    """One of ``fixtures/alt_correct*`` applied to ``exercises/``: the files, in a temp folder."""
    folder = tmp_path_factory.mktemp("alt") / request.param.name
    return materialise_alt_correct(folder, request.param)


@pytest.fixture(scope="module")
def alt_records(alt_correct):
    return record(DirImpl(alt_correct), Context())


@pytest.fixture(scope="module")
def alt_results(alt_records):
    return summarize([r.result for r in alt_records])


def test_alt_correct_is_a_whole_independent_submission(alt_correct, tmp_path):
    assert sorted(p.name for p in alt_correct.iterdir()) == sorted(
        p.name for p in SOLUTIONS.glob("ex*.py"))
    others = [materialise_alt_correct(tmp_path / source.name, source)
              for source in ALT_CORRECTS if source.name != alt_correct.name]
    for path in sorted(SOLUTIONS.glob("ex*.py")):
        text = (alt_correct / path.name).read_text(encoding="utf-8")
        assert "NotImplementedError" not in text, path.name
        assert text != path.read_text(encoding="utf-8"), path.name
        assert "BEGIN SOLUTION" not in text, path.name
        for other in others:  # independent of each other too, module by module
            assert text != (other / path.name).read_text(encoding="utf-8"), (other, path.name)


@pytest.mark.parametrize("source", ALT_CORRECTS, ids=lambda p: p.name)
def test_alt_correct_patches_only_replace_todo_stubs(source):
    """The given code it is graded with is the stubs' own: no patch line removes any of it."""
    header = {"-" + line.removesuffix("\n") for line in split_lines(HEADER)}
    for patch in sorted(source.glob("ex*.py.diff")):
        _, diff = read_fixture(patch)
        assert diff.startswith(f"--- exercises/{patch.name.removesuffix('.diff')}\n"), patch.name
        removed = [line for line in diff.splitlines()[2:] if line.startswith("-")]
        assert removed, patch.name
        for line in removed:
            assert line in header or STUB_ONLY_RE.match(line), (patch.name, line)
    assert (EXERCISES / "ex0_data.py").read_text(encoding="utf-8").startswith(HEADER)


@pytest.mark.slow
def test_alt_correct_earns_full_marks(alt_results):
    for task in TASKS:
        res = alt_results[task.id]
        failing = [(c.check, c.key, c.message) for c in res.checks if c.status != "passed"]
        assert failing == [], task.id
        assert res.score == res.max_score == task.points, task.id


@pytest.mark.slow
def test_correct_code_is_never_diagnosed(alt_records, reference_records):
    """Every detector of every check, forced on the data of the reference and of
    ``alt_correct`` (its own layer names, loops, ``F.one_hot``, hand-written clipping...)."""
    assert forced_diagnoses(reference_records) == []
    assert forced_diagnoses(alt_records) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", WRONG_NAMES)
def test_wrong_fixture_loses_points_only_on_its_task(name, request, tmp_path):
    file, task_id, keys = declaration(WRONG / name)
    assert task_id in TASK_BY_ID, f"{name}: unknown task {task_id!r}"
    module = file.name.removesuffix(".py.diff")
    assert TASK_BY_ID[task_id].module == module, f"{name}: {task_id} does not live in {file}"
    assert all(k in MESSAGES for k in keys), f"{name}: unknown message key in {keys}"

    impl = overlay(file, tmp_path)
    module_tasks = [t.id for t in TASKS if t.module == module]
    checks = [c for c in checks_for(module_tasks)
              if not (c.task == task_id and c.cost >= TRAINING_RUN_COST)]
    by_task = grade(GradeRequest(tasks=module_tasks, checks=[c.id for c in checks]),
                    InProcess(impl)).results
    results = [r for res in by_task.values() for r in res.checks]
    assert [(r.task, r.check) for r in results] == [(c.task, c.name) for c in checks]

    failing = [r for r in results if r.status != "passed"]
    assert {r.task for r in failing} == {task_id}, [(r.task, r.check, r.key) for r in failing]
    assert sorted({r.key for r in failing}) == sorted(keys), [(r.check, r.key, r.message)
                                                              for r in failing]
    assert_diagnosed_as_declared(name, failing, declared_diagnoses(WRONG / name))
    for r in failing:
        assert r.points == 0 and r.message and "Traceback" not in r.message, r
        assert not re.search(r"\{[a-z_]+\}", r.message), f"unformatted message: {r.message}"
    assert by_task[task_id].score < TASK_BY_ID[task_id].points

    # Asked for here, not as an argument: pytest would set the session fixture up before
    # this module's one-thread setting.
    reference_results = request.getfixturevalue("reference_results")
    for task in TASKS:
        if task.id == task_id:
            continue
        res = by_task[task.id] if task.id in module_tasks else reference_results[task.id]
        assert res.score == res.max_score == task.points, (name, task.id, res.message)


# plt.imshow(tensor) is one of the idioms: matplotlib warns about torch's __array__ signature
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_correct_variant_keeps_full_marks(name, tmp_path):
    file = only_file(VARIANTS / name)
    module_tasks = [t.id for t in TASKS if t.module == file.name.removesuffix(".py.diff")]
    records = record(overlay(file, tmp_path), Context(), module_tasks)
    by_task = summarize([r.result for r in records])
    for task_id in module_tasks:
        res = by_task[task_id]
        failing = [(c.check, c.key, c.message) for c in res.checks if c.status != "passed"]
        assert failing == [], (name, task_id)
        assert res.score == res.max_score == TASK_BY_ID[task_id].points
    # and no detector of any of its checks, forced, takes the idiom for a mistake
    assert forced_diagnoses(records) == [], name


def test_readme_lists_every_fixture_as_declared():
    text = (FIXTURES / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`wrong/"):
            rows[cells[0].strip("`").removeprefix("wrong/").split("/")[0]] = cells
    assert sorted(rows) == WRONG_NAMES
    for name in VARIANT_NAMES:
        assert f"`alt_variants/{name}/{only_file(VARIANTS / name).name}`" in text, name
    for name in WRONG_NAMES:
        file, task_id, keys = declaration(WRONG / name)
        cells = rows[name]
        assert cells[0] == f"`wrong/{name}/{file.name}`", name
        assert cells[2] == f"`{task_id}`", name
        assert [k.strip(" `") for k in cells[3].split(",")] == keys, name
        shown = [d.strip(" `") for d in cells[4].split(",")]
        assert shown == (declared_diagnoses(WRONG / name) or ["-"]), name


def test_every_known_mistake_has_a_fixture_diagnosed_with_it():
    from grader.diagnoses.catalogue import MISTAKES

    declared = {d for name in WRONG_NAMES for d in declared_diagnoses(WRONG / name)}
    assert sorted(set(MISTAKES) - declared) == []
