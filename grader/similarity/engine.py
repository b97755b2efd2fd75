"""Which pairs of students share code: ``copydetect`` fingerprints, a MinHash LSH pre-filter.

Each student's own code per file (:mod:`grader.similarity.collect`) becomes a
``copydetect.CodeFingerprint``: tokenised by Pygments with names, strings and comments
normalised away (a renamed variable still matches), every k-gram of the normalised code kept
(``copydetect``'s defaults, k = 25 and a guarantee threshold of 25: no winnowing, so no
fingerprint is chosen by a hash value and the result is the same on every run), and the
starter file's k-grams removed as boilerplate. Two students are compared file by file with
``copydetect.compare_files``: for each side, the share of its fingerprinted tokens that lie in
code the other side has too. Reordered functions still match (fingerprints have no position).

A pair's score is the mean over both sides of (tokens matched / tokens fingerprinted) over all
files; it is flagged when the score reaches ``threshold`` (or the two submissions are
byte-identical) and at least ``min_tokens`` tokens matched: two tiny submissions that both
write ``return F.one_hot(y, 10).float()`` are not evidence of anything.

Comparing all n(n-1)/2 pairs costs about a millisecond each; for a large class a pre-filter
picks the candidates: per file, a MinHash (``datasketch``, 128 permutations, seeded) of the
set of the student's k-grams, and an LSH index at Jaccard ``lsh_threshold``; a pair is
compared when any one file is a candidate. The k-grams are hashed with BLAKE2b for the
MinHash, not with Python's per-process ``hash``, so the candidates do not change between runs.
Fingerprinting and comparing run in ``jobs`` forked processes: fork, so that every process
shares the parent's string-hash seed and ``copydetect``'s hashes agree across them.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from grader.similarity.collect import FILES, Student

#: copydetect's noise threshold (its default): k-grams of this many normalised characters
NOISE = 25
NUM_PERM = 128
#: LSH threshold (estimated Jaccard of two files' k-gram sets): pairs above it are compared
LSH_THRESHOLD = 0.3
#: above this many pairs the pre-filter is on unless told otherwise (about 320 students)
AUTO_PREFILTER_PAIRS = 50_000


@dataclass
class FileMatch:
    """One file of a pair: the share of each side's tokens that matched, the tokens
    matched on side A, and the matched character ranges on each side (start, end)."""

    file: str
    score_a: float
    score_b: float
    tokens: int
    regions_a: list[tuple[int, int]] = field(default_factory=list)
    regions_b: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Pair:
    a: int  # indexes into the students list, a < b
    b: int
    score: float
    score_a: float
    score_b: float
    tokens: int  # tokens matched (mean of both sides)
    identical: bool
    files: list[FileMatch] = field(default_factory=list)
    flagged: bool = False


@dataclass
class Result:
    pairs: list[Pair]  # every compared pair with some match, best first
    compared: int
    prefilter: bool
    seconds: dict[str, float]
    coverage: list[float]  # per student: own tokens fingerprinted


def _boilerplate(starter: dict[str, str]) -> dict[str, Any]:
    """Per file, the starter's k-gram hashes (copydetect's boilerplate)."""
    import numpy as np

    out = {}
    for name, text in starter.items():
        fp = _fingerprint(text, None)
        out[name] = np.unique(np.array(sorted(fp.hashes), dtype=np.int64))
    return out


def _fingerprint(text: str, boilerplate: Any) -> Any:
    from copydetect import CodeFingerprint

    # window 1 (= guarantee threshold == noise threshold, copydetect's defaults): every
    # k-gram is kept; language forced, the name is only a label
    return CodeFingerprint("own.py", NOISE, 1, boilerplate, language="python",
                           fp=io.StringIO(text))


def _stable_hashes(fp: Any) -> list[bytes]:
    """The fingerprint's k-grams (the normalised text), hashed with BLAKE2b: the same on
    every run, unlike Python's ``hash`` that ``copydetect`` uses."""
    grams = {fp.filtered_code[i:i + NOISE] for positions in fp.hash_idx.values()
             for i in positions}
    return sorted(hashlib.blake2b(g.encode("utf-8", "surrogatepass"), digest_size=8).digest()
                  for g in grams)


# The state the forked workers read (copy-on-write): set in the parent before forking.
_STATE: dict[str, Any] = {}


def _fingerprint_student(index: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """One student's fingerprints per file, and each file's MinHash (when pre-filtering)."""
    student: Student = _STATE["students"][index]
    boilerplate = _STATE["boilerplate"]
    fps, hashes = {}, {}
    for name in FILES:
        text = student.own.get(name)
        if not text:
            continue
        fp = _fingerprint(text, boilerplate.get(name))
        if fp.token_coverage <= 0:
            continue
        fps[name] = fp
        if _STATE["prefilter"]:
            from datasketch import LeanMinHash, MinHash

            mh = MinHash(num_perm=NUM_PERM, seed=1)
            mh.update_batch(_stable_hashes(fp))
            hashes[name] = LeanMinHash(mh)  # without its permutations: small to send back
    return index, fps, hashes


def compare(i: int, j: int, regions: bool = False) -> Pair | None:
    """Students ``i`` and ``j`` compared file by file (None when nothing matched); with
    ``regions``, the matched character ranges too (kept only for the pairs a report shows:
    a large class has hundreds of thousands of compared pairs)."""
    from copydetect import compare_files

    fps, coverage = _STATE["fps"], _STATE["coverage"]
    files = []
    over_a = over_b = 0.0
    for name in FILES:
        fa, fb = fps[i].get(name), fps[j].get(name)
        if fa is None or fb is None:
            continue
        tokens, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
        if not tokens:
            continue
        over_a += sim_a * fa.token_coverage
        over_b += sim_b * fb.token_coverage
        match = FileMatch(name, float(sim_a), float(sim_b), int(tokens))
        if regions:
            match.regions_a = [(int(s), int(e)) for s, e in zip(*slices_a)]
            match.regions_b = [(int(s), int(e)) for s, e in zip(*slices_b)]
        files.append(match)
    identical = bool(_STATE["digests"][i]) and _STATE["digests"][i] == _STATE["digests"][j]
    if not files and not identical:
        return None
    score_a = over_a / coverage[i] if coverage[i] else 0.0
    score_b = over_b / coverage[j] if coverage[j] else 0.0
    return Pair(i, j, (score_a + score_b) / 2, score_a, score_b,
                int(round((over_a + over_b) / 2)), identical, files)


def _compare_chunk(pairs: list[tuple[int, int]]) -> list[Pair]:
    return [p for p in (compare(i, j) for i, j in pairs) if p is not None]


def _candidates(hashes: list[dict[str, Any]]) -> set[tuple[int, int]]:
    """Pairs with at least one file whose MinHash estimates Jaccard >= LSH_THRESHOLD."""
    from datasketch import MinHashLSH

    found: set[tuple[int, int]] = set()
    for name in FILES:
        lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        sketches = {i: h[name] for i, h in enumerate(hashes) if name in h}
        for i, sketch in sketches.items():
            lsh.insert(i, sketch)
        for i, sketch in sketches.items():
            for j in lsh.query(sketch):
                if j != i:
                    found.add((min(i, j), max(i, j)))
    return found


@contextmanager
def _pool(jobs: int, work: int) -> Iterator[Any]:
    """A pool of ``jobs`` forked workers, or None to work in this process (one job, fewer
    than 4 units of work per job, or no fork on this system)."""
    if jobs <= 1 or work < 4 * jobs or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(jobs)
    try:
        yield pool
    finally:
        pool.close()
        pool.join()


def find_pairs(students: list[Student], starter: dict[str, str], *, threshold: float,
               min_tokens: int, prefilter: bool | None = None, jobs: int | None = None
               ) -> Result:
    """Every pair of ``students`` with code in common (all pairs, or the pre-filter's
    candidates plus every identical pair), best first, flagged as the module says."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    n = len(students)
    total_pairs = n * (n - 1) // 2
    use_prefilter = total_pairs > AUTO_PREFILTER_PAIRS if prefilter is None else prefilter
    seconds: dict[str, float] = {}
    start = time.monotonic()
    _STATE.clear()
    _STATE.update(students=students, boilerplate=_boilerplate(starter),
                  prefilter=use_prefilter, digests=[s.digest for s in students])
    fps: list[dict[str, Any]] = [{} for _ in students]
    hashes: list[dict[str, Any]] = [{} for _ in students]
    try:
        with _pool(jobs, n) as pool:
            done = (pool.imap_unordered(_fingerprint_student, range(n), chunksize=8) if pool
                    else map(_fingerprint_student, range(n)))
            for index, mine, sketches in done:
                fps[index], hashes[index] = mine, sketches
        seconds["fingerprint"] = time.monotonic() - start
        coverage = [float(sum(fp.token_coverage for fp in f.values())) for f in fps]
        _STATE.update(fps=fps, coverage=coverage)

        mark = time.monotonic()
        if use_prefilter:
            todo = _candidates(hashes)
            # identical submissions are always compared (and flagged), whatever LSH says
            by_digest: dict[str, list[int]] = {}
            for i, s in enumerate(students):
                if s.digest:
                    by_digest.setdefault(s.digest, []).append(i)
            for group in by_digest.values():
                todo.update(combinations(group, 2))
            todo_list = sorted(todo)
        else:
            todo_list = list(combinations(range(n), 2))
        seconds["prefilter"] = time.monotonic() - mark

        mark = time.monotonic()
        # forked now, the workers see the fingerprints (copy-on-write, nothing pickled)
        with _pool(jobs, len(todo_list) // 50) as pool:
            if pool:
                size = max(50, len(todo_list) // (jobs * 8))
                chunks = [todo_list[k:k + size] for k in range(0, len(todo_list), size)]
                pairs = [p for part in pool.imap(_compare_chunk, chunks) for p in part]
            else:
                pairs = _compare_chunk(todo_list)
        seconds["compare"] = time.monotonic() - mark
    finally:
        _STATE.pop("students", None)
    for pair in pairs:
        has_code = coverage[pair.a] > 0 and coverage[pair.b] > 0
        pair.flagged = has_code and pair.tokens >= min_tokens and (
            pair.score >= threshold or pair.identical)
    pairs.sort(key=lambda p: (not p.flagged, -p.score, p.a, p.b))
    seconds["total"] = time.monotonic() - start
    return Result(pairs, len(todo_list), use_prefilter, seconds, coverage)


def fingerprints() -> list[dict[str, Any]]:
    """The fingerprints of the last :func:`find_pairs` (the report shows their code)."""
    return _STATE.get("fps", [])


def with_regions(pair: Pair) -> Pair:
    """``pair`` compared again with its matched regions (after :func:`find_pairs`)."""
    again = compare(pair.a, pair.b, regions=True)
    return pair if again is None else again
