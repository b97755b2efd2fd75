"""``python -m grader similarity``: planted copies found, independent work left alone, hostile
names and code inert in the report (grader/similarity/).

The class (built once per module, tests/similarity_class.py): the reference and
fixtures/alt_correct (two independent solutions), a disguised copy of alt_correct (every local
name renamed, the functions of each file reordered, comments added), a byte-identical pair,
the untouched stubs, three independent students (one with a file that is not UTF-8, one with a
file over the grading cap, one with a file that is a link), a student whose folder name and
code are hostile markup and formulas (another disguised copy of alt_correct), and a student
folder that is a link to the reference (reported, never followed).
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: a student-chosen folder name: a formula, markup that would run, a bidi override
HOSTILE = "=HYPERLINK(\"x\")<img src=x onerror=\"document.title='PWNED'\">\u202eabc"
PAGE_TITLE_ES = "Informe de similitud de código"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PRACTICO_LANG": "es"}
    return subprocess.run([sys.executable, "-m", "grader", "similarity", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def _write(folder: Path, files: dict[str, str | bytes]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        if isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def canary():
    from chromium_probe import Canary

    server = Canary()
    yield server
    server.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory, canary) -> dict:
    from patching import materialise_alt_correct, strip_markers
    from similarity_class import disguised, independent, materials

    tmp = tmp_path_factory.mktemp("similarity")
    root = tmp / "class"
    rng = random.Random(7)
    mats = materials()
    ref = {p.name: strip_markers(p.read_text(encoding="utf-8"))
           for p in (ROOT / "solutions").glob("ex[0-9]_*.py")}
    alt_dir = materialise_alt_correct(tmp / "alt-files")
    alt = {p.name: p.read_text(encoding="utf-8") for p in alt_dir.glob("ex*.py")}
    _write(root / "referencia", ref)
    _write(root / "alternativa", alt)
    _write(root / "copia_disfrazada", disguised(alt, mats, rng))
    twin = independent(mats, rng)
    _write(root / "gemela_a", twin)
    _write(root / "gemela_b", twin)
    _write(root / "sin_hacer", {p.name: p.read_text(encoding="utf-8")
                                for p in (ROOT / "exercises").glob("ex[0-9]_*.py")})
    latin = independent(mats, rng)
    latin["ex1_onehot_mse.py"] = (latin["ex1_onehot_mse.py"]
                                  + "# comentario en latin-1: dise\xf1o\n").encode("latin-1")
    _write(root / "latin1", latin)
    huge = independent(mats, rng)
    huge["ex2_cross_entropy.py"] += "# " + "x" * (1024 * 1024) + "\n"
    _write(root / "enorme", huge)
    linked = independent(mats, rng)
    _write(root / "con_enlace", {k: v for k, v in linked.items() if k != "ex3_depth.py"})
    os.symlink(ROOT / "solutions" / "ex3_depth.py", root / "con_enlace" / "ex3_depth.py")
    hostile = disguised(alt, mats, rng)
    hostile["ex0_data.py"] += (
        f"# </pre><script>document.title='PWNED'</script><img src=\"{canary.url}/comment\">\n"
        f"PAYLOAD = \"</pre><img src='{canary.url}/string' onerror=\\\"document.title="
        f"'PWNED'\\\">\u202e\"\n")
    _write(root / HOSTILE, hostile)
    os.symlink(root / "referencia", root / "enlace_a_referencia")
    out = tmp / "report"
    proc = run(str(root), "--out", str(out), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    html = (out / "similarity.html").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO((out / "similarity.csv").read_text(encoding="utf-8"))))
    return {"proc": proc, "html": html, "rows": rows, "out": out, "root": root}


def _pairs(rows: list[list[str]], flagged: bool | None = None) -> dict[frozenset, list[str]]:
    head = rows[0]
    out = {}
    for row in rows[1:]:
        cells = dict(zip(head, row))
        if flagged is None or (cells["flagged"] == "1") == flagged:
            out[frozenset((cells["student_a"], cells["student_b"]))] = row
    return out


def _shown(name: str) -> str:
    from grader.outputs.escape import csv_cell
    from grader.textsafe import safe_name

    return csv_cell(safe_name(name))


def test_finds_the_disguised_copies_and_the_identical_pair_and_nothing_else(report):
    flagged = _pairs(report["rows"], flagged=True)
    hostile = _shown(HOSTILE)
    assert set(flagged) == {
        frozenset(("alternativa", "copia_disfrazada")),
        frozenset(("alternativa", hostile)),
        frozenset(("copia_disfrazada", hostile)),
        frozenset(("gemela_a", "gemela_b")),
    }
    head = report["rows"][0]
    twins = dict(zip(head, flagged[frozenset(("gemela_a", "gemela_b"))]))
    assert twins["identical"] == "1" and float(twins["score"]) == 1.0
    copy = dict(zip(head, flagged[frozenset(("alternativa", "copia_disfrazada"))]))
    assert copy["identical"] == "0" and float(copy["score"]) >= 0.8, copy
    # the flagged pairs are shown open, their common code marked on both sides
    html = report["html"]
    assert html.count("<details id=\"pair-") >= 4 and html.count(' open="open"') == 4
    assert html.count("<mark>") > 20


def test_independent_solutions_and_the_starter_code_are_not_paired(report):
    pairs = _pairs(report["rows"])
    head = report["rows"][0]
    ref_alt = dict(zip(head, pairs[frozenset(("referencia", "alternativa"))]))
    assert float(ref_alt["score"]) < 0.3, ref_alt  # measured: 0.14
    # the stubs are all starter code: they share nothing with anyone
    assert not [p for p in pairs if "sin_hacer" in p]
    # neither is the folder that is a link compared (nor its target counted twice)
    assert not [p for p in pairs if "enlace_a_referencia" in p]


def test_links_refused_files_and_non_utf8_are_reported(report):
    html, proc = report["html"], report["proc"]
    assert "enlace_a_referencia: un enlace simbólico, no seguido" in proc.stderr
    assert "Enlaces simbólicos en la carpeta del curso, no seguidos: enlace_a_referencia" in html
    assert "enorme: ex2_cross_entropy.py no se leyó: pesa más de" in html
    assert "con_enlace: ex3_depth.py no se leyó: no es un archivo común" in html
    assert "latin1: ex1_onehot_mse.py no está en UTF-8" in html


def test_no_live_markup_from_names_or_code(report):
    html = report["html"]
    assert "<script" not in html and "<img" not in html and "onerror=\"" not in html
    assert "\u202e" not in html and "\\u202e" in html
    assert "&lt;img src=x onerror=&quot;document.title=&#x27;PWNED&#x27;&quot;&gt;" in html
    assert "&lt;/pre&gt;&lt;script&gt;" in html
    # every tag in the page is one the report writes
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                    "ul", "li", "strong", "table", "tr", "th", "td", "a", "details",
                    "summary", "div", "pre", "mark"}, tags
    # the CSV: the formula name is text, and so on the terminal
    hostile_rows = [r for r in report["rows"][1:] if HOSTILE[:5] in "".join(r)]
    assert hostile_rows and all(r[0][:1] != "=" and r[1][:1] != "=" for r in hostile_rows)
    assert "\u202e" not in report["proc"].stdout + report["proc"].stderr


@pytest.mark.browser
def test_the_report_opens_offline_in_chromium_and_nothing_runs(report, canary, tmp_path):
    from chromium_probe import FLAGS, chromium, title

    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    page = report["out"] / "similarity.html"
    proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                           "--dump-dom", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert "<table>" in dom and "copia_disfrazada" in dom, proc.stderr[-2000:]
    assert title(dom) == PAGE_TITLE_ES
    assert canary.hits() == []
    assert "Uncaught" not in proc.stderr and "PWNED" not in title(dom)


@pytest.mark.slow
def test_fixtures_class_pairs_only_the_copies_of_the_reference(tmp_path):
    """fixtures/class: five students start from solutions/ (copies of one another: found);
    the stubs and the empty folder share nothing with anyone."""
    sys.path.insert(0, str(ROOT / "fixtures" / "class"))
    from assemble import assemble

    assemble(tmp_path / "class")
    proc = run(str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "similarity.csv")
                                       .read_text(encoding="utf-8"))))
    flagged = set(_pairs(rows, flagged=True))
    from_reference = ("ana", "carla", "dario", "eva", "fede")
    assert flagged == {frozenset((a, b)) for i, a in enumerate(from_reference)
                       for b in from_reference[i + 1:]}
    assert not [p for p in _pairs(rows) if p & {"beto", "gabi"}]


def test_own_lines_drop_the_starter():
    from grader.similarity.collect import own_lines

    stub = (ROOT / "exercises" / "ex1_onehot_mse.py").read_text(encoding="utf-8")
    assert own_lines(stub, stub, "ex1_onehot_mse.py") == ""
    done = stub.replace("    raise NotImplementedError(", "    return y  # mine\n"
                        "    raise NotImplementedError(", 1)
    own = own_lines(stub, done, "ex1_onehot_mse.py")
    line = done.splitlines().index("    return y  # mine") + 1
    assert own == f"# ex1_onehot_mse.py:{line}-{line}\n    return y  # mine\n"


def test_bad_input_is_a_clear_error(tmp_path):
    proc = run(str(tmp_path / "nada"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "no existe esa carpeta" in proc.stderr  # PRACTICO_LANG=es
    (tmp_path / "c" / "a").mkdir(parents=True)
    proc = run(str(tmp_path / "c"), "--out", str(tmp_path / "c" / "out"))
    assert proc.returncode == 2 and "está dentro de" in proc.stderr
    proc = run(str(tmp_path / "c"), "--out", str(tmp_path / "o"), "--starter",
               str(tmp_path / "none"))
    assert proc.returncode == 2 and "--starter" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_the_same_report_on_every_run_with_or_without_the_prefilter(report, tmp_path):
    """Python's string hash (which copydetect uses) changes from one process to the next;
    the pre-filter hashes with BLAKE2b and copydetect keeps every k-gram: same files."""
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PRACTICO_LANG": "es",
               "PYTHONHASHSEED": seed}
        out = tmp_path / f"run{seed}"
        proc = subprocess.run([sys.executable, "-m", "grader", "similarity",
                               str(report["root"]), "--out", str(out), "--prefilter", "on",
                               "--jobs", "2"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    for name in ("similarity.csv", "similarity.html"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    # the pre-filter keeps every flagged pair of the all-pairs run
    rows = list(csv.reader(io.StringIO((outs[0] / "similarity.csv").read_text("utf-8"))))
    assert set(_pairs(rows, flagged=True)) == set(_pairs(report["rows"], flagged=True))
    assert "los que un prefiltro MinHash LSH" in (outs[0] / "similarity.html").read_text(
        "utf-8")
