"""Isolated grading of untrusted code: adversarial submissions, a sample class, resuming.

Every adversarial submission of ``fixtures/adversarial/`` is the reference ``ex5_init.py``
with an attack appended (and, for some, extra files); the comment block at the top of its
``ex5_init.py`` states the outcome (``# Expected: ...``, see ``HEADER``). One real
``autograde`` run grades them all in parallel; the tests check each stated outcome and what
else must hold.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, copy_folder, run_py, sandbox_grade
from waiting import grading_zygotes, wait_until

pytestmark = pytest.mark.slow

ADVERSARIAL = ROOT / "fixtures" / "adversarial"
CANARY = re.search(r"reference-canary-[0-9a-f]+",
                   (ROOT / "solutions" / "ex5_init.py").read_text()).group(0)
ENV_CANARY = "grader-env-canary-9b2e6d71"
TASKS = "test_viewer,init_schemes,probe_stats"
FULL = {"test_viewer": 10, "init_schemes": 15, "probe_stats": 15}
#: seconds until a one-check student is graded (the grader's and its zygote's start, loaded)
FIRST_STUDENT_SECONDS = 120
#: seconds the zygote takes to fork the next student's child once the first one is written
CHILD_START_SECONDS = 60
#: CPU seconds that only a spinning probe burns (a_quick's stubs raise at once; a child forked
#: ahead by the zygote waits idle)
SPINNING_CPU_SECONDS = 1.0
#: seconds a rerun that skips every student may take: it starts no zygote and no child (the
#: interpreter's and the kit's start only), on a loaded machine
SKIP_RUN_SECONDS = 30

#: the outcome line in the comment block at the top of a fixture's ``ex5_init.py``:
#: ``# Expected: full marks.`` or ``# Expected: <task> <score> (status <status>)[, ...]; the
#: other tasks full marks.`` (``(any status)`` where the failing checks' status may vary)
HEADER = re.compile(r"# Expected: (?:full marks|(?P<items>.+); the other tasks full marks)\.")
HEADER_ITEM = re.compile(
    r"(?P<task>\w+) (?P<score>\d+(?:\.\d+)?) \((?:status (?P<status>\w+)|any status)\)")
FIXTURES = sorted(p.name for p in ADVERSARIAL.iterdir() if p.is_dir())


def expected_outcome(fixture: Path) -> dict[str, tuple[float, str | None]]:
    """Task -> (its score, status of its failing checks or None) stated by the fixture's
    header; every task not named keeps full marks. ``ValueError`` when the header is missing
    or does not parse: a fixture cannot be graded without a stated outcome."""
    from grader.statuses import CHECK_STATUSES

    path = fixture / "ex5_init.py"
    lines = path.read_text().splitlines() if path.is_file() else []
    header = lines[:next((i for i, line in enumerate(lines) if not line.startswith("#")),
                         len(lines))]
    stated = [line for line in header if line.startswith("# Expected:")]
    if len(stated) != 1:
        raise ValueError(f"{path}: its header comment needs one '# Expected:' line, "
                         f"found {len(stated)}")
    match = HEADER.fullmatch(stated[0])
    if match is None:
        raise ValueError(f"{path}: cannot read {stated[0]!r}")
    outcome: dict[str, tuple[float, str | None]] = {}
    for item in match["items"].split(", ") if match["items"] else []:
        part = HEADER_ITEM.fullmatch(item)
        if part is None or part["task"] not in FULL or part["task"] in outcome or (
                part["status"] is not None and part["status"] not in CHECK_STATUSES) or float(
                part["score"]) >= FULL[part["task"]]:
            raise ValueError(f"{path}: cannot read {item!r} in {stated[0]!r}")
        outcome[part["task"]] = (float(part["score"]), part["status"])
    return outcome


def _boot_ticks() -> int:
    """Now, in the unit of a process's start time in /proc/PID/stat: clock ticks since boot."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))


class _Run:
    """The window of one grading run, to tell its processes from another grading's: a
    process's uid block is held by one grading at a time, so a process of the run's blocks
    started while the run ran is the run's."""

    def __init__(self) -> None:
        self.since = _boot_ticks()
        self.until: int | None = None

    def ended(self) -> None:
        self.until = _boot_ticks() + 1  # the tick the run ended in is still the run's

    def leftovers(self, results: dict) -> list[str]:
        """Processes still alive that the run's sandbox children started: of the uid blocks
        its graders held (read from each ``result.json``'s isolation, a child's uid) and
        started within the run; or marked by the orphan fixture."""
        from grader.sandbox.spawn import UID_BASE
        from grader.sandbox.uidblocks import BLOCK_UIDS, BLOCKS

        assert self.until is not None, "the run has not ended"
        blocks = {(uid - UID_BASE) // BLOCK_UIDS for uid in (
            r["sandbox"]["isolation"].get("uid") for r in results.values())
            if isinstance(uid, int) and UID_BASE <= uid < UID_BASE + BLOCKS * BLOCK_UIDS}
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                uid = os.stat(f"/proc/{entry}").st_uid
                environ = Path(f"/proc/{entry}/environ").read_bytes()
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            started = int(stat[stat.rfind(b")") + 2:].split()[19])
            ours = ((uid - UID_BASE) // BLOCK_UIDS in blocks and uid >= UID_BASE
                    and self.since <= started <= self.until)
            if ours or b"PRACTICO_ORPHAN=1" in environ:
                found.append(f"{entry} (uid {uid})")
        return found


def build_adversarial_root(root: Path) -> list[str]:
    names = []
    reference = (ROOT / "solutions" / "ex5_init.py").read_text()
    for fixture in sorted(p for p in ADVERSARIAL.iterdir() if p.is_dir()):
        folder = root / fixture.name
        folder.mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "ex0_data.py", folder / "ex0_data.py")
        for extra in fixture.iterdir():
            if extra.name == "ex5_init.py":
                (folder / "ex5_init.py").write_text(reference + "\n\n" + extra.read_text())
            else:
                shutil.copy(extra, folder / extra.name)
        names.append(fixture.name)
    control = root / "control"
    control.mkdir()
    for name in ("ex0_data.py", "ex5_init.py"):
        shutil.copy(ROOT / "solutions" / name, control / name)
    return names


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    root, out = base / "submissions", base / "results"
    names = build_adversarial_root(root)
    marker = Path("/tmp/practico-reduce-payload-ran")
    marker.unlink(missing_ok=True)
    start, run = time.monotonic(), _Run()
    proc = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                  "--timeout", "12", "--tasks", TASKS,
                  env={"PRACTICO_TEST_SECRET": ENV_CANARY, "CI": "true"})
    seconds = time.monotonic() - start
    run.ended()
    results = {p.parent.name: json.loads(p.read_text())
               for p in (out / "students").glob("*/result.json")}
    return {"root": root, "out": out, "proc": proc, "names": names, "results": results,
            "seconds": seconds, "leftovers": run.leftovers(results), "marker": marker}


def test_there_are_at_least_twenty_adversarial_fixtures_each_stating_its_outcome():
    assert len(FIXTURES) >= 20
    problems = []
    for name in FIXTURES:
        try:
            expected_outcome(ADVERSARIAL / name)
        except ValueError as exc:
            problems.append(str(exc))
    assert problems == [], "every fixture needs a stated outcome"


@pytest.mark.parametrize("header", [
    None, "", '"""no comment at all"""',
    "# Expected: probe_stats 0 (status crashed)",  # no "; the other tasks full marks."
    "# Expected: probe_stats zero (status crashed); the other tasks full marks.",
    "# Expected: probe_stat 0 (status crashed); the other tasks full marks.",
    "# Expected: probe_stats 0 (status exploded); the other tasks full marks.",
    "# Expected: probe_stats 15 (status failed); the other tasks full marks.",
    "# Expected: probe_stats 0 (any status), probe_stats 0 (any status); the other tasks "
    "full marks.",
    "# Expected: full marks.\n# Expected: full marks.",
    '"""doc"""\n# Expected: full marks.',  # below the header: not part of it
], ids=["no_file", "empty", "docstring_only", "no_tail", "score_not_number", "unknown_task",
        "unknown_status", "full_score_lost", "task_twice", "two_lines", "after_docstring"])
def test_a_missing_or_unreadable_header_is_an_error(tmp_path, header):
    if header is not None:
        (tmp_path / "ex5_init.py").write_text(header + "\n")
    with pytest.raises(ValueError):
        expected_outcome(tmp_path)


def test_headers_read_as_written(tmp_path):
    (tmp_path / "ex5_init.py").write_text(
        "# An attack.\n#\n# Expected: init_schemes 12 (any status), probe_stats 0 (status "
        "crashed); the other tasks full marks.\nimport os\n")
    assert expected_outcome(tmp_path) == {"init_schemes": (12, None),
                                          "probe_stats": (0, "crashed")}
    (tmp_path / "ex5_init.py").write_text("# Expected: full marks.\n")
    assert expected_outcome(tmp_path) == {}


def test_the_grader_keeps_running_and_grades_everyone(adversarial):
    proc = adversarial["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(adversarial["results"]) == set(adversarial["names"]) | {"control"}
    with open(adversarial["out"] / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["student"] for r in rows} == set(adversarial["results"])
    assert all(r["status"] == "graded" for r in rows)
    control = adversarial["results"]["control"]
    assert {t: control["tasks"][t]["score"] for t in FULL} == FULL


@pytest.mark.parametrize("name", FIXTURES)
def test_adversarial_outcome(adversarial, name):
    expected = expected_outcome(ADVERSARIAL / name)
    data = adversarial["results"][name]
    for task, full in FULL.items():
        entry = data["tasks"][task]
        if task in expected:
            score, status = expected[task]
            assert entry["score"] == score, (task, entry)
            if status is not None:
                failing = {c["status"] for c in entry["checks"].values()
                           if c["status"] != "passed"}
                assert failing == {status}, (task, entry)
            assert entry["message"], "a lost task always says why"
        else:
            assert entry["score"] == full, (task, entry["message"])


def test_reasons_name_what_happened(adversarial):
    msg = {n: adversarial["results"][n]["tasks"]["probe_stats"]["message"]
           for n in ("segfault", "self_kill", "os_exit_in_task", "output_flood", "infinite_loop",
                     "exit_in_task")}
    assert "SIGSEGV" in msg["segfault"]
    assert "SIGKILL" in msg["self_kill"]
    assert "código 0" in msg["os_exit_in_task"]  # in Spanish, the reader's language
    assert "exited early" not in msg["os_exit_in_task"]
    assert "segmentation fault" not in msg["segfault"] and "violación de segmento" in msg["segfault"]
    assert "File too large" in msg["output_flood"]  # Python turns SIGXFSZ into EFBIG
    assert "12 s" in msg["infinite_loop"]
    assert "SystemExit" in msg["exit_in_task"]


def _isolated(adversarial) -> dict:
    return adversarial["results"]["control"]["sandbox"]["isolation"]


def test_children_were_isolated(adversarial):
    iso = _isolated(adversarial)
    if not iso.get("namespaces"):
        pytest.skip("Linux namespaces unavailable here: hiding and no-network cannot hold")
    assert iso["network"] is False
    assert "filesystem_error" not in iso
    # the child's filesystem shows only what it needs: never the kit, the other
    # submissions, or a folder holding either
    private = [ROOT / "solutions", adversarial["root"], adversarial["out"]]
    for path in map(Path, iso["visible"]):
        for secret in private:
            assert path != secret and path not in secret.parents and secret not in path.parents
    assert str(ROOT / ".venv") in iso["visible"] or sys.prefix in iso["visible"]


def test_reference_and_grader_environment_never_leak(adversarial):
    if not _isolated(adversarial).get("namespaces"):
        pytest.skip("Linux namespaces unavailable here: the reference is readable on disk")
    texts = [adversarial["proc"].stdout, adversarial["proc"].stderr]
    for path in adversarial["out"].rglob("*"):
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    blob = "\n".join(texts)
    assert CANARY not in blob
    assert ENV_CANARY not in blob
    # the attempts themselves did run and were reported
    assert "reference not found" in adversarial["results"]["read_reference"]["tasks"][
        "probe_stats"]["message"]
    assert "STOLEN" in adversarial["results"]["proc_environ"]["tasks"]["probe_stats"]["message"]


def test_nothing_is_left_behind(adversarial):
    assert adversarial["leftovers"] == []
    assert not adversarial["marker"].exists(), "a __reduce__ payload ran somewhere"
    tampered = [p for p in adversarial["out"].rglob("PWNED_BY_STUDENT")]
    assert tampered == [] and not Path("/tmp/PWNED_BY_STUDENT").exists()


def test_no_network_in_the_child(adversarial):
    if not _isolated(adversarial).get("namespaces"):
        pytest.skip("Linux namespaces unavailable here")
    checks = adversarial["results"]["network"]["tasks"]["probe_stats"]["checks"]
    assert all(c["status"] == "failed" for c in checks.values())


# ------------------------------------------------------------------ the sample class


def _all_tasks() -> tuple:
    from grader.tasks import TASKS as ALL

    return ALL


def _class_expectations() -> dict:
    return json.loads((ROOT / "fixtures" / "class" / "class.json").read_text())["students"]


@pytest.fixture(scope="module")
def sample_class(graded_sample_class, tmp_path_factory):
    """The sample class graded once for the session (conftest), copied: the rerun test
    changes a student's file and grades again."""
    base = tmp_path_factory.mktemp("class")
    return {"root": copy_folder(graded_sample_class["root"], base / "submissions"),
            "out": copy_folder(graded_sample_class["out"], base / "results"),
            "proc": graded_sample_class["proc"]}


def test_sample_class_scores(sample_class):
    from grader.tasks import TASKS as ALL

    assert sample_class["proc"].returncode == 0, sample_class["proc"].stderr[-2000:]
    out = sample_class["out"]
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    students = _class_expectations()
    assert set(rows) == set(students)
    for name, spec in students.items():
        data = json.loads((out / "students" / name / "result.json").read_text())
        for task in ALL:
            want = spec["expect"].get(task.id, spec["expect"].get("*", task.points))
            got = data["tasks"][task.id]["score"]
            if want == "partial":
                assert 0 < got < task.points, (name, task.id, got)
            else:
                assert got == want, (name, task.id, data["tasks"][task.id]["message"])
            assert float(rows[name][task.id]) == got
        assert float(rows[name]["total"]) == data["score"]


def test_sample_class_outputs(sample_class):
    out = sample_class["out"]
    for name in _class_expectations():
        folder = out / "students" / name
        gradescope = json.loads((folder / "results.json").read_text())
        assert {"score", "tests"} <= set(gradescope)
        assert len(gradescope["tests"]) == len(_all_tasks())  # one per task
        assert all({"name", "score", "max_score", "output"} <= set(t) for t in gradescope["tests"])
        md = (folder / "feedback.md").read_text()
        page = (folder / "feedback.html").read_text()
        data = json.loads((folder / "result.json").read_text())
        for entry in data["tasks"].values():
            for line in entry["message"].splitlines():
                assert line in md
                assert line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
                    .replace('"', "&quot;").replace("'", "&#x27;") in page
    gabi = json.loads((out / "students" / "gabi" / "result.json").read_text())
    assert gabi["ignored_files"] == ["notas.txt"] and gabi["files"] == []
    eva = json.loads((out / "students" / "eva" / "result.json").read_text())
    assert "ex3_depth.py" in eva["unusable_files"]


def test_rerun_skips_finished_students_and_regrades_changed_ones(sample_class):
    root, out = sample_class["root"], sample_class["out"]
    before = (out / "students" / "ana" / "result.json").read_text()
    start = time.monotonic()
    again = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                   "--timeout", "30", env={"CI": "true"})
    assert again.returncode == 0
    assert "7 estudiante(s) ya calificado(s)" in again.stderr
    assert time.monotonic() - start < SKIP_RUN_SECONDS  # the skip happens up front
    assert (out / "students" / "ana" / "result.json").read_text() == before
    # beto finishes the viewer: only beto is graded again
    stub = root / "beto" / "ex0_data.py"
    stub.write_text((ROOT / "solutions" / "ex0_data.py").read_text())
    again = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                   "--timeout", "30", env={"CI": "true"})
    assert again.returncode == 0, again.stderr
    assert "6 estudiante(s) ya calificado(s)" in again.stderr
    assert re.search(r"\[7/7\] beto: 10/120", again.stderr)
    assert (out / "students" / "ana" / "result.json").read_text() == before


def test_interrupted_run_keeps_results(tmp_path):
    root, out = tmp_path / "subs", tmp_path / "out"
    for name in ("a_quick", "b_slow"):
        (root / name).mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "ex5_init.py", root / "a_quick" / "ex5_init.py")
    (root / "b_slow" / "ex5_init.py").write_text(
        (ROOT / "solutions" / "ex5_init.py").read_text()
        + (ADVERSARIAL / "infinite_loop" / "ex5_init.py").read_text())
    cmd = [sys.executable, "-m", "grader", "autograde", str(root), "--out", str(out), "--jobs",
           "1", "--timeout", "60", "--tasks", "probe_stats"]
    run = _Run()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "CI": "true"})
    done = out / "students" / "a_quick" / "result.json"
    wait_until(done.exists, FIRST_STUDENT_SECONDS, "a_quick was graded")

    # b_slow's probe spins: its grading process is the one that burns CPU. Its start time
    # does not tell: on main after the regrade-preview merge, b_slow's child started within
    # the same second as a_quick's result.json was written, and the test waited forever.
    def b_slow_child() -> bool:
        for zygote in grading_zygotes(proc.pid):
            try:
                if any(child.cpu_times().user >= SPINNING_CPU_SECONDS
                       for child in zygote.children(recursive=True)):
                    return True
            except psutil.Error:
                continue
        return False

    wait_until(b_slow_child, CHILD_START_SECONDS, "b_slow's child started")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    run.ended()
    assert proc.returncode != 0
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["a_quick"]["status"] == "graded" and rows["b_slow"]["status"] == "pending"
    assert not (out / "students" / "b_slow" / "result.json").exists()
    assert run.leftovers({"a_quick": json.loads(done.read_text())}) == []
    cmd[cmd.index("--timeout") + 1] = "5"  # finished students are kept whatever the timeout
    rerun = run_py(*cmd[1:], env={"CI": "true"})
    assert rerun.returncode == 0, rerun.stderr
    assert "1 estudiante(s) ya calificado(s)" in rerun.stderr
    slow = json.loads((out / "students" / "b_slow" / "result.json").read_text())
    assert slow["tasks"]["probe_stats"]["status"] == "timeout"


@pytest.mark.parametrize("make, fragment", [
    (lambda t: (t / "missing", t / "out"), "no existe esa carpeta"),
    (lambda t: ((t / "empty").mkdir() or t / "empty", t / "out"), "no tiene carpetas de estudiantes"),
    (lambda t: ((t / "r" / "s").mkdir(parents=True) or t / "r", t / "r" / "out"),
     "está dentro de"),
])
def test_autograde_bad_input(tmp_path, make, fragment):
    root, out = make(tmp_path)
    res = run_py("-m", "grader", "autograde", str(root), "--out", str(out))
    assert res.returncode == 2
    assert fragment in res.stderr and "Traceback" not in res.stderr


def test_autograde_unknown_task(tmp_path):
    (tmp_path / "r" / "s").mkdir(parents=True)
    res = run_py("-m", "grader", "autograde", str(tmp_path / "r"), "--out", str(tmp_path / "o"),
                 "--tasks", "nope")
    assert res.returncode == 2 and "tarea(s) desconocida(s)" in res.stderr


def test_user_namespace_mode_is_read_only_and_hides_the_reference(tmp_path):
    """How a non-root instructor's grading runs: same uid, but no capabilities, the
    filesystem read-only and the reference covered."""
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox

    target = ROOT / "grader" / "__init__.py"
    (tmp_path / "ex5_init.py").write_text((ROOT / "solutions" / "ex5_init.py").read_text() + f'''

def probe_stats(net, batch_size=64, in_dim=100):
    import os
    report = []
    try:
        with open({str(target)!r}, "a"):
            report.append("WROTE")
    except OSError as exc:
        report.append(exc.strerror)
    try:
        with open({str(ROOT / "solutions" / "ex5_init.py")!r}) as fh:
            report.append("READ " + fh.read())
    except OSError as exc:
        report.append(exc.strerror)
    caps = [line for line in open("/proc/self/status") if line.startswith("CapEff")][0]
    raise RuntimeError(" | ".join(report) + " | " + caps.split()[1])
''')
    before = target.stat().st_mtime
    with Sandbox(SandboxOptions(force_user_namespace=True)) as sandbox:
        outcome = sandbox_grade(sandbox, tmp_path, ["probe_stats"], threads=1)
    if not outcome.report.isolation.get("namespaces"):
        pytest.skip("Linux user namespaces unavailable here")
    message = outcome.results["probe_stats"].message
    assert "WROTE" not in message and "READ" not in message
    # the kit is not there at all (or read-only, where a needed folder lies inside it)
    assert "No such file or directory" in message or "Read-only file system" in message
    assert "0000000000000000" in message  # no capabilities left
    assert target.stat().st_mtime == before
    assert outcome.report.isolation["user_namespace"] is True
