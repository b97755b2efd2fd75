"""Calibrate every check: how often correct code fails it and wrong code passes it, over many
input variants, with the margin between the two distributions.

    PRACTICO_DATA=... python bench/calibrate.py --quick | --full | --variants N | --seeds V [V ...]
        [--checks SUBSTR ...] [--impls SUBSTR ...] [--correct DIR ...] [--wrong TASK=DIR ...]
        [--jobs N] [--out DIR] [--secret TEXT] [--markdown FILE] [--plan]
        [--set MODULE.NAME=VALUE ...]

Implementations. Correct: the reference (``solutions/``), every ``fixtures/alt_correct*``
submission, every ``fixtures/alt_variants`` patch over the reference (on its module's tasks).
Wrong: every ``fixtures/wrong`` patch over the reference, on the checks of its declared task
that it fails on the public inputs (its *targets*: found by running every check of the task on
variant 0 first). ``--correct DIR`` / ``--wrong TASK=DIR`` add a folder of ``ex*.py`` of either
kind (``tests/test_calibrate.py`` plants a false fail and a wrong pass that way).

Variants: 0 is the public inputs; 1, 2, ... are hidden variants drawn, as the grader draws them,
from a course secret: a fixed calibration secret unless ``--secret`` gives another (a course
can calibrate under its own). ``--full`` runs 200 variants (0..199), ``--quick`` 20,
``--variants N`` N, ``--seeds`` exactly those. Checks whose verdict does not depend on the
variant (:data:`VARIANT_FREE`) run on two variants per implementation instead: the report
says so and shows that both runs gave the same verdict and statistic.

Each check runs in process on one torch thread (the grading loop's in-process runner and
``scoring``'s judge, the data through the wire format, in :func:`run_one`, the one adapter
into the grading code), in
``--jobs`` worker processes (default: every core). Every result is appended to
``OUT/results.jsonl`` (default ``OUT`` = ``bench/calibration/``, ignored by git) as it arrives,
one line per (check, implementation, variant), with a digest of the implementation's files and
one of the check's code (:func:`code_keys`: the grading code, the check's own module and the
check modules it imports, the secret), so a rerun skips what is done, never reuses a result
of other code, and after a change to one check's module runs that check again only. ``--plan`` prints the runs per
check and an estimate of their CPU time (from the results file where it has them, else from
``Check.cost``) and stops. ``--set grader.checks.replay.UPDATE_RTOL=0.1`` runs with a
module constant changed (a proposed threshold or budget, calibrated before it is written into
the check; such runs are keyed apart).

The report (stdout, and ``--markdown FILE`` for docs/calibration.md): per check, the correct
runs, the false fails and their exact one-sided 95 % upper bound (Clopper-Pearson: 0 of 200 is
< 1.5 %), the wrong runs and wrong passes likewise; per thresholded statistic
(``Check.statistics``, ``bench/calibration_stats.py`` for section 7), the correct value
closest to the limit, the correct distribution's mean, sd and margin in sd, and the closest
value of a wrong fixture that threshold catches; per wrong fixture, on how many variants its
task lost points. Exit status 0 when every goal is met (no false fail, no statistic that
contradicts its verdict, every wrong fixture caught on >= 99 % of its variants, the
variant-free checks identical on both runs), 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import io
import json
import os
import sys
import time
import warnings
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from calibration_report import ImplInfo, fixtures, markdown, report, summarize  # noqa: E402
from patching import (  # noqa: E402
    ALT_CORRECTS,
    materialise_alt_correct,
    overlay_reference,
    read_fixture,
)

FIXTURES = ROOT / "fixtures"
SOLUTIONS = ROOT / "solutions"
DEFAULT_OUT = HERE / "calibration"
#: the results file in the output folder: one JSON line per run, of every code and secret
RESULTS = "results.jsonl"
#: the course secret the hidden variants are drawn from here (``--secret`` for another)
CALIBRATION_SECRET = "practico2-calibration-secret-1"
FULL, QUICK = 200, 20
#: checks whose verdict is the same on every variant, by check name. ``mnist_short_run``:
#: its probe reseeds with the check's own budget seed and trains on the kit's MNIST split, so
#: the trained weights and the accuracy judged are the same whatever the variant, which only
#: picks the 16 images the student's outputs are compared on. (``nb.SAME_IN_EVERY_VARIANT``
#: also lists ``parity_8_bits`` for another reason: its training data *is* drawn from the
#: variant, so it is calibrated over every variant here.)
VARIANT_FREE = ("mnist_short_run",)
#: variants a variant-free check runs on per implementation: two, to show both agree
VARIANT_FREE_RUNS = 2
#: seconds between progress lines
PROGRESS_EVERY = 60.0


# ------------------------------------------------------------------ implementations


@dataclass
class Impl:
    """One implementation to calibrate on: where its files go and what it is."""

    info: ImplInfo
    folder: Path
    source: str  # what it was built from, for the report


def _tasks_of_module(module: str) -> tuple[str, ...]:
    from grader.tasks import TASKS

    return tuple(t.id for t in TASKS if t.module == module)


def _overlay(patch: Path, dest: Path) -> Path:
    """The reference with ``patch`` applied to its file, in ``dest``."""
    overlay_reference(patch, dest)
    return dest


def _only_patch(folder: Path) -> Path:
    (patch,) = sorted(folder.glob("ex*.py.diff"))
    return patch


def implementations(work: Path, extra_correct: list[Path],
                    extra_wrong: list[tuple[str, Path]], only: list[str] | None = None
                    ) -> list[Impl]:
    """Every implementation the kit has (those whose name contains one of ``only``, and the
    extra folders), written under ``work`` (rebuilt on each run)."""
    from grader.tasks import TASK_BY_ID, TASKS

    all_tasks = tuple(t.id for t in TASKS)
    found: list[tuple[ImplInfo, Any, str]] = [  # (info, builder of its folder, source)
        (ImplInfo("reference", "correct", all_tasks), lambda: SOLUTIONS, "solutions/")]
    for source in ALT_CORRECTS:
        found.append((ImplInfo(source.name, "correct", all_tasks),
                      lambda s=source: materialise_alt_correct(work / s.name, s),
                      f"fixtures/{source.name}/"))
    for folder in sorted(p for p in (FIXTURES / "alt_variants").iterdir() if p.is_dir()):
        patch = _only_patch(folder)
        module = patch.name.removesuffix(".py.diff")
        found.append((ImplInfo(f"alt_variants/{folder.name}", "correct",
                               _tasks_of_module(module)),
                      lambda p=patch, f=folder: _overlay(p, work / "alt_variants" / f.name),
                      f"fixtures/alt_variants/{folder.name}/"))
    for folder in sorted(p for p in (FIXTURES / "wrong").iterdir() if p.is_dir()):
        patch = _only_patch(folder)
        fields, _ = read_fixture(patch)
        task = fields["Task"].strip()
        keys = tuple(k.strip() for k in fields["Keys"].split(","))
        found.append((ImplInfo(f"wrong/{folder.name}", "wrong", (task,), keys),
                      lambda p=patch, f=folder: _overlay(p, work / "wrong" / f.name),
                      f"fixtures/wrong/{folder.name}/"))
    found = [item for item in found if not only or any(o in item[0].name for o in only)]
    impls = [Impl(info, make(), source) for info, make, source in found]
    for folder in extra_correct:
        impls.append(Impl(ImplInfo(f"correct:{folder.name}", "correct", all_tasks),
                          folder.resolve(), str(folder)))
    for task, folder in extra_wrong:
        if task not in TASK_BY_ID:
            raise SystemExit(f"--wrong {task}={folder}: unknown task {task!r}; one of "
                             f"{', '.join(TASK_BY_ID)}")
        impls.append(Impl(ImplInfo(f"wrong:{folder.name}", "wrong", (task,)), folder.resolve(),
                          str(folder)))
    return impls


def folder_digest(folder: Path) -> str:
    """A digest of an implementation's ``ex*.py`` files (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("ex*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


#: check modules every check uses (the shape of a check, the probe-side captures, the verdict
#: helpers); a check's own module and the check modules it imports are added per check
SHARED_CHECK_MODULES = ("__init__", "base", "capture", "expect")


def _check_imports(path: Path) -> set[str]:
    """The ``grader.checks`` modules a file imports (by module name)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "grader.checks":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "grader.checks."):
            found.add(node.module.split(".")[2])
    return found


def _check_files(module: str, checks_dir: Path) -> list[Path]:
    """A check module's file and those of the check modules it imports, transitively."""
    todo, seen = [module], set()
    while todo:
        name = todo.pop()
        path = checks_dir / f"{name}.py"
        if name in seen or not path.exists():
            continue
        seen.add(name)
        todo += sorted(_check_imports(path))
    return [checks_dir / f"{name}.py" for name in sorted(seen)]


def code_keys(checks: list[Any], secret: str, root: Path = ROOT,
              overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """Per check, a digest of what decides its verdict and statistics: the grading code
    outside ``grader/checks``, the shared check modules, the check's own module and the check
    modules it imports, the section-7 statistics, the secret the variants come from and the
    torch version (and the ``--set`` overrides, if any). A change to one check's module
    invalidates that check's results only."""
    import torch

    checks_dir = root / "grader" / "checks"
    shared = hashlib.sha256(f"{secret}\0{torch.__version__}\0".encode())
    if overrides:
        shared.update(repr(sorted(overrides.items())).encode())
    files = [p for p in (root / "grader").rglob("*.py") if p.parent != checks_dir]
    files += [checks_dir / f"{m}.py" for m in SHARED_CHECK_MODULES]
    files.append(root / "bench" / "calibration_stats.py")
    for path in sorted(files):
        shared.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    keys = {}
    for check in checks:
        h = shared.copy()
        for path in _check_files(type(check).__module__.rsplit(".", 1)[1], checks_dir):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        keys[check.id] = h.hexdigest()[:12]
    return keys


# ------------------------------------------------------------------ running one check

_WORKER: dict[str, Any] = {}


def apply_overrides(overrides: dict[str, Any]) -> None:
    """Set ``module.NAME`` to a value in this process (``--set``: calibrate a proposed
    threshold or budget before writing it into the check)."""
    import importlib

    for target, value in overrides.items():
        module, _, name = target.rpartition(".")
        mod = importlib.import_module(module)
        if not hasattr(mod, name):
            raise SystemExit(f"--set {target}: {module} has no {name}")
        setattr(mod, name, value)


def init_worker(secret: str, overrides: dict[str, Any]) -> None:
    """A worker process: one torch thread, the calibration secret, quiet matplotlib, the
    ``--set`` overrides."""
    os.environ["PRACTICO_SECRET"] = secret
    os.environ.setdefault("MPLBACKEND", "Agg")
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    apply_overrides(overrides)
    _WORKER["impls"] = {}


def run_one(check: Any, impl: Any, ctx: Any) -> tuple[Any, list[list[Any]] | None, str]:
    """Run one check on one implementation in this process, as the grading loop grades it:
    inputs, probe (the in-process runner: its data through the wire format both ways),
    verdict. Returns the result, the check's statistics (``None`` when they cannot be
    computed from this output) and why not.

    The one adapter into the grading code (``grader.grading``'s in-process runner and
    ``grader.scoring``'s judge): the verdict needs the probe's raw output beside its result,
    which ``grading.grade`` does not return."""
    from calibration_stats import statistics

    from grader.grading import InProcess
    from grader.request import GradeRequest
    from grader.scoring import check_inputs, judge

    inp = check_inputs(check, ctx)
    request = GradeRequest(tasks=(check.task,), checks=(check.id,), device=ctx.device,
                           variant=ctx.variant)
    run = InProcess(impl).run(request, [check], lambda _check: inp)
    outcome = next(iter(run.outcomes)).data or {}
    result = judge(check, inp, outcome, ctx)
    if outcome.get("status") != "ok":
        return result, None, "no output"
    try:
        stats = statistics(check, inp, outcome["out"], ctx)
    except Exception as exc:  # output a verdict refuses: no number for this run
        return result, None, f"{type(exc).__name__}: {str(exc)[:200]}"
    return result, [[s.name, s.value, s.op, s.limit, s.key, s.nan_passes, s.hard, s.log]
                     for s in stats], ""


def run_unit(unit: tuple[str, str, str, tuple[int, ...], tuple[str, ...], dict[str, str]]
             ) -> list[dict]:
    """Worker side: one implementation, some variants, some checks; one record per run."""
    import torch

    from grader.checks import Context
    from grader.impl import DirImpl
    from grader.scoring import checks_for

    impl_name, folder, digest, variants, check_ids, keys = unit
    impls = _WORKER.setdefault("impls", {})
    if folder not in impls:
        impls[folder] = DirImpl(Path(folder))
    impl = impls[folder]
    by_id = {c.id: c for c in checks_for()}
    records = []
    for variant in variants:
        for check_id in check_ids:
            check = by_id[check_id]
            start = time.process_time()
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                result, stats, why = run_one(check, impl, Context(variant=variant))
            rec = {"check": check_id, "impl": impl_name, "variant": variant, "fp": digest,
                   "ck": keys[check_id],
                   "status": result.status, "key": result.key, "points": result.points,
                   "stats": stats, "cpu": round(time.process_time() - start, 4),
                   "threads": torch.get_num_threads()}
            if why:
                rec["stats_missing"] = why
            if result.status != "passed":
                rec["message"] = result.message[:300]
            records.append(rec)
    return records


# ------------------------------------------------------------------ planning and running


@dataclass
class Plan:
    variants: list[int]
    checks: list[Any]
    impls: dict[str, Impl]
    digests: dict[str, str]  # implementation -> digest of its files
    keys: dict[str, str]  # check -> digest of its code (code_keys)

    def runs_for(self, impl: Impl, check: Any) -> list[int]:
        """The variants a check runs on for an implementation (wrong fixtures: variant 0
        first; the others only for the checks it fails there, see :meth:`keys`)."""
        if check.task not in impl.info.tasks:
            return []
        if check.name in VARIANT_FREE:
            return self.variants[:VARIANT_FREE_RUNS]
        return list(self.variants)

    def keys_for(self, records: dict[tuple[str, str, int], dict]
                 ) -> list[tuple[str, str, int]]:
        """Every (check, implementation, variant) the report covers, given what is known."""
        from calibration_report import targets

        out = []
        for impl in self.impls.values():
            mine = [c for c in self.checks if c.task in impl.info.tasks]
            if impl.info.kind == "wrong":
                # every check of its task on the public inputs, where its targets show; then
                # the other variants of those
                aims = targets(records, impl.info, [c.id for c in mine])
                for check in mine:
                    variants = [0]
                    if check.id in aims:
                        variants += [v for v in self.runs_for(impl, check) if v != 0]
                    out += [(check.id, impl.info.name, v) for v in variants]
            else:
                for check in mine:
                    out += [(check.id, impl.info.name, v) for v in self.runs_for(impl, check)]
        return out


def load_records(path: Path, digests: dict[str, str], keys: dict[str, str]
                 ) -> dict[tuple[str, str, int], dict]:
    """What the results file already holds for these implementations' current files and
    these checks' current code."""
    records: dict[tuple[str, str, int], dict] = {}
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted run
        if digests.get(rec.get("impl")) == rec.get("fp") and keys.get(rec.get("check")) == \
                rec.get("ck"):
            records[(rec["check"], rec["impl"], rec["variant"])] = rec
    return records


def units_for(todo: list[tuple[str, str, int]], plan: Plan, chunk_cpu: float,
              cost: dict[str, float]) -> list[tuple]:
    """Group the runs to do into work units of about ``chunk_cpu`` seconds: per
    implementation and set of checks, consecutive variants."""
    per: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    by_impl_variant: dict[tuple[str, int], list[str]] = defaultdict(list)
    for check, impl, variant in todo:
        by_impl_variant[(impl, variant)].append(check)
    for (impl, variant), checks in by_impl_variant.items():
        per[(impl, tuple(sorted(checks)))].append(variant)
    units = []
    for (impl, checks), variants in per.items():
        each = sum(cost.get(c, 1.0) for c in checks)
        size = max(1, int(chunk_cpu // max(each, 1e-3)))
        variants.sort()
        for i in range(0, len(variants), size):
            info = plan.impls[impl]
            units.append((impl, str(info.folder), plan.digests[impl],
                          tuple(variants[i:i + size]), checks,
                          {c: plan.keys[c] for c in checks}))
    units.sort(key=lambda u: -len(u[3]) * sum(cost.get(c, 1.0) for c in u[4]))
    return units


def measured_cost(records: dict[tuple[str, str, int], dict], checks: list[Any]
                  ) -> dict[str, float]:
    """Seconds of CPU per run of each check: measured where the results file has runs, else
    the check's own ``cost`` (rough seconds on 2 cores)."""
    seen: dict[str, list[float]] = defaultdict(list)
    for (check, _, _), rec in records.items():
        seen[check].append(rec.get("cpu", 0.0))
    return {c.id: (sum(seen[c.id]) / len(seen[c.id]) if seen[c.id] else c.cost) for c in checks}


def run(plan: Plan, out_file: Path, records: dict, jobs: int, secret: str,
        overrides: dict[str, Any]) -> None:
    """Run what the plan still needs, appending each record to ``out_file`` as it arrives.

    Wrong fixtures go in two steps: every check of their task on variant 0, then the other
    variants of the checks they failed there."""
    cost = measured_cost(records, plan.checks)
    start = time.monotonic()
    done_runs = 0
    shown = 0.0

    def todo() -> list[tuple[str, str, int]]:
        return [k for k in plan.keys_for(records) if k not in records]

    pending: dict[Future, tuple] = {}
    queued: set[tuple[str, str, int]] = set()
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=init_worker,
                             initargs=(secret, overrides)) as pool, \
            out_file.open("a", encoding="utf-8") as sink:
        while True:
            fresh = [k for k in todo() if k not in queued]
            for unit in units_for(fresh, plan, 20.0, cost):
                pending[pool.submit(run_unit, unit)] = unit
                queued.update((c, unit[0], v) for v in unit[3] for c in unit[4])
            if not pending:
                break
            total = done_runs + sum(len(u[3]) * len(u[4]) for u in pending.values())
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.pop(future)
                for rec in future.result():
                    records[(rec["check"], rec["impl"], rec["variant"])] = rec
                    sink.write(json.dumps(rec) + "\n")
                    done_runs += 1
                sink.flush()
            elapsed = time.monotonic() - start
            if elapsed - shown >= PROGRESS_EVERY or not pending:
                shown = elapsed
                left = elapsed / max(done_runs, 1) * (total - done_runs)
                print(f"  {done_runs}/{total} runs, {elapsed / 60:.1f} min, about "
                      f"{left / 60:.0f} min left", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    doc = (__doc__ or "").strip().splitlines()[0]
    p = argparse.ArgumentParser(description=doc)
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--full", action="store_const", const=FULL, dest="count",
                      help=f"{FULL} variants per check (0..{FULL - 1})")
    size.add_argument("--quick", action="store_const", const=QUICK, dest="count",
                      help=f"{QUICK} variants per check")
    size.add_argument("--variants", type=int, dest="count", metavar="N",
                      help="variants 0..N-1")
    size.add_argument("--seeds", type=int, nargs="+", metavar="V",
                      help="exactly these variant numbers (0 = the public inputs)")
    p.add_argument("--checks", nargs="+", metavar="SUBSTR",
                   help="only checks whose id (task::name) contains one of these")
    p.add_argument("--impls", nargs="+", metavar="SUBSTR",
                   help="only implementations whose name contains one of these")
    p.add_argument("--correct", nargs="+", type=Path, default=[], metavar="DIR",
                   help="also calibrate on this folder of ex*.py, as a correct implementation")
    p.add_argument("--wrong", nargs="+", default=[], metavar="TASK=DIR",
                   help="also calibrate on this folder of ex*.py, as a wrong one for TASK")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: every core)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    p.add_argument("--secret", default=CALIBRATION_SECRET,
                   help="the course secret the hidden variants are drawn from")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables here")
    p.add_argument("--plan", action="store_true", help="print the plan and its cost, run nothing")
    p.add_argument("--set", nargs="+", default=[], metavar="MODULE.NAME=VALUE", dest="sets",
                   help="run with this constant changed (a Python literal), e.g. "
                        "grader.checks.replay.UPDATE_RTOL=0.1: a proposed threshold calibrated "
                        "before it is written into the check")
    args = p.parse_args(argv)
    args.overrides = {}
    for item in args.sets:
        target, sep, text = item.partition("=")
        try:
            args.overrides[target] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            p.error(f"--set {item}: write MODULE.NAME=VALUE with a Python literal value")
        if not sep or "." not in target:
            p.error(f"--set {item}: write MODULE.NAME=VALUE")
    if args.seeds is not None:
        args.variants_list = list(dict.fromkeys(args.seeds))
        if any(v < 0 for v in args.variants_list):
            p.error("--seeds: variant numbers are >= 0")
    else:
        if args.count < 1:
            p.error("--variants: at least 1")
        args.variants_list = list(range(args.count))
    if len(args.secret) < 16:
        p.error("--secret: at least 16 characters (as PRACTICO_SECRET)")
    args.wrong_pairs = []
    for item in args.wrong:
        task, sep, folder = item.partition("=")
        if not sep:
            p.error(f"--wrong {item}: write TASK=DIR")
        args.wrong_pairs.append((task, Path(folder)))
    for folder in [*args.correct, *(f for _, f in args.wrong_pairs)]:
        if not any(folder.glob("ex*.py")):
            p.error(f"{folder}: no ex*.py files there")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["PRACTICO_SECRET"] = args.secret
    from grader.scoring import checks_for

    checks = [c for c in checks_for()
              if not args.checks or any(s in c.id for s in args.checks)]
    if not checks:
        print(f"no check id contains any of {args.checks}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    impls = implementations(args.out / "impls", args.correct, args.wrong_pairs, args.impls)
    digests = {i.info.name: folder_digest(i.folder) for i in impls}
    apply_overrides(args.overrides)
    keys = code_keys(checks, args.secret, overrides=args.overrides)
    plan = Plan(args.variants_list, checks, {i.info.name: i for i in impls}, digests, keys)
    out_file = args.out / RESULTS
    records = load_records(out_file, digests, keys)
    if args.plan:
        print_plan(plan, records)
        return 0
    print(f"calibrating {len(checks)} checks on {len(impls)} implementations, "
          f"variants {args.variants_list[0]}..{args.variants_list[-1]} "
          f"({len(args.variants_list)}), {args.jobs} workers; results {out_file}",
          file=sys.stderr)
    started = time.monotonic()
    if args.overrides:
        print(f"with {args.overrides} (not the kit's own values)", file=sys.stderr)
    run(plan, out_file, records, args.jobs, args.secret, args.overrides)
    keys = plan.keys_for(records)
    points = {c.id: c.points for c in checks}
    variant_free = {c.id for c in checks if c.name in VARIANT_FREE}
    infos = {name: i.info for name, i in plan.impls.items()}
    sums = summarize(records, keys, infos, points, variant_free)
    per_task = defaultdict(int)
    for c in checks_for():
        per_task[c.task] += 1
    fixture_sums = fixtures(records, keys, infos, variant_free, dict(per_task))
    text, ok = report(sums, fixture_sums, args.variants_list)
    print(text)
    print(f"wall {(time.monotonic() - started) / 60:.1f} min for the runs still to do, "
          f"{args.jobs} workers; implementations: "
          + ", ".join(f"{i.info.name} ({i.info.kind})" for i in impls if i.info.kind == "correct"))
    if args.markdown:
        args.markdown.write_text(markdown(sums, fixture_sums), encoding="utf-8")
    return 0 if ok else 1


def print_plan(plan: Plan, records: dict) -> None:
    """Runs per check (those the wrong fixtures' public results already decide), and their
    CPU cost: measured per run where the results file has runs of the check."""
    cost = measured_cost(records, plan.checks)
    keys = plan.keys_for(records)
    per: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for key in keys:
        per[key[0]].append(key)
    total = left = 0.0
    for check in plan.checks:
        mine = per.get(check.id, [])
        todo = [k for k in mine if k not in records]
        total += len(mine) * cost[check.id]
        left += len(todo) * cost[check.id]
        mode = "same every variant" if check.name in VARIANT_FREE else "every variant"
        print(f"{check.id:<60} {len(mine):>6} runs ({mode}), {cost[check.id]:6.3f} s each, "
              f"{len(todo):>6} to do")
    print(f"CPU: {total / 3600:.2f} h in all, {left / 3600:.2f} h still to do (wrong fixtures' "
          "other variants are planned once their public run shows which checks they fail)")


if __name__ == "__main__":
    sys.exit(main())
