"""The fixture patch applier (``tests/patching.py``) places hunks as ``patch --fuzz=0`` does.

Exact position, lines moved above a hunk, two places that match (the stated one is taken when
it matches; otherwise two matches are refused, never the nearest picked), a changed context
(refused, naming the fixture and the hunk), malformed hunks, and every stored fixture applying.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from patching import (
    ALT_CORRECT,
    ALT_CORRECTS,
    EXERCISES,
    FIXTURES,
    SOLUTIONS,
    PatchError,
    apply_unified_diff,
    build,
    materialise_alt_correct,
)

#: a base with two look-alike functions (as two training loops or two ``forward``s are)
BASE = "".join(f"{line}\n" for line in [
    "import torch",             # 1
    "",                         # 2
    "def first(x):",            # 3
    "    y = x + 1",            # 4
    "    return y",             # 5
    "",                         # 6
    "def second(x):",           # 7
    "    y = x * 2",            # 8
    "    return y",             # 9
    "",                         # 10
    "def third(x):",            # 11
    "    y = x + 1",            # 12
    "    return y",             # 13
])

#: changes ``second``: its context is found in one place only
DIFF_SECOND = """--- a/m.py
+++ b/m.py
@@ -7,3 +7,3 @@
 def second(x):
-    y = x * 2
+    y = x * 3  # MISTAKE
     return y
"""

#: changes ``first``'s body; its lines (no function name in them) also stand in ``third``
DIFF_LOOKALIKE = """--- a/m.py
+++ b/m.py
@@ -4,2 +4,2 @@
-    y = x + 1
+    y = x - 1  # MISTAKE
     return y
"""

#: ``third``'s body, the same lines as ``first``'s, stated at line 12
DIFF_LOOKALIKE_THIRD = DIFF_LOOKALIKE.replace("@@ -4,2 +4,2 @@", "@@ -12,2 +12,2 @@")


def shifted(base: str, n: int) -> str:
    """``base`` with ``n`` lines added above everything but its first line."""
    first, rest = base.split("\n", 1)
    return first + "\n" + "".join(f"# added {k}\n" for k in range(n)) + rest


def test_exact_position():
    out = apply_unified_diff(BASE, DIFF_SECOND, "m.py.diff")
    assert out == BASE.replace("x * 2", "x * 3  # MISTAKE")


@pytest.mark.parametrize("n", [1, 5])
def test_lines_added_above_move_the_hunk(n):
    base = shifted(BASE, n)
    assert apply_unified_diff(base, DIFF_SECOND, "m.py.diff") == base.replace(
        "x * 2", "x * 3  # MISTAKE")


def test_lines_removed_above_move_the_hunk():
    base = BASE.replace("import torch\n\n", "")
    assert apply_unified_diff(base, DIFF_SECOND, "m.py.diff") == base.replace(
        "x * 2", "x * 3  # MISTAKE")


def test_later_hunks_follow_the_shift_of_earlier_ones():
    """After a hunk found 3 lines down, the next is first looked for 3 lines down too."""
    diff = DIFF_SECOND + DIFF_LOOKALIKE_THIRD.split("\n", 2)[2]  # hunks for second and third
    base = shifted(BASE, 3)
    out = apply_unified_diff(base, diff, "m.py.diff")
    assert out == base.replace("x * 2", "x * 3  # MISTAKE").replace(
        "def third(x):\n    y = x + 1", "def third(x):\n    y = x - 1  # MISTAKE")


@pytest.mark.parametrize("diff, changed", [(DIFF_LOOKALIKE, "first"),
                                           (DIFF_LOOKALIKE_THIRD, "third")],
                         ids=["stated_first", "stated_third"])
def test_two_candidates_the_stated_one_wins(diff, changed):
    """Where the stated line matches, the hunk goes there even if it matches elsewhere too."""
    out = apply_unified_diff(BASE, diff, "m.py.diff")
    body = f"def {changed}(x):\n    y = x + 1"
    assert out == BASE.replace(body, f"def {changed}(x):\n    y = x - 1  # MISTAKE")


def test_two_candidates_away_from_the_stated_line_are_refused():
    """Moved, and matching in two places: refused (nearest-wins could patch the wrong one)."""
    with pytest.raises(PatchError) as err:
        apply_unified_diff(shifted(BASE, 2), DIFF_LOOKALIKE, "wrong/lookalike/m.py.diff")
    message = str(err.value)
    assert message.startswith("wrong/lookalike/m.py.diff: hunk 1 (@@ -4,2 +4,2 @@)"), message
    assert "ambiguous" in message and "lines 6, 14" in message, message


def test_changed_context_is_refused_naming_fixture_and_hunk():
    base = BASE.replace("def second(x):", "def second(x, scale=2):")
    with pytest.raises(PatchError) as err:
        apply_unified_diff(base, DIFF_SECOND, "wrong/second_scale/m.py.diff")
    message = str(err.value)
    assert message.startswith("wrong/second_scale/m.py.diff: hunk 1 (@@ -7,3 +7,3 @@)"), message
    assert "nowhere in the base" in message and "'def second(x):'" in message, message


def test_changed_removed_line_is_refused():
    with pytest.raises(PatchError, match=r"hunk 1 .*nowhere in the base"):
        apply_unified_diff(BASE.replace("x * 2", "x * 4"), DIFF_SECOND, "m.py.diff")


def test_a_hunk_is_never_placed_before_the_previous_one():
    """Hunks stay in order: the second's match above the first's is not a candidate."""
    diff = DIFF_LOOKALIKE_THIRD + DIFF_SECOND.split("\n", 2)[2]  # third, then second
    with pytest.raises(PatchError, match=r"hunk 2 \(@@ -7,3 \+7,3 @@\).* only above .*line"
                                         r"\(s\) 7: hunks overlap or are out of order"):
        apply_unified_diff(BASE, diff, "m.py.diff")


@pytest.mark.parametrize("diff, why", [
    (DIFF_SECOND.replace("@@ -7,3 +7,3 @@", "@@ -7,4 +7,4 @@"), "header counts"),
    (DIFF_SECOND.replace("@@ -7,3 +7,3 @@", "@@ -7,2 +7,2 @@"), "more lines follow"),
    (DIFF_SECOND.replace("     return y", "?    return y"), "neither context"),
    ("--- a/m.py\n+++ b/m.py\n", "no hunk"),
], ids=["too_few_lines", "too_many_lines", "bad_tag", "no_hunk"])
def test_malformed_patches_are_refused(diff, why):
    with pytest.raises(PatchError, match=why):
        apply_unified_diff(BASE, diff, "m.py.diff")


def test_pure_insertion_and_missing_newline_at_end():
    diff = ("--- a/m.py\n+++ b/m.py\n@@ -13,0 +14,1 @@\n+print(third(1))\n"
            "\\ No newline at end of file\n")
    assert apply_unified_diff(BASE, diff, "m.py.diff") == BASE + "print(third(1))"


def test_form_feed_inside_a_line_is_not_a_line_break():
    base = "a = 1  # \x0c page\nb = 2\n"
    diff = "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n a = 1  # \x0c page\n-b = 2\n+b = 3\n"
    assert apply_unified_diff(base, diff, "m.py.diff") == "a = 1  # \x0c page\nb = 3\n"


def stored_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("wrong/*/ex*.py.diff")) + sorted(
        FIXTURES.glob("alt_variants/*/ex*.py.diff"))


@pytest.mark.parametrize("path", stored_fixtures(), ids=lambda p: p.parent.name)
def test_every_stored_fixture_applies(path):
    """Each wrong/ and alt_variants/ patch applies to today's reference and still compiles."""
    name, text = build(path, SOLUTIONS)
    assert text != (SOLUTIONS / name).read_text(encoding="utf-8")
    compile(text, str(path), "exec")


@pytest.mark.parametrize("source", ALT_CORRECTS, ids=lambda p: p.name)
def test_alt_correct_applies_to_every_stub(source, tmp_path):
    folder = materialise_alt_correct(tmp_path, source)
    stubs = sorted(p.name for p in EXERCISES.glob("ex[0-9]_*.py"))
    assert sorted(p.name for p in folder.iterdir()) == stubs
    assert sorted(p.name.removesuffix(".diff") for p in source.iterdir()) == stubs
    for name in stubs:
        compile((folder / name).read_text(encoding="utf-8"), name, "exec")


def test_alt_corrects_lists_every_independent_submission():
    """``alt_correct`` and at least two more written in other idioms (issue 21): the fixtures
    the calibration (``bench/calibrate.py``) runs as correct implementations."""
    assert ALT_CORRECT in ALT_CORRECTS
    assert [p.name for p in ALT_CORRECTS][:3] == ["alt_correct", "alt_correct_b", "alt_correct_c"]
