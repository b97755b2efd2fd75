"""Synthetic classes for the similarity report: independent students and planted copies.

Every file of the practical is its starter file (``exercises/``) with each TODO slot filled
in. There are two independent solutions of every slot: the reference (``solutions/``) and
``fixtures/alt_correct``. An *independent* student takes, per slot, one of them (or leaves
the stub: unfinished work), then edits it the way people write the same idea differently:
other names, a statement split in two, ``x += y`` written out, an extra check or print, a
literal written another way. A *planted copy* takes another student's files and disguises
them: every local name renamed, the functions of each file in another order, comments added
and a few lines edited; an *identical* copy is the files byte for byte.

Used by tests/test_similarity.py (small classes) and bench/similarity.py (200 and 2,000
students). Deterministic: everything draws from a ``random.Random(seed)``.
"""

from __future__ import annotations

import difflib
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: names students give their locals instead of the reference's
NAMES = ("acc", "aux", "tmp", "res", "salida", "perdida", "lote", "xb", "yb", "n_ok",
         "suma", "cuenta", "hist", "red", "capa", "valor", "err", "k", "idx", "paso")
_WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b")
_KEEP = frozenset("""self model optimizer device epochs train_loader val_loader criterion
    torch nn F np plt math range len sum float int list dict str print zip enumerate super
    return for in if else elif while with not and or is None True False def class import from
    as lambda yield break continue pass try except finally raise assert del global nonlocal
    isinstance max min abs round sorted append item backward step zero_grad to eval train
    no_grad shape size view reshape argmax mean weight bias data grad parameters modules
    Linear Sequential ReLU Sigmoid Flatten init forward x y X""".split())


@dataclass
class Material:
    """One exercise file: its starter text, the TODO slots (stub line ranges) and, per
    solution, the lines that fill each slot."""

    file: str
    stub: list[str]
    slots: list[tuple[int, int]]
    bodies: dict[str, list[list[str]]] = field(default_factory=dict)


def _fills(stub: list[str], solved: list[str]) -> dict[tuple[int, int], list[str]]:
    """Stub line range -> the solution's lines there, for every change of the solution."""
    matcher = difflib.SequenceMatcher(None, stub, solved, autojunk=False)
    return {(i1, i2): solved[j1:j2] for op, i1, i2, j1, j2 in matcher.get_opcodes()
            if op != "equal"}


def materials() -> list[Material]:
    """The practical's files, each with its two independent solutions per slot."""
    import tempfile

    from patching import materialise_alt_correct, strip_markers

    with tempfile.TemporaryDirectory() as tmp:
        alt_dir = materialise_alt_correct(Path(tmp) / "alt")
        alt = {p.name: p.read_text(encoding="utf-8") for p in alt_dir.glob("ex*.py")}
    out = []
    for path in sorted((ROOT / "exercises").glob("ex[0-9]_*.py")):
        stub = path.read_text(encoding="utf-8").splitlines()
        ref = strip_markers((ROOT / "solutions" / path.name).read_text(encoding="utf-8"))
        fills = {"ref": _fills(stub, ref.splitlines()),
                 "alt": _fills(stub, alt[path.name].splitlines())}
        # a slot: a stub range both solutions replace (the TODO and its raise)
        slots = sorted(set(fills["ref"]) & set(fills["alt"]))
        slots = [s for s in slots if any("NotImplementedError" in line
                                         for line in stub[s[0]:s[1]])]
        out.append(Material(path.name, stub, slots,
                            {k: [fills[k][s] for s in slots] for k in fills}))
    return out


def _noise(indent: str, rng: random.Random) -> str:
    """A line of a student's own: a check, a print, a helper value (its numbers are its own:
    names and strings are normalised away by the comparison, numbers are not)."""
    a, b = rng.choice(NAMES), rng.choice(NAMES)
    number = round(rng.uniform(0, 1000), rng.randint(0, 3))
    return indent + rng.choice((
        f"{a} = {b} * {number}",
        f"assert {a} >= {number}, {b!r}",
        f"print({a!r}, {b}, {number})",
        f"{a} = min({b}, {number})",
        f"{a} = [{b}] * {rng.randint(1, 99)}",
        f"if {a} > {number}:\n{indent}    {b} = {rng.randint(0, 9)}",
    ))


def _edit_line(line: str, rng: random.Random) -> list[str]:
    """One line as another student would write it (the same idea, other tokens)."""
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    if m := re.fullmatch(r"(\w+(?:\[[^\]]+\])?) \+= (.+)", body):
        return [f"{indent}{m[1]} = {m[1]} + ({m[2]})"]
    if m := re.fullmatch(r"return (.+)", body):
        return [f"{indent}resultado = {m[1]}", f"{indent}return resultado"]
    if m := re.fullmatch(r"(\w+), (\w+) = (.+), (.+)", body):
        return [f"{indent}{m[1]} = {m[3]}", f"{indent}{m[2]} = {m[4]}"]
    if rng.random() < 0.5:
        return [re.sub(r"\b(\d+)\.0\b", r"\1.", line).replace("dim=1", "dim=-1")
                .replace(".item()", ".detach().item()")]
    return [f"{indent}if True:", f"    {line}"]


def _plain(line: str) -> bool:
    """A whole simple statement (not a block opener, not a continued line)."""
    text = line.strip()
    return bool(text) and not text.startswith(("#", "def ", "class ", "@")) \
        and not text.endswith((":", ",", "(", "[", "{", "\\")) \
        and line.count("(") == line.count(")") and line.count("[") == line.count("]")


def _edited(lines: list[str], rng: random.Random, rate: float, noise: float = 0.0
            ) -> list[str]:
    out: list[str] = []
    for line in lines:
        plain = _plain(line)
        out.extend(_edit_line(line, rng) if plain and rng.random() < rate else [line])
        if plain and rng.random() < noise:
            out.append(_noise(line[: len(line) - len(line.lstrip())], rng))
    return out


def _renamed(lines: list[str], rng: random.Random, given: frozenset[str] = frozenset()
             ) -> list[str]:
    """Every local-looking name (not the kit's API, not a keyword) renamed consistently, in
    the lines that are not the starter's (``given``): nobody renames the given code."""
    names: dict[str, str] = {}

    def new(m: re.Match[str]) -> str:
        word = m[0]
        if word in _KEEP or word.startswith("__") or len(word) < 2:
            return word
        if word not in names:
            names[word] = f"{rng.choice(NAMES)}_{len(names)}"
        return names[word]

    return [line if line in given or line.lstrip().startswith(("def ", "class ", "from ",
                                                                "import "))
            else _WORD.sub(new, line) for line in lines]


def independent(mats: list[Material], rng: random.Random, rate: float = 0.5,
                noise: float = 0.5, unfinished: float = 0.1) -> dict[str, str]:
    """One independent student's files."""
    files = {}
    for mat in mats:
        lines = list(mat.stub)
        for k in reversed(range(len(mat.slots))):
            start, end = mat.slots[k]
            if rng.random() < unfinished:
                continue
            body = mat.bodies[rng.choice(("ref", "alt"))][k]
            lines[start:end] = _renamed(_edited(body, rng, rate, noise), rng)
        files[mat.file] = "\n".join(lines) + "\n"
    return files


def _reordered(text: str, rng: random.Random) -> str:
    """The file's top-level blocks (a ``def`` or ``class`` and its body) shuffled; what comes
    before the first one (docstring, imports) stays first."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(("def ", "class "))]
    if len(starts) < 2:
        return text
    head = lines[:starts[0]]
    blocks = [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)])]
    rng.shuffle(blocks)
    return "\n".join(head + [line for block in blocks for line in block])


def disguised(files: dict[str, str], mats: list[Material], rng: random.Random,
              rate: float = 0.05) -> dict[str, str]:
    """A copy of ``files`` made to look like other work: renamed, reordered, commented."""
    out = {}
    for mat in mats:
        given = frozenset(mat.stub)
        lines = _edited(_renamed(files[mat.file].split("\n"), rng, given), rng, rate)
        lines = [f"{line}  # {rng.choice(NAMES)}" if line not in given and _plain(line)
                 and rng.random() < 0.1 else line for line in lines]
        out[mat.file] = _reordered("\n".join(lines), rng)
    return out


@dataclass
class Planted:
    copied: set[frozenset[str]]  # pairs where one disguised a copy of the other
    identical: set[frozenset[str]]  # pairs of byte-identical submissions


def build_class(dest: Path, students: int, seed: int = 0, copies: int = 0,
                identical: int = 0) -> Planted:
    """``students`` folders in ``dest`` (``s0000``...): independent students, of which
    ``copies`` later ones are disguised copies and ``identical`` are byte copies of an
    earlier one."""
    rng = random.Random(seed)
    mats = materials()
    planted = Planted(set(), set())
    made: dict[str, dict[str, str]] = {}
    kinds = ["copy"] * copies + ["identical"] * identical
    kinds += ["own"] * (students - len(kinds))
    # the first ones are always independent (something to copy from)
    order = ["own"] * min(students, 10)
    rest = kinds[: students - len(order)]
    rng.shuffle(rest)
    order += rest
    for index, kind in enumerate(order):
        name = f"s{index:04d}"
        if kind == "own":
            files = independent(mats, rng)
        else:
            source = rng.choice([n for n in made if not any(n in p for p in
                                                            planted.copied | planted.identical)])
            if kind == "copy":
                files = disguised(made[source], mats, rng)
                planted.copied.add(frozenset((source, name)))
            else:
                files = dict(made[source])
                planted.identical.add(frozenset((source, name)))
        made[name] = files
        folder = dest / name
        folder.mkdir(parents=True)
        for file, text in files.items():
            (folder / file).write_text(text, encoding="utf-8")
    return planted
