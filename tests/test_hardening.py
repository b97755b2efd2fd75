"""The grader never crashes and pays little, whatever a submission does or sends (issue 10).

Fast unit tests hold the codec (any bytes in: a value or ``CodecError`` out), the text
guard, the oracle's caps and ``judge``'s catch-all. One real ``autograde`` run (marked
``slow``) grades every submission of ``fixtures/hostile/`` (the reference ``ex5_init.py``
with an attack appended, each stating its outcome in its header), plus a student folder and
a file whose names are Latin-1 bytes, plus 400 extra ``ex*.py`` files, in real sandboxes.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import time
from pathlib import Path

import pytest
import torch
from conftest import ROOT, run_py

from grader import codec
from grader.codec import CodecError, decode, encode
from grader.textsafe import safe_name, safe_text

HOSTILE = ROOT / "fixtures" / "hostile"

# ------------------------------------------------------------------------------- codec


def _valid_payload() -> bytes:
    return encode({"ev": "result", "i": 3, "outcome": {
        "status": "ok", "out": {"w": torch.arange(12, dtype=torch.float32).reshape(3, 4),
                                "xs": [1.5, -2, None, True, "txt"], "nan": float("nan")}}})


def test_random_bytes_raise_only_codec_errors():
    rng = random.Random(1234)
    for _ in range(3000):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        try:
            decode(blob)
        except CodecError:
            pass


def test_mutated_payloads_raise_only_codec_errors():
    rng = random.Random(99)
    good = _valid_payload()
    alphabet = b'[]{}",:0123456789-.eE\\u \x00\xff'
    accepted = 0
    for _ in range(3000):
        blob = bytearray(good)
        for _ in range(rng.randrange(1, 6)):
            op = rng.randrange(3)
            pos = rng.randrange(len(blob))
            if op == 0:
                blob[pos] = rng.choice(alphabet)
            elif op == 1:
                del blob[pos]
            else:
                blob.insert(pos, rng.choice(alphabet))
        try:
            decode(bytes(blob))
            accepted += 1
        except CodecError:
            pass
    assert accepted < 3000  # the mutations did reach the error paths


@pytest.mark.parametrize("payload", [
    b"[" * 200_000 + b"]" * 200_000,
    b'{"a":' * 200_000 + b"0" + b"}" * 200_000,
    b"[" * 66 + b"]" * 66,
    b'{"a":' * 66 + b"0" + b"}" * 66,
    b'{"k": [' + b"[" * 70 + b"]" * 70 + b"]}",
], ids=["list_200k", "dict_200k", "list_66", "dict_66", "nested_in_field"])
def test_deep_nesting_is_refused(payload):
    with pytest.raises(CodecError):
        decode(payload)


def test_nesting_within_the_cap_is_kept():
    assert decode(b"[" * 60 + b"]" * 60) is not None


@pytest.mark.parametrize("payload", [
    b"1" + b"0" * 4999,
    b'{"i": ' + b"9" * 400 + b"}",
    b'[-' + b"9" * 30 + b"]",
    b'{"out": {"flag": 9223372036854775808}}',
    b'{"__tensor__": {"dtype": "float32", "shape": [1180591620717411303424, 0], "data": ""}}',
    b'{"__tensor__": {"dtype": "float32", "shape": [' + b"9" * 400 + b'], "data": ""}}',
    b'{"__tensor__": {"dtype": "float32", "shape": [1,1,1,1,1,1,1,1,1], "data": "AAAAAA=="}}',
], ids=["top_5000_digits", "field_400_digits", "negative_in_list", "just_over_int64",
        "tensor_dim_2_70", "tensor_dim_400_digits", "tensor_9_dims"])
def test_huge_ints_are_refused_wherever_they_are(payload):
    with pytest.raises(CodecError):
        decode(payload)


@pytest.mark.parametrize("payload", [
    b'"' + b"s" * (codec.MAX_STR + 1) + b'"',
    b'{"' + b"k" * (codec.MAX_STR + 1) + b'": 1}',
    b"NaN", b"[Infinity]", b"[-Infinity]", b"1e999",
    b'{"__tensor__": {"dtype": "float32", "shape": [2], "data": 12}}',
    b'{"__tensor__": {"dtype": ["float32"], "shape": [2], "data": ""}}',
    b'{"__float__": ["nan"]}',
    b"\xff\xfe[]", b"\xed\xa0\x80",
], ids=["long_string", "long_key", "nan", "inf", "neg_inf", "overflowing_float",
        "tensor_data_not_str", "dtype_not_str", "float_tag_not_str", "not_utf8",
        "utf8_surrogate"])
def test_other_malformed_input_is_refused(payload):
    with pytest.raises(CodecError):
        decode(payload)


@pytest.mark.parametrize("unit, count", [
    (b"[],", codec.MAX_CONTAINERS + 1), (b"{},", codec.MAX_CONTAINERS + 1),
    (b"0,", codec.MAX_VALUES + 1), (b'"",', codec.MAX_VALUES + 1),
], ids=["lists", "dicts", "ints", "strings"])
def test_payloads_of_many_small_objects_are_refused_before_parsing(unit, count):
    """A frame of empty lists costs the grader ~50 bytes per byte once parsed: refused unread."""
    payload = b"[" + unit * (count - 1) + unit[:-1] + b"]"
    with pytest.raises(CodecError):
        decode(payload)
    below = b"[" + unit * 999 + unit[:-1] + b"]"
    assert len(decode(below)) == 1000


def test_encode_applies_the_same_caps():
    for value in (10**30, "x" * (codec.MAX_STR + 1), {"k" * (codec.MAX_STR + 1): 1}):
        with pytest.raises(CodecError):
            encode({"v": value})
    assert decode(encode({"v": 2**62, "s": "\udcff"})) == {"v": 2**62, "s": "\udcff"}


# ------------------------------------------------------------------------- safe text


@pytest.mark.parametrize("text, shown", [
    ("a\udcffb", "a\\udcffb"),
    ("\ud800", "\\ud800"),
    ("x\x1b[31my", "x\\x1b[31my"),
    ("bell\x07", "bell\\x07"),
    ("c1\x9b", "c1\\x9b"),
    ("two\nlines\tok", "two\nlines\tok"),
])
def test_safe_text_escapes_what_utf8_or_a_terminal_cannot_take(text, shown):
    out = safe_text(text)
    assert out == shown
    out.encode("utf-8")  # never raises


def test_safe_text_bounds_length_and_survives_hostile_str():
    assert len(safe_text("z" * 10**7, 1000)) < 1100

    class Hostile:
        def __str__(self):
            raise RuntimeError("no")

    assert safe_text(Hostile()) == "<unprintable>"


def test_safe_name_shows_non_utf8_bytes_escaped():
    name = os.fsdecode(b"jos\xe9_\xff")
    assert safe_name(name) == "jos\\xe9_\\xff"
    assert safe_name("ok_ñ") == "ok_ñ"


def test_messages_with_student_values_are_safe():
    from grader.i18n import t

    msg = t("status_error", "en", exc_type="E\udcff", exc_msg="m" * 50_000 + "\ud800",
            where=" (x)", module="m", task="t")
    msg.encode("utf-8")
    assert len(msg) < 2000 and "\\udcff" in msg
    assert "bits>" in t("layer_count", "en", what="n", expected=3, found=10**400)


# ----------------------------------------------------------------------- oracle caps


def _report(*layers):
    return {"model": "ok", "linears": [list(layer) for layer in layers]}


@pytest.mark.parametrize("layers, key", [
    ([(torch.empty(0, 100), None), (torch.empty(10, 0), None)], "oracle_layer_shape"),
    ([(torch.empty(0, 100), None), (torch.empty(2**20, 0), None),
      (torch.empty(0, 2**20), None), (torch.empty(10, 0), None)], "oracle_layer_shape"),
    ([(torch.ones(1, 100), torch.zeros(1))] + [(torch.ones(1, 1), torch.zeros(1))] * 300
     + [(torch.ones(10, 1), torch.zeros(10))], "oracle_too_many_layers"),
    ([(torch.ones(4, 100), torch.zeros(2**20, 1)), (torch.ones(10, 4), None)],
     "oracle_layer_shape"),
    ([(torch.ones(4, 100, 1), None), (torch.ones(10, 4), None)], "oracle_layer_shape"),
    ([(torch.ones(1000, 100), None)] + [(torch.ones(1000, 1000), None)] * 2,
     "oracle_too_many_weights"),
], ids=["zero_width", "wide_2_20", "many_layers", "bias_broadcast_bomb", "weight_3d",
        "too_many_weights"])
def test_oracle_refuses_nets_no_task_needs_before_computing(layers, key):
    from grader.checks import expect
    from grader.checks.base import Fail

    x = torch.randn(64, 100)
    with pytest.raises(Fail) as info:
        expect.expect_forward(_report(*layers), x, "relu", "none", "DeepMLP_i(...)")
    assert info.value.key == key
    info.value.render("es").encode("utf-8")


def test_every_task_net_fits_the_oracle_caps():
    """The caps are bounds on what tasks can need: every configuration stays within them."""
    from grader.checks import expect, he_init, init_schemes, nets

    shapes = [nets.NETS[task]["shapes"](cfg) for task in nets.NETS
              for cfg in nets.NETS[task]["configs"]]
    shapes += [nets.mlp_shapes(c["in_dim"], c["out_dim"], c["width"], c["depth"])
               for c in (*init_schemes.CONFIGS, *he_init.HE_CONFIGS)]
    from grader.checks import exploding, lr_sweep  # section 7: its nets, judged by the oracle

    depth, width, d_in, _ = exploding.RESCUE_NET
    shapes += [nets.mlp_shapes(784, 10, lr_sweep.PATTERN_HIDDEN, 1),
               nets.mlp_shapes(d_in, 10, width, depth)]
    assert shapes
    for layers in shapes:
        assert len(layers) <= expect.MAX_LAYERS
        assert all(1 <= n <= expect.MAX_WIDTH for pair in layers for n in pair)
        assert sum(i * o for i, o in layers) <= expect.MAX_WEIGHTS


# --------------------------------------------------------------------- judge catch-all


def _keys_read_by_verdicts() -> set[str]:
    keys = set()
    for path in (ROOT / "grader" / "checks").glob("*.py"):
        keys |= set(re.findall(r'(?:out|report)(?:\[|\.get\()"([a-z_]+)"', path.read_text()))
    return keys


_INPUTS: dict = {}  # each check's inputs, built once for all the hostile values


def _deep(n: int) -> list:
    value: list = []
    for _ in range(n):
        value = [value]
    return value


@pytest.mark.parametrize("hostile", [10**400, -(10**400), "\udcff" * 3, _deep(50_000),
                                     float("nan")],
                         ids=["int_400", "neg_int_400", "surrogates", "deep_50k", "nan"])
def test_judge_never_raises_on_hostile_probe_data(hostile):
    """Every registered check, given hostile values under every key a verdict reads."""
    from grader.checks import CHECKS, Context
    from grader.scoring import check_inputs, judge

    ctx = Context()
    keys = _keys_read_by_verdicts()
    assert len(keys) > 5
    for check in CHECKS:
        if check.id not in _INPUTS:
            _INPUTS[check.id] = check_inputs(check, ctx)
        inp = _INPUTS[check.id]
        for out in ({k: hostile for k in keys}, {k: [hostile] for k in keys}):
            result = judge(check, inp, {"status": "ok", "out": out}, ctx)
            assert result.status == "failed" and result.points == 0, check.id
            result.message.encode("utf-8")
        result = judge(check, inp, {"status": "error", "exc_type": hostile,
                                    "exc_msg": hostile, "where": hostile}, ctx)
        assert result.points == 0
        result.message.encode("utf-8")


# --------------------------------------------------------------- submitted files


def test_only_the_kit_modules_are_read_and_total_bytes_are_capped(tmp_path):
    from grader.submission import MAX_TOTAL_BYTES, collect_files

    for name in ("ex5_init.py", "ex9_extra.py", "ex1_onehot_msé.py", "notes.txt"):
        (tmp_path / name).write_text("x = 1\n")
    os.close(os.open(os.path.join(os.fsencode(tmp_path), b"ex5_\xe9.py"),
                     os.O_CREAT | os.O_WRONLY, 0o644))
    files, problems = collect_files(tmp_path)
    assert set(files) == {"ex5_init.py"} and problems == {}
    for name in ("ex0_data.py", "ex1_onehot_mse.py", "ex2_cross_entropy.py"):
        (tmp_path / name).write_bytes(b"#" * (MAX_TOTAL_BYTES // 2 - 10))
    files, problems = collect_files(tmp_path)
    assert sum(map(len, files.values())) <= MAX_TOTAL_BYTES
    assert next(iter(problems.values()))["key"] == "reason_all_too_large"


# ------------------------------------------------------------- one real autograde run

#: fixture -> (task, its expected score, status of its failing checks or None, key or None);
#: every task graded and not named keeps full marks. Tasks graded: init_schemes, probe_stats.
EXPECTED: dict[str, tuple[str, float, str | None, str | None]] = {
    "surrogate_exc_msg": ("probe_stats", 0, "error", None),
    "surrogate_type_name": ("probe_stats", 0, "failed", None),
    "surrogate_forged_result": ("probe_stats", 0, "error", None),
    "deep_list_frame": ("probe_stats", 0, "crashed", None),
    "deep_dict_frame": ("probe_stats", 0, "crashed", None),
    "deep_list_65": ("probe_stats", 0, "crashed", None),
    "huge_int_outcome": ("probe_stats", 0, "crashed", None),
    "int_400_digits_flag": ("probe_stats", 0, "crashed", None),
    "huge_int_index": ("probe_stats", 0, "crashed", None),
    "huge_int_shape": ("probe_stats", 0, "crashed", None),
    "start_float": ("probe_stats", 0, "crashed", None),
    "start_bool": ("probe_stats", 0, "crashed", None),
    "start_negative": ("probe_stats", 0, "crashed", None),
    "start_past_end": ("probe_stats", 0, "crashed", None),
    "start_string": ("probe_stats", 0, "crashed", None),
    "unknown_events": ("probe_stats", 0, "crashed", None),
    "frame_64mib": ("probe_stats", 0, "crashed", None),
    "message_50mb": ("probe_stats", 0, "crashed", None),
    "message_60k": ("probe_stats", 0, "error", None),
    "net_zero_width": ("init_schemes", 0, "failed", "oracle_layer_shape"),
    "net_wide_2_20": ("init_schemes", 0, "failed", "oracle_layer_shape"),
    "net_many_layers": ("init_schemes", 0, "failed", "oracle_too_many_layers"),
}
#: the net fixtures replace DeepMLP_i, which probe_stats also builds: not judged here
UNJUDGED = {("net_zero_width", "probe_stats"), ("net_wide_2_20", "probe_stats"),
            ("net_many_layers", "probe_stats")}
FULL = {"init_schemes": 15, "probe_stats": 15}
#: a fragment of each expected key's message in either language (the run's language varies)
FRAGMENTS = {"oracle_layer_shape": ("tiene una forma que ninguna red", "has a shape no net"),
             "oracle_too_many_layers": ("capas nn.Linear; ninguna red", "layers; no net of")}
LATIN1_STUDENT = b"jos\xe9"


def _hostile_submission(fixture: Path) -> str:
    """fixtures/hostile/assemble.py: the reference with the attack (and its shared
    helpers) appended."""
    import runpy  # no bytecode cache: a __pycache__ there would read as one more fixture

    return runpy.run_path(str(HOSTILE / "assemble.py"))["submission_source"](fixture)


def _build_root(root: Path) -> list[str]:
    names = []
    for fixture in sorted(p for p in HOSTILE.iterdir() if p.is_dir()):
        folder = root / fixture.name
        folder.mkdir(parents=True)
        (folder / "ex5_init.py").write_text(_hostile_submission(fixture))
        names.append(fixture.name)
    # not malicious at all: a Latin-1 folder name, and a Latin-1 file name beside the work
    latin = os.path.join(os.fsencode(root), LATIN1_STUDENT)
    os.mkdir(latin)
    shutil.copy(ROOT / "solutions" / "ex5_init.py", os.fsdecode(latin) + "/ex5_init.py")
    names.append(os.fsdecode(LATIN1_STUDENT))
    files = root / "latin1_file"
    files.mkdir()
    shutil.copy(ROOT / "solutions" / "ex5_init.py", files / "ex5_init.py")
    for raw in (b"notas_\xe9.txt", b"ex5_init_\xe9.py"):
        with open(os.path.join(os.fsencode(files), raw), "wb") as fh:
            fh.write(b"x = 1\n")
    names.append("latin1_file")
    # 400 allow-list-shaped files of 1 MiB each (sparse: no disk used): none is read
    many = root / "many_files"
    many.mkdir()
    shutil.copy(ROOT / "solutions" / "ex5_init.py", many / "ex5_init.py")
    for i in range(400):
        with open(many / f"ex{i + 10}_extra.py", "wb") as fh:
            fh.truncate(1024 * 1024)
    names.append("many_files")
    return names


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root, out = base / "submissions", base / "results"
    names = _build_root(root)
    start = time.monotonic()
    proc = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                  "--timeout", "20", "--tasks", ",".join(FULL), env={"CI": "true"})
    results = {}
    for path in (out / "students").glob("*/result.json"):
        results[path.parent.name] = json.loads(path.read_bytes().decode("utf-8"))
    return {"root": root, "out": out, "proc": proc, "names": names, "results": results,
            "seconds": time.monotonic() - start}


@pytest.mark.slow
def test_every_hostile_fixture_has_a_stated_outcome():
    fixtures = {p.name for p in HOSTILE.iterdir() if p.is_dir()}
    assert fixtures == set(EXPECTED)
    for name in fixtures:
        assert "# Expected:" in (HOSTILE / name / "ex5_init.py").read_text(), name


@pytest.mark.slow
def test_autograde_finishes_and_grades_everyone(hostile):
    proc = hostile["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(hostile["results"]) == set(hostile["names"])
    with open(hostile["out"] / "grades.csv", encoding="utf-8", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert "jos\\xe9" in rows and all(r["status"] == "graded" for r in rows.values())
    assert len(proc.stdout) < 10_000 and len(proc.stderr) < 50_000


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_outcome(hostile, name):
    data = hostile["results"][name]
    task, score, status, key = EXPECTED[name]
    for other, full in FULL.items():
        entry = data["tasks"][other]
        if other == task:
            assert entry["score"] == score, entry
            failing = [c for c in entry["checks"].values() if c["status"] != "passed"]
            if status is not None:
                assert {c["status"] for c in failing} == {status}, entry
            assert entry["message"]
        elif (name, other) not in UNJUDGED:
            assert entry["score"] == full, (other, entry["message"])
    if key is not None:
        assert any(f in data["tasks"][task]["message"] for f in FRAGMENTS[key]), data["tasks"]


@pytest.mark.slow
def test_texts_are_escaped_and_bounded(hostile):
    results = hostile["results"]
    exc = results["surrogate_exc_msg"]["tasks"]["probe_stats"]["message"]
    assert "\\udcff\\ud800" in exc and "\\x1b[31m" in exc and "\x1b" not in exc
    assert "\\udcff" in results["surrogate_type_name"]["tasks"]["probe_stats"]["message"]
    forged = results["surrogate_forged_result"]["tasks"]["probe_stats"]["message"]
    assert "\\udcff" in forged and "\x1b" not in forged
    long = results["message_60k"]["tasks"]["probe_stats"]["message"]
    assert "yyyy" in long and len(long) < 5000
    for path in hostile["out"].rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 1_000_000, path
            path.read_bytes().decode("utf-8")  # every file is valid UTF-8
    for name in ("feedback.md", "feedback.html", "results.json"):
        text = (hostile["out"] / "students" / "surrogate_exc_msg" / name).read_text("utf-8")
        assert "\\udcff" in text


@pytest.mark.slow
def test_non_utf8_names_are_graded_and_shown_escaped(hostile):
    latin = hostile["results"][os.fsdecode(LATIN1_STUDENT)]
    assert latin["student"] == "jos\\xe9"
    assert {t: latin["tasks"][t]["score"] for t in FULL} == FULL
    files = hostile["results"]["latin1_file"]
    assert {t: files["tasks"][t]["score"] for t in FULL} == FULL
    assert set(files["ignored_files"]) == {"notas_\\xe9.txt", "ex5_init_\\xe9.py"}


@pytest.mark.slow
def test_many_files_are_neither_read_nor_listed_in_full(hostile):
    data = hostile["results"]["many_files"]
    assert {t: data["tasks"][t]["score"] for t in FULL} == FULL
    assert data["files"] == ["ex5_init.py"] and data["unusable_files"] == {}
    assert len(data["ignored_files"]) == 100 and data["ignored_files_not_listed"] == 300


@pytest.mark.slow
def test_grade_exits_zero_with_json_on_a_hostile_submission(hostile, tmp_path):
    folder = hostile["root"] / "surrogate_exc_msg"
    target = tmp_path / "r.json"
    proc = run_py("-m", "grader", "grade", str(folder), "--tasks", "probe_stats", "--timeout",
                  "20", "--json", str(target))
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(target.read_bytes().decode("utf-8"))
    assert "\\udcff" in data["tasks"]["probe_stats"]["message"]
    assert "\\udcff" in proc.stdout
