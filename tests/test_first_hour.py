"""A first hour in Spanish (issue 22, item 4): what a new user meets before grading anything.

- ``./kit``'s own messages follow ``PRACTICO_LANG`` (the real script, run by bash; no venv is
  made: help and usage need none, and a missing ``python3`` is met before one would be);
- a missing MNIST is one message, in the chosen language, with the fix as a command, from
  every entry point (``grade``, ``autograde``, ``experiments``, ``pytest exercises``, the
  notebook's ``check_task`` in a real kernel, ``./kit demo``), and leaves no folder behind;
- the experiments' figures: legends in one language, a diverged curve marked where it diverged.

The download is tried for real, through a proxy that refuses every connection: the test is
the same with or without internet, and takes no time waiting for a network.
(The report's alt texts, tables and wall time are checked on a real run in test_experiments.)
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.messages import MESSAGES

SHARED_MNIST = Path(os.environ.get("PRACTICO_DATA", "/work/shared/data")) / "MNIST" / "raw"
#: urllib (torchvision's downloader) goes through these; port 9 (discard) refuses at once
OFFLINE = {name: "http://127.0.0.1:9" for name in
           ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")} | {"no_proxy": "",
                                                                         "NO_PROXY": ""}

HEADER = {"es": "No encontré MNIST en {raw}", "en": "MNIST was not found in {raw}"}
FIX = {"es": "Cómo arreglarlo, una de dos:", "en": "To fix it, either:"}


def _env(lang: str | None, **extra: str) -> dict[str, str]:
    """The environment of a user who chose ``lang`` (None: never set PRACTICO_LANG)."""
    env = {k: v for k, v in os.environ.items() if k != "PRACTICO_LANG"}
    env.update(OFFLINE, CI="true", PYTHONPATH=str(ROOT), **extra)
    if lang is not None:
        env["PRACTICO_LANG"] = lang
    return env


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ------------------------------------------------------------------ ./kit's own messages

def _kit(*args: str, env: dict[str, str], path: str | None = None):
    if path is not None:
        env = {**env, "PATH": path}
    return subprocess.run([shutil.which("bash") or "/bin/bash", str(ROOT / "kit"), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("lang", [None, "es", "en", "EN_us"])
def test_kit_help_follows_practico_lang(tmp_path, lang):
    venv = tmp_path / "no-venv"
    res = _kit(env=_env(lang, PRACTICO_VENV=str(venv)))
    assert res.returncode == 0, res.stderr
    english = lang is not None and lang.lower().startswith("en")
    if english:
        assert res.stdout.startswith("Usage: ./kit COMMAND")
        assert f"./kit demo    set up {venv}, then run the main job" in res.stdout
        assert "prepara" not in res.stdout
    else:
        assert res.stdout.startswith("Uso: ./kit ORDEN")
        assert f"./kit demo    prepara {venv} y corre el trabajo principal" in res.stdout
        assert "set up" not in res.stdout and "Usage" not in res.stdout
    assert not venv.exists()  # help makes nothing
    assert _kit("help", env=_env(lang, PRACTICO_VENV=str(venv))).stdout == res.stdout


@pytest.mark.parametrize("lang", ["es", "en"])
def test_kit_unknown_command_is_a_usage_error_in_the_chosen_language(tmp_path, lang):
    res = _kit("dmeo", env=_env(lang, PRACTICO_VENV=str(tmp_path / "v")))
    assert res.returncode == 2 and res.stdout == ""
    first = res.stderr.splitlines()[0]
    assert first == {"es": "kit: no conozco la orden «dmeo».",
                     "en": 'kit: unknown command "dmeo".'}[lang]
    assert res.stderr.splitlines()[1].startswith({"es": "Uso:", "en": "Usage:"}[lang])
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_kit_without_python3_says_what_to_install(tmp_path, lang):
    """A PATH with the tools the script uses but no python3: the setup stops with the fix."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env", "dirname", "tr", "cut", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    res = _kit("setup", env=_env(lang, PRACTICO_VENV=str(tmp_path / "v")), path=str(bin_dir))
    assert res.returncode == 1
    assert res.stderr.strip() == {
        "es": "kit: no encontré python3. Hace falta Python 3.10 o más nuevo: instalalo "
              "(python.org o el gestor de paquetes de tu sistema) y volvé a correr ./kit setup.",
        "en": "kit: python3 was not found. Python 3.10 or newer is needed: install it "
              "(python.org or your system's package manager) and run ./kit setup again.",
    }[lang]
    assert not (tmp_path / "v").exists()


# ------------------------------------------------------------------ the MNIST message itself

@pytest.mark.slow
def test_missing_mnist_message_in_each_language(tmp_path, monkeypatch):
    """One message, the fix as commands; the download command, pasted into a shell, works
    once MNIST is there (a folder whose name needs quoting: a space and a quote)."""
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    from grader.data import MNISTNotFoundError, ensure_mnist

    root = tmp_path / "it's my data"
    with pytest.raises(MNISTNotFoundError) as info:
        ensure_mnist(root)
    exc = info.value
    assert not root.exists()  # the failed download left nothing behind
    raw = root / "MNIST" / "raw"
    texts = {lang: exc.message(lang) for lang in ("es", "en")}
    for lang, text in texts.items():
        other = "en" if lang == "es" else "es"
        assert text.startswith(HEADER[lang].format(raw=raw))
        assert FIX[lang] in text and FIX[other] not in text
        assert HEADER[other].format(raw=raw) not in text
        assert "export PRACTICO_DATA=" in text
        # The download failed: why is said on the first line, not as a traceback.
        assert "Traceback" not in text and "Connection refused" in text.splitlines()[0]
    monkeypatch.setenv("PRACTICO_LANG", "en")
    assert str(exc) == texts["en"]
    monkeypatch.delenv("PRACTICO_LANG")
    assert str(exc) == texts["es"] and exc._render_traceback_() == texts["es"].splitlines()
    # The exception survives a trip to another process (a worker may raise it).
    import pickle

    assert pickle.loads(pickle.dumps(exc)).message("en") == texts["en"]

    command = texts["es"].splitlines()[-1].strip()
    assert command.startswith("PRACTICO_DATA=")
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).symlink_to(SHARED_MNIST / name)
    done = subprocess.run(["bash", "-c", command.replace("python ", f"{sys.executable} ", 1)],
                          env=_env(None), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_failed_download_keeps_what_was_there(tmp_path, monkeypatch):
    """Files that were in MNIST/raw before stay; only what the try added goes."""
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    from grader.data import MNISTNotFoundError, ensure_mnist

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "notes.txt").write_text("mine")
    (raw / "train-labels-idx1-ubyte").symlink_to(SHARED_MNIST / "train-labels-idx1-ubyte")
    before = _tree(tmp_path)
    with pytest.raises(MNISTNotFoundError) as info:
        ensure_mnist(tmp_path)
    assert _tree(tmp_path) == before
    assert "train-labels-idx1-ubyte" not in info.value.missing
    assert len(info.value.missing) == 3


def test_a_damaged_mnist_file_is_one_message_too(tmp_path):
    from grader.data import MNISTCorruptError, ensure_mnist

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (raw / name).symlink_to(SHARED_MNIST / name)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 10)
    with pytest.raises(MNISTCorruptError) as info:
        ensure_mnist(tmp_path)
    es, en = info.value.message("es"), info.value.message("en")
    assert "no es el archivo de MNIST" in es and "is not the MNIST file" in en
    assert es.splitlines()[-1].strip() == f"rm {shlex.quote(str(raw / 't10k-labels-idx1-ubyte'))}"
    assert "is not" not in es and "no es" not in en


# ------------------------------------------------------------------ every entry point

def _notebook_script(folder: Path) -> Path:
    """A script that runs the notebook's check_task in a real Jupyter kernel (nbclient) and
    prints what the cell shows: the error's name, then its traceback as Jupyter renders it."""
    script = folder / "run_nb.py"
    script.write_text(
        "import nbformat, nbclient\n"
        "nb = nbformat.v4.new_notebook()\n"
        "nb.cells = [nbformat.v4.new_code_cell("
        "'from grader.nb import check_task\\ncheck_task(\"test_viewer\", globals())')]\n"
        "nbclient.NotebookClient(nb, timeout=300, kernel_name='python3',"
        " allow_errors=True).execute()\n"
        "for out in nb.cells[0].outputs:\n"
        "    print(out.get('ename', ''))\n"
        "    print('\\n'.join(out.get('traceback', [])) or out.get('text', ''))\n")
    return script


def _kit_venv(tmp_path: Path) -> Path:
    """A view of this interpreter's virtual environment that ``./kit`` takes as set up: its
    own pyvenv.cfg and python, the same site-packages (symbolic links; nothing installed)."""
    prefix = Path(sys.prefix)
    if prefix == Path(sys.base_prefix) or not (prefix / "pyvenv.cfg").is_file():
        pytest.skip("the tests do not run in a virtual environment")
    import sysconfig

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    shutil.copy(prefix / "pyvenv.cfg", venv / "pyvenv.cfg")
    (venv / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    site = Path(sysconfig.get_paths()["purelib"])
    target = venv / site.relative_to(prefix)
    target.parent.mkdir(parents=True)
    target.symlink_to(site)
    (venv / ".practico-installed").touch()  # newer than pyproject.toml: no install
    return venv


ENTRY_POINTS = {
    "grade": ("es", 2), "autograde": ("en", 2), "experiments": ("es", 2),
    "pytest": ("en", 3), "notebook": ("es", None), "kit_demo": ("en", 2),
}


@pytest.mark.slow
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_missing_mnist_is_one_message_from_every_entry_point(tmp_path, entry):
    lang, code = ENTRY_POINTS[entry]
    work = tmp_path / "work"
    work.mkdir()
    data = tmp_path / "data"  # does not exist: where the kit would download MNIST
    env = _env(None if lang == "es" else lang, PRACTICO_DATA=str(data))
    if entry == "autograde":
        student = work / "class" / "ana"
        student.mkdir(parents=True)
        for src in (ROOT / "exercises").glob("ex*.py"):
            shutil.copy(src, student / src.name)
    if entry == "kit_demo":
        env["PRACTICO_VENV"] = str(_kit_venv(tmp_path))
    script = _notebook_script(tmp_path) if entry == "notebook" else None
    before = _tree(tmp_path)
    if script is not None:
        res = subprocess.run([sys.executable, str(script)], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        assert res.stdout.splitlines()[0] == "MNISTNotFoundError"
        text = res.stdout
    else:
        argv = {
            "grade": ["-m", "grader", "grade", str(ROOT / "exercises")],
            "autograde": ["-m", "grader", "autograde", str(work / "class"),
                          "--out", str(work / "results")],
            "experiments": ["-m", "grader", "experiments", "--quick",
                            "--out", str(work / "report")],
            "pytest": ["-m", "pytest", str(ROOT / "exercises"), "-q", "-p", "no:cacheprovider"],
        }.get(entry)
        if argv is None:  # ./kit demo, its report into the temporary folder
            res = _kit("demo", "--out", str(work / "report"), env=env)
        else:
            res = subprocess.run([sys.executable, *argv], cwd=work, env=env,
                                 capture_output=True, text=True, timeout=300)
        assert res.returncode == code, res.stdout[-2000:] + res.stderr[-2000:]
        text = res.stdout + res.stderr
    raw = data / "MNIST" / "raw"
    other = "en" if lang == "es" else "es"
    assert text.count(HEADER[lang].format(raw=raw)) == 1, text[-3000:]
    assert text.count(FIX[lang]) == 1 and FIX[other] not in text
    assert "Traceback" not in text and "  File " not in text
    assert f"PRACTICO_DATA={data}" in text  # the download command, for this folder
    assert _tree(tmp_path) == before  # no data/MNIST/raw, no results or report folder


# ------------------------------------------------------------------ figures

def _label(lang: str):
    from grader.i18n import t

    return lambda key, /, **values: t(key, lang, **values)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{4,}", text)}


def _only_in(lang: str) -> set[str]:
    """Words of the experiments' messages (exp_*) in ``lang`` that the other never uses."""
    other = "en" if lang == "es" else "es"
    mine, theirs = set(), set()
    for key, entry in MESSAGES.items():
        if key.startswith("exp_"):
            mine |= _words(re.sub(r"\{[^}]*\}", " ", entry[lang]))
            theirs |= _words(re.sub(r"\{[^}]*\}", " ", entry[other]))
    return mine - theirs


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [a.get_text() for a in fig.findobj(Text) if a.get_text()]


def _legends(fig) -> list[list[str]]:
    return [[x.get_text() for x in ax.get_legend().get_texts()]
            for ax in fig.axes if ax.get_legend() is not None]


def test_the_vocabulary_check_can_fail():
    """The words the figure tests look for are there to be found."""
    assert {"unclipped", "diverged", "epoch"} <= _only_in("en")
    assert {"recorte", "divergió", "época"} <= _only_in("es")
    # the label this issue was filed about would fail it
    assert _words("sin recorte / unclipped") & _only_in("en")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_diverged_curves_are_marked_where_they_diverged(lang):
    from grader.experiments import figures
    from grader.experiments.section7 import run_names

    label = _label(lang)
    nan = float("nan")
    runs = [{"train_loss": [2.2, 1.9, 1.7], "val_acc": [0.3, 0.5, 0.6]},
            {"train_loss": [1.1, 0.6, 0.4], "val_acc": [0.8, 0.85, 0.9]},
            {"train_loss": [5344.0, 6.2, 6.1], "val_acc": [0.09, 0.09, 0.09]},  # huge
            {"train_loss": [1.5, None, None], "val_acc": [0.5, None, None]}]   # nan later
    fig = figures.sweep_figure((0.01, 0.1, 30.0, 3.0), runs, "t", label)
    word = {"es": "divergió en la época", "en": "diverged at epoch"}[lang]
    expected = ["lr=0.01", "lr=0.1", "lr=30", f"lr=30: {word} 1", "lr=3", f"lr=3: {word} 2"]
    assert _legends(fig) == [expected, expected]
    ax_loss = fig.axes[0]
    marks = {line.get_label(): line for line in ax_loss.get_lines()
             if line.get_label().startswith("lr=") and ":" in line.get_label()}
    # huge: the cross sits on the value; nan: on top of the axes, at that epoch
    huge = marks[f"lr=30: {word} 1"]
    assert list(huge.get_xdata()) == [1] and list(huge.get_ydata()) == [5344.0]
    gone = marks[f"lr=3: {word} 2"]
    assert list(gone.get_xdata()) == [2] and gone.get_transform() == ax_loss.get_xaxis_transform()
    assert figures.diverged_at([1.0, nan]) == 2 and figures.diverged_at([1.0, 2.0]) is None

    steps = {"unclipped": [27.6, 152.7, 5453.2, 6.6e9, None, None],
             "clipped": [27.6, 19.6, 19.0, 15.8, 14.9, 12.0]}
    per_layer = {"unclipped": [109.1, 22.8, 18.3], "clipped": [0.95, 0.2, 0.16]}
    fig = figures.norms_figure(per_layer, steps, run_names(label), "t", label)
    names = run_names(label)
    step = {"es": "divergió en el paso", "en": "diverged at step"}[lang]
    assert _legends(fig) == [[names["unclipped"], names["clipped"]],
                             [names["unclipped"], f"{names['unclipped']}: {step} 4",
                              names["clipped"]]]
    for f in (fig, figures.sweep_figure((0.01,), runs[:1], "t", label)):
        assert not set().union(*map(_words, _texts(f))) & _only_in("en" if lang == "es" else "es")


@pytest.fixture(scope="module")
def spanish_figures(tmp_path_factory):
    """Four experiments of a real run (reference code, real MNIST, the quick budget) in
    Spanish, in this process, every figure's texts read from the matplotlib objects as they
    are saved."""
    import torch

    from grader.experiments import figures
    from grader.experiments.catalogue import EXPERIMENTS
    from grader.experiments.harness import Run, make_budget, run_experiment
    from grader.impl import DirImpl
    from grader.outputs.progress import Progress

    out = tmp_path_factory.mktemp("figures_es")
    seen: dict[str, object] = {}
    original = figures.save_png

    def keep(fig, path, dpi=100):
        seen[Path(path).name] = fig
        original(fig, path, dpi)

    figures.save_png = keep
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as `experiments` does: several threads crawl on a busy machine
    try:
        run = Run(DirImpl(ROOT / "solutions"), out, make_budget(True), "cpu", "es",
                  Progress(4, enabled=False))
        records = {exp.id: run_experiment(run, exp) for exp in EXPERIMENTS
                   if exp.id in ("data", "init_probe", "lr_sweep", "exploding")}
    finally:
        figures.save_png = original
        torch.set_num_threads(threads)
    return seen, records


@pytest.mark.slow
def test_a_spanish_run_draws_spanish_figures(spanish_figures):
    seen, records = spanish_figures
    assert all(rec.status == "ok" for rec in records.values()), {
        k: r.issues for k, r in records.items()}
    assert set(seen) == {"data_train_grid.png", "data_test_grid.png", "init_activation_std.png",
                         "init_grad_std.png", "lr_sweep.png", "exploding_grad_norms.png"}
    english = _only_in("en")
    for name, fig in seen.items():
        found = set().union(*map(_words, _texts(fig))) & english
        assert not found, (name, found, _texts(fig))
    assert seen["data_train_grid.png"]._suptitle.get_text() == (
        "Conjunto de entrenamiento: show_example(dataset, i)")
    assert _legends(seen["init_activation_std.png"]) == [["Xavier", "He", "ortogonal"]]
    sweep = _legends(seen["lr_sweep.png"])[0]
    assert sweep[:5] == ["lr=0.001", "lr=0.01", "lr=0.1", "lr=1", "lr=30"]
    # Rate 30 blows up in its first epoch (loss in the thousands): marked, and recorded.
    assert sweep[5:] == ["lr=30: divergió en la época 1"]
    assert records["lr_sweep"].data["diverged_epoch"] == [None, None, None, None, 1]
    steps = _legends(seen["exploding_grad_norms.png"])[1]
    k = records["exploding"].data["diverged_step"]["unclipped"]
    assert k is not None and records["exploding"].data["diverged_step"]["clipped"] is None
    assert steps == ["sin recorte", f"sin recorte: divergió en el paso {k}",
                     "con recorte (max_norm=1)"]
    norms = records["exploding"].data["step_norms"]["unclipped"]
    assert all(math.isfinite(v) for v in norms[: k - 1])
