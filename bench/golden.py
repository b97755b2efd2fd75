"""Every fixture's result JSON, through ``grade``, recorded once and compared after a change.

    python bench/golden.py record [--out DIR] [--only SUBSTR]   # write DIR/<kind>/<name>.json
    python bench/golden.py compare [--out DIR] [--only SUBSTR]  # grade again, diff against DIR

A refactor of the grading path must leave every verdict, message and value as it was. This
grades each submission the kit has as a fixture (``fixtures/alt_correct``, ``alt_variants``,
``wrong``, ``fakes``: a patch over the reference; ``adversarial``: a folder of its own;
``hostile``: the reference with the attack appended; the sample ``class``) with the real
command, ``python -m grader grade FOLDER --json OUT``, in the sandbox, and keeps the result
JSON with what depends on the run blanked: ``sandbox.isolation`` (uids, folders), and
temporary paths inside messages. A patch fixture is graded on its module's tasks only (the
other modules are the reference's, byte for byte).

Not a test: grading ~140 submissions takes 20 to 50 minutes on 2 cores. The fast, in-suite
counterpart is ``tests/test_fixtures.py``, which checks each fixture's declared verdicts in
process; this record is the byte-for-byte one. ``bench/golden/README.md`` says which commit
the committed record comes from and what the last comparison found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from patching import build, materialise_alt_correct  # noqa: E402

from grader.tasks import TASKS  # noqa: E402

FIXTURES = ROOT / "fixtures"
SOLUTIONS = ROOT / "solutions"
DEFAULT_OUT = ROOT / "bench" / "golden"
PATCH_KINDS = ("alt_variants", "wrong", "fakes")

#: temporary names that differ from run to run
_VOLATILE = [
    (re.compile(r"practico-sandbox-[A-Za-z0-9_]+"), "practico-sandbox-X"),
    (re.compile(r"job-[A-Za-z0-9_]+"), "job-X"),
    (re.compile(r"/tmp/[A-Za-z0-9_.-]+"), "/tmp/X"),
    (re.compile(r"golden-[A-Za-z0-9_]+"), "golden-X"),
]


def _tasks_of(module: str) -> list[str]:
    return [t.id for t in TASKS if t.module == module]


def submissions(only: str | None) -> list[tuple[str, str, callable]]:
    """``(kind, name, make)``: ``make(dest)`` writes the submission and returns its tasks
    (``None``: every task)."""
    found: list[tuple[str, str, callable]] = []

    def alt_correct(dest: Path) -> list[str] | None:
        materialise_alt_correct(dest)
        return None

    found.append(("alt_correct", "alt_correct", alt_correct))
    for kind in PATCH_KINDS:
        for folder in sorted(p for p in (FIXTURES / kind).iterdir() if p.is_dir()):
            if folder.name.startswith("_"):
                continue

            def patched(dest: Path, folder: Path = folder) -> list[str] | None:
                for path in SOLUTIONS.glob("ex*.py"):
                    shutil.copy(path, dest / path.name)
                patch = next(folder.glob("ex*.py.diff"))
                name, source = build(patch, SOLUTIONS)
                (dest / name).write_text(source, encoding="utf-8")
                return _tasks_of(name.removesuffix(".py"))

            found.append((kind, folder.name, patched))
    for folder in sorted(p for p in (FIXTURES / "adversarial").iterdir() if p.is_dir()):
        def own(dest: Path, folder: Path = folder) -> list[str] | None:
            modules = []
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    shutil.copy(path, dest / path.name)
                    if path.name.startswith("ex") and path.suffix == ".py":
                        modules.append(path.stem)
            return [t for m in modules for t in _tasks_of(m)] or None

        found.append(("adversarial", folder.name, own))
    sys.path.insert(0, str(FIXTURES / "hostile"))
    from assemble import submission_source  # fixtures/hostile/assemble.py

    for folder in sorted(p for p in (FIXTURES / "hostile").iterdir() if p.is_dir()):
        def hostile(dest: Path, folder: Path = folder) -> list[str] | None:
            (dest / "ex5_init.py").write_text(submission_source(folder), encoding="utf-8")
            return _tasks_of("ex5_init")

        found.append(("hostile", folder.name, hostile))
    spec = json.loads((FIXTURES / "class" / "class.json").read_text())
    for student in spec["students"]:
        def one_student(dest: Path, student: str = student) -> list[str] | None:
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run([sys.executable, str(FIXTURES / "class" / "assemble.py"),
                                str(Path(tmp) / "c")], check=True, capture_output=True)
                src = Path(tmp) / "c" / student
                for path in src.iterdir():
                    if path.is_file():
                        shutil.copy(path, dest / path.name)
            return None

        found.append(("class", student, one_student))
    if only:
        found = [f for f in found if only in f"{f[0]}/{f[1]}"]
    return found


def blank(data: dict) -> dict:
    """The result JSON without what changes from run to run."""
    sandbox = data.get("sandbox")
    if isinstance(sandbox, dict):
        sandbox.pop("isolation", None)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return json.loads(text)


def grade(make: callable, lang: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        sub = Path(tmp) / "sub"
        sub.mkdir()
        tasks = make(sub)
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "grader", "grade", str(sub), "--json", str(out),
               "--lang", lang]
        if tasks:
            cmd += ["--tasks", ",".join(tasks)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode != 0 or not out.exists():
            # a refusal's message names the scratch folder: blanked like a result's paths
            stderr = proc.stderr[-2000:]
            for pattern, repl in _VOLATILE:
                stderr = pattern.sub(repl, stderr)
            return {"exit": proc.returncode, "stderr": stderr}
        return blank(json.loads(out.read_text("utf-8")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--only", default=None, help="fixtures whose kind/name holds this")
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    out = Path(args.out)
    differ = []
    start = time.monotonic()
    items = submissions(args.only)
    for number, (kind, name, make) in enumerate(items, 1):
        t0 = time.monotonic()
        data = grade(make, args.lang)
        path = out / kind / f"{name}.json"
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        if args.mode == "record":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            verdict = f"{data.get('score', 'ERR')}"
        else:
            before = path.read_text("utf-8") if path.exists() else None
            same = before == text
            if not same:
                differ.append(f"{kind}/{name}")
                (out / kind / f"{name}.now.json").write_text(text, encoding="utf-8")
            verdict = "same" if same else "DIFFERS"
        print(f"[{number}/{len(items)}] {kind}/{name}: {verdict} ({time.monotonic() - t0:.1f} s)",
              flush=True)
    print(f"{len(items)} fixtures in {time.monotonic() - start:.0f} s", flush=True)
    if args.mode == "compare":
        print(f"{len(differ)} differ" + (": " + ", ".join(differ) if differ else ""))
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
