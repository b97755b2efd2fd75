"""What ``bench/calibrate.py`` prints: per check, how often correct code failed and wrong code
passed (with exact 95 % upper bounds), the margins of each thresholded statistic, per wrong
fixture how often it lost its points, and what the run cost.

Input: the records of one plan (one per check, implementation and variant, as written to the
results file) and what the plan knew about each implementation. Nothing here runs a check.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grader.checks.base import Stat

#: a check meets the goal when every correct run passes and each wrong fixture loses its
#: points on at least this fraction of the variants
WRONG_CAUGHT_GOAL = 0.99
CONFIDENCE = 0.95


def upper_bound(failures: int, runs: int, confidence: float = CONFIDENCE) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound of a binomial rate.

    The largest rate ``p`` under which seeing ``failures`` or fewer in ``runs`` still has
    probability ``1 - confidence``; for 0 failures ``1 - (1 - confidence)^(1/runs)`` (about
    3 / runs, the rule of three: 0 of 200 -> 1.49 %)."""
    if runs <= 0:
        return 1.0
    if failures >= runs:
        return 1.0
    alpha = 1.0 - confidence
    if failures == 0:
        return 1.0 - alpha ** (1.0 / runs)

    def cdf(p: float) -> float:  # P(X <= failures) for X ~ Binomial(runs, p), in log space
        terms = [math.lgamma(runs + 1) - math.lgamma(k + 1) - math.lgamma(runs - k + 1)
                 + k * math.log(p) + (runs - k) * math.log1p(-p) for k in range(failures + 1)]
        top = max(terms)
        return math.exp(top) * sum(math.exp(t - top) for t in terms)

    lo, hi = failures / runs, 1.0
    for _ in range(100):  # cdf falls with p: bisect for cdf(p) = alpha
        mid = (lo + hi) / 2
        if cdf(mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def rate_text(k: int, n: int) -> str:
    """``k/n`` as a rate and its upper bound: ``0 (< 1.49 %)``, ``2 = 1.0 % (< 3.1 %)``."""
    if n == 0:
        return "—"

    def pct(x: float) -> str:
        return f"{x:.0f}" if x >= 10 else f"{x:.2g}"

    bound = 100 * upper_bound(k, n)
    if k == 0:
        return f"0 (< {pct(bound)} %)"
    return f"{k} = {pct(100 * k / n)} % (< {pct(bound)} %)"


@dataclass
class ImplInfo:
    """What the plan knows about one implementation."""

    name: str
    kind: str  # "correct" or "wrong"
    tasks: tuple[str, ...]
    declared: tuple[str, ...] = ()  # a wrong fixture's declared message keys


@dataclass
class StatSummary:
    """One statistic of one check over every correct run, and its wrong runs' closest value."""

    name: str
    op: str
    limit: float
    key: str | None
    hard: bool = False
    log: bool = False
    correct: list[float] = field(default_factory=list)
    correct_nan: int = 0
    #: values of the wrong runs this statistic catches (outside its limit), and whose
    wrong: list[tuple[float, str]] = field(default_factory=list)

    def closest_correct(self) -> float | None:
        """The correct value nearest the limit (the smallest margin)."""
        if not self.correct:
            return None
        return min(self.correct) if self.op == ">=" else max(self.correct)

    def closest_wrong(self) -> tuple[float, str] | None:
        """Of the wrong runs this statistic catches, the value nearest the limit, and whose."""
        finite = [(v, who) for v, who in self.wrong if not math.isnan(v)]
        if not finite:
            return None
        return max(finite) if self.op == ">=" else min(finite)

    def spread(self) -> tuple[float, float] | None:
        if len(self.correct) < 2:
            return None
        return statistics.fmean(self.correct), statistics.stdev(self.correct)

    def z(self) -> float | None:
        """The correct distribution's mean distance from the limit, in its standard deviations
        (of the logarithm for a ``log`` statistic; ``inf`` for a constant value on the passing
        side; ``None`` for a hard limit)."""
        if len(self.correct) < 2 or self.hard:
            return None
        values, limit = self.correct, self.limit
        if self.log:
            if min(values) <= 0 or limit <= 0:
                return None
            values, limit = [math.log(v) for v in values], math.log(limit)
        mean, sd = statistics.fmean(values), statistics.stdev(values)
        margin = mean - limit if self.op == ">=" else limit - mean
        if sd == 0:
            return math.inf if margin > 0 else -math.inf if margin < 0 else 0.0
        return margin / sd


@dataclass
class CheckSummary:
    check: str
    points: int
    variant_free: bool
    correct_runs: int = 0
    correct_fails: list[dict[str, Any]] = field(default_factory=list)
    wrong_runs: int = 0
    wrong_passes: list[dict[str, Any]] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, StatSummary] = field(default_factory=dict)
    cpu: list[float] = field(default_factory=list)
    deterministic: dict[str, bool] = field(default_factory=dict)  # impl -> same every run
    variants: set[int] = field(default_factory=set)


def targets(records: dict[tuple[str, str, int], dict[str, Any]],
            impl: ImplInfo, checks: Iterable[str]) -> dict[str, str]:
    """A wrong fixture's target checks: those of its task that fail on the public variant
    (0), with the message key they fail with there."""
    found = {}
    for check in checks:
        rec = records.get((check, impl.name, 0))
        if rec is not None and rec["status"] != "passed":
            found[check] = rec["key"]
    return found


def _stat_inside(stat: list[Any]) -> bool:
    """A stored statistic (:class:`~grader.checks.base.Stat`'s fields in order, as
    ``calibrate.run_one`` writes them; null for a NaN) on the passing side of its limit, as
    :attr:`Stat.inside` decides."""
    name, value, *rest = stat[:8]
    return Stat(name, math.nan if value is None else value, *rest).inside


def disagrees(rec: dict[str, Any]) -> bool:
    """The verdict and the statistics contradict each other: it passed with a statistic outside
    its limit, or it failed with a statistic's key while every statistic of that key is inside."""
    stats = rec.get("stats") or []
    if rec["status"] == "passed":
        return not all(_stat_inside(s) for s in stats)
    keyed = [s for s in stats if s[4] is not None and s[4] == rec["key"]]
    return bool(keyed) and all(_stat_inside(s) for s in keyed)


def summarize(records: dict[tuple[str, str, int], dict[str, Any]],
              plan: list[tuple[str, str, int]], impls: dict[str, ImplInfo],
              points: dict[str, int], variant_free: set[str]) -> dict[str, CheckSummary]:
    """Per check, in plan order, everything the report prints."""
    sums: dict[str, CheckSummary] = {}
    public_keys: dict[tuple[str, str], str] = {}
    for check, impl, variant in plan:
        rec = records.get((check, impl, variant))
        if rec is not None and variant == 0 and impls[impl].kind == "wrong":
            public_keys[(check, impl)] = rec["key"]
    by_impl: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for check, impl, variant in plan:
        s = sums.setdefault(check, CheckSummary(check, points[check], check in variant_free))
        rec = records.get((check, impl, variant))
        if rec is None:
            continue
        info = impls[impl]
        s.variants.add(variant)
        s.cpu.append(rec.get("cpu", 0.0))
        by_impl[(check, impl)].append(rec)
        if disagrees(rec):
            s.disagreements.append(rec)
        public_key = public_keys.get((check, impl))
        if info.kind == "correct":
            s.correct_runs += 1
            if rec["status"] != "passed":
                s.correct_fails.append(rec)
        elif public_key is not None and public_key != "":
            # a target of this wrong fixture (it fails this check on the public variant)
            s.wrong_runs += 1
            if rec["status"] == "passed":
                s.wrong_passes.append(rec)
        else:
            continue  # not a check this fixture is caught by: no wrong-side number
        for stat in rec.get("stats") or []:
            name, value, op, limit, key, _, hard, log = stat
            summary = s.stats.setdefault(name, StatSummary(name, op, limit, key, hard, log))
            if info.kind == "correct":
                if value is None or math.isnan(value):
                    summary.correct_nan += 1
                else:
                    summary.correct.append(value)
            elif not _stat_inside(stat) and key in (None, rec["key"]):
                # a wrong run this threshold catches: outside it, and failed with its key
                summary.wrong.append((math.nan if value is None else value, impl))
    for (check, impl), recs in by_impl.items():
        if check in variant_free and len(recs) > 1:
            sums[check].deterministic[impl] = len({_fingerprint(r) for r in recs}) == 1
    return sums


def _fingerprint(rec: dict[str, Any]) -> tuple:
    """What must be the same on every run of a check that does not depend on the variant."""
    stats = tuple((s[0], s[1]) for s in rec.get("stats") or [])
    return rec["status"], rec["key"], rec["points"], stats


@dataclass
class FixtureSummary:
    name: str
    task: str
    targets: dict[str, str]
    #: every check of its task was run (else a fixture without a target is not a miss)
    complete: bool = True
    variants: int = 0
    caught: int = 0
    missed: list[int] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.variants > 0 and self.caught / self.variants >= WRONG_CAUGHT_GOAL


def fixtures(records: dict[tuple[str, str, int], dict[str, Any]],
             plan: list[tuple[str, str, int]], impls: dict[str, ImplInfo],
             variant_free: set[str] = frozenset(),
             task_checks: dict[str, int] | None = None) -> list[FixtureSummary]:
    """Per wrong fixture: on how many variants its task lost points (a target check failed).

    A check that is the same on every variant (``variant_free``) runs on two; its public
    verdict stands for the variants it did not run on, as it would in grading.
    ``task_checks``: how many checks each task has, to tell a run of only some of them."""
    planned: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for check, impl, variant in plan:
        if impls[impl].kind == "wrong":
            planned[impl][variant].append(check)
    out = []
    for name, per_variant in planned.items():
        info = impls[name]
        checks_run = sorted({c for cs in per_variant.values() for c in cs})
        aims = targets(records, info, checks_run)
        task = info.tasks[0] if info.tasks else "?"
        complete = task_checks is None or len(checks_run) >= task_checks.get(task, 0)
        summary = FixtureSummary(name, task, aims, complete)
        for variant in sorted(per_variant):
            ran = [c for c in aims if (c, name, variant) in records]
            if not ran:
                continue
            verdicts = [records[(c, name, variant)]["status"] for c in ran]
            verdicts += [records[(c, name, 0)]["status"] for c in aims
                         if c in variant_free and c not in ran]
            summary.variants += 1
            lost = any(status != "passed" for status in verdicts)
            if lost:
                summary.caught += 1
            else:
                summary.missed.append(variant)
        out.append(summary)
    return out


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if math.isnan(value):
        return "nan"
    return f"{value:.{digits}g}"


def stat_line(st: StatSummary) -> str:
    spread = st.spread()
    z = st.z()
    wrong = st.closest_wrong()
    parts = [f"{st.name} {st.op} {_fmt(st.limit, 6)}:",
             f"correct closest {_fmt(st.closest_correct())}"]
    if spread is not None:
        parts.append(f"mean {_fmt(spread[0])} sd {_fmt(spread[1], 3)} "
                     + ("(a hard limit)" if st.hard else
                        f"z {_fmt(z, 3)}" + (" (of the log)" if st.log else "")))
    if st.correct_nan:
        parts.append(f"({st.correct_nan} nan)")
    parts.append(f"| caught {len(st.wrong)} wrong runs, closest {_fmt(wrong[0])} ({wrong[1]})"
                 if wrong else "| catches no wrong run")
    return " ".join(parts)


def thin(st: StatSummary) -> bool:
    """A margin under 2 standard deviations of the correct distribution."""
    z = st.z()
    return z is not None and z < 2


def report(sums: dict[str, CheckSummary], fixture_sums: list[FixtureSummary],
           variants: list[int]) -> tuple[str, bool]:
    """The text report and whether every goal is met."""
    lines = []
    ok = True
    width = max((len(c) for c in sums), default=10)
    lines.append(f"{'check':<{width}}  {'runs':>9}  {'correct':>7}  {'false fails':<22} "
                 f"{'wrong':>6}  {'wrong passes':<22} {'s/run':>6}")
    for check, s in sums.items():
        per = (f"{len(s.variants)} (same every variant)" if s.variant_free
               else f"{len(s.variants)} variants")
        cpu = statistics.fmean(s.cpu) if s.cpu else 0.0
        lines.append(f"{check:<{width}}  {per:>9}  {s.correct_runs:>7}  "
                     f"{rate_text(len(s.correct_fails), s.correct_runs):<22} {s.wrong_runs:>6}  "
                     f"{rate_text(len(s.wrong_passes), s.wrong_runs):<22} {cpu:6.2f}")
        for st in s.stats.values():
            flag = "  <- margin under 2 sd" if thin(st) else ""
            lines.append(f"    {stat_line(st)}{flag}")
        if s.variant_free and s.deterministic:
            same = all(s.deterministic.values())
            lines.append(f"    same every variant: {len(s.variants)} runs per implementation, "
                         f"identical on each: {'yes' if same else 'NO'}"
                         + ("" if same else " (" + ", ".join(
                             i for i, v in s.deterministic.items() if not v) + ")"))
            ok &= same
        for rec in s.correct_fails[:5]:
            lines.append(f"    FALSE FAIL {rec['impl']} variant {rec['variant']}: {rec['key']} "
                         f"{rec.get('message', '')[:160]}")
        for rec in s.wrong_passes[:5]:
            lines.append(f"    wrong pass {rec['impl']} variant {rec['variant']}")
        for rec in s.disagreements[:3]:
            lines.append(f"    STATISTIC DISAGREES WITH VERDICT {rec['impl']} variant "
                         f"{rec['variant']}: {rec['status']} {rec['key']} {rec.get('stats')}")
        ok &= not s.correct_fails and not s.disagreements
    lines.append("")
    lines.append(f"wrong fixtures (each loses its task's points on >= {WRONG_CAUGHT_GOAL:.0%} "
                 f"of the variants):")
    for f in sorted(fixture_sums, key=lambda f: (f.task, f.name)):
        if not f.targets and not f.complete:
            lines.append(f"  --  {f.name:<34} {f.task:<13} not caught by the checks run here "
                         "(its task's others were not run)")
            continue
        ok &= f.met
        where = ", ".join(f"{c.split('::')[1]} ({k})" for c, k in f.targets.items()) or "nothing"
        missed = f"; missed on variants {f.missed[:10]}" if f.missed else ""
        lines.append(f"  {'ok ' if f.met else 'LOW'} {f.name:<34} {f.task:<13} caught on "
                     f"{f.caught}/{f.variants} by {where}{missed}")
    total_cpu = sum(sum(s.cpu) for s in sums.values())
    lines.append("")
    lines.append(f"runs: {sum(len(s.cpu) for s in sums.values())}, CPU {total_cpu / 3600:.2f} h "
                 f"in the checks; variants {_variant_text(variants)}")
    thin_stats = [(c, st.name) for c, s in sums.items() for st in s.stats.values() if thin(st)]
    no_false = all(not s.correct_fails for s in sums.values())
    caught = all(f.met for f in fixture_sums if f.targets or f.complete)
    lines.append(f"goals: zero false fails {'met' if no_false else 'NOT met'}; every wrong "
                 f"fixture caught on >= {WRONG_CAUGHT_GOAL:.0%} of its variants "
                 f"{'met' if caught else 'NOT met'}; statistics that contradict their verdict: "
                 f"{sum(len(s.disagreements) for s in sums.values())}; margins under 2 sd: "
                 f"{len(thin_stats)}")
    return "\n".join(lines), ok


def _variant_text(variants: list[int]) -> str:
    if variants == list(range(len(variants))):
        return f"0..{len(variants) - 1} ({len(variants)})"
    return ", ".join(map(str, variants[:20])) + (" ..." if len(variants) > 20 else "")


def markdown(sums: dict[str, CheckSummary], fixture_sums: list[FixtureSummary]) -> str:
    """The tables of docs/calibration.md."""
    out = ["| check | pts | runs per implementation | correct runs | false fails (95 % upper) | "
           "wrong runs | wrong passes (95 % upper) |", "|---|---|---|---|---|---|---|"]
    for check, s in sums.items():
        per = (f"{len(s.variants)}, same every variant" if s.variant_free
               else f"{len(s.variants)} variants")
        out.append(f"| `{check}` | {s.points} | {per} | {s.correct_runs} | "
                   f"{rate_text(len(s.correct_fails), s.correct_runs)} | {s.wrong_runs} | "
                   f"{rate_text(len(s.wrong_passes), s.wrong_runs)} |")
    out += ["", "| check | statistic | limit | correct: closest | mean | sd | margin (sd) | "
            "wrong runs it catches: closest (fixture) |", "|---|---|---|---|---|---|---|---|"]
    for check, s in sums.items():
        for st in s.stats.values():
            spread = st.spread()
            wrong = st.closest_wrong()
            mean, sd = spread if spread else (None, None)
            margin = ("hard limit" if st.hard else
                      _fmt(st.z(), 3) + (" (log)" if st.log else ""))
            # a statistic's name may hold "|" (max|w|): escaped, or it splits the cell
            out.append(f"| `{check}` | {st.name.replace('|', chr(92) + '|')} | "
                       f"{st.op} {_fmt(st.limit, 6)} | "
                       f"{_fmt(st.closest_correct())} | {_fmt(mean)} | {_fmt(sd, 3)} | "
                       f"{margin} | "
                       + (f"{len(st.wrong)}: {_fmt(wrong[0])} (`{wrong[1]}`) |" if wrong
                          else "— |"))
    out += ["", "| wrong fixture | task | caught by (public key) | variants | lost its points on |",
            "|---|---|---|---|---|"]
    for f in sorted(fixture_sums, key=lambda f: (f.task, f.name)):
        where = ", ".join(f"`{c.split('::')[1]}` (`{k}`)" for c, k in f.targets.items())
        out.append(f"| `{f.name}` | `{f.task}` | {where} | {f.variants} | {f.caught} |")
    return "\n".join(out) + "\n"
