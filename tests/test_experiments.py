"""The main job end to end: `python -m grader experiments --quick` in a subprocess, real MNIST.

One quick run on the reference and one on the stubs, each shared by the tests
that read it (module-scoped fixtures); then the bad-input paths, and the report
opened in headless Chromium when it is installed.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_py
from waiting import wait_until

from grader.tasks import TASK_BY_ID

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: seconds the first quick experiment may take to finish, two at once on a loaded machine
FIRST_EXPERIMENT_SECONDS = 300
#: seconds an interrupted run's workers get to end once the run itself has exited (they had
#: the same SIGINT; what is left is their exit and reaping)
GROUP_END_SECONDS = 10
EXPERIMENT_IDS = ["data", "onehot_mse", "cross_entropy", "parity", "parity_scaling",
                  "deep_sigmoid", "deep_relu", "init_probe", "he_init", "lr_sweep", "exploding"]
MNIST_IDS = ["onehot_mse", "cross_entropy", "deep_sigmoid", "deep_relu", "he_init"]
SEED_ACC = {"onehot_mse": 0.951, "cross_entropy": 0.951, "deep_sigmoid": 0.965,
            "deep_relu": 0.973, "he_init": 0.975}
FIGURES = ["data_train_grid.png", "data_test_grid.png", "curves_onehot_mse.png",
           "curves_cross_entropy.png", "parity_curves.png", "parity_scaling.png",
           "curves_deep_sigmoid.png", "curves_deep_relu.png", "init_activation_std.png",
           "init_grad_std.png", "curves_he_init.png", "lr_sweep.png",
           "exploding_grad_norms.png", "mnist_val_acc.png", "confusion_matrix.png"]

pytestmark = pytest.mark.slow


def _experiments(out: Path, *args: str, lang: str = "en"):
    # CI=true: the log-friendly progress (one line per experiment), as in CI.
    return run_py("-m", "grader", "experiments", "--quick", "--device", "cpu", "--out", str(out),
                  *args, env={"CI": "true", "PRACTICO_LANG": lang}, timeout=900)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    # Two worker processes (the default on 2 cores, explicit so 1-CPU machines test it too).
    out = tmp_path_factory.mktemp("report_ref")
    start = time.perf_counter()
    proc = _experiments(out, "--jobs", "2")
    proc.wall_seconds = time.perf_counter() - start  # the whole command, start-up included
    return out, proc


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report_serial")
    proc = _experiments(out, "--jobs", "1")
    return out, proc


def _without_timings(results: dict) -> dict:
    """results.json less what may differ between two runs: times, start date, job count."""
    results = json.loads(json.dumps(results))
    for key in ("total_seconds", "started_at", "jobs"):
        results["meta"].pop(key)
    for entry in results["experiments"].values():
        entry.pop("seconds")
    return results


@pytest.fixture(scope="module")
def stubs_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report_stubs")
    proc = _experiments(out, "--impl", "exercises")
    return out, proc


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (and proof the file is a PNG)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name}: no IHDR chunk"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _html_tree(path: Path) -> ET.Element:
    """report.html parsed as XML: proves every tag is closed and every text is escaped."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    return ET.fromstring(text.split("\n", 1)[1])


def test_reference_run_writes_every_figure(reference_run):
    out, proc = reference_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    listed = [f for e in results["experiments"].values() for f in e["figures"]]
    listed += results["summary"]["figures"]
    assert sorted(listed) == sorted(FIGURES)
    for name in FIGURES:
        width, height = _png_size(out / name)
        assert width >= 200 and height >= 150, (name, width, height)
    # the figures decode as images, not just carry a PNG header
    import matplotlib.image as mpimg

    pixels = mpimg.imread(out / "init_grad_std.png")
    assert pixels.ndim == 3 and pixels.std() > 0.05  # not a blank canvas


def test_reference_results_are_complete_and_sane(reference_run):
    out, proc = reference_run
    results = json.loads((out / "results.json").read_text())
    assert list(results["experiments"]) == EXPERIMENT_IDS
    assert results["meta"]["finished"] is True
    assert results["meta"]["budget"]["quick"] is True
    assert results["seed_test_acc"] == SEED_ACC
    for exp_id, entry in results["experiments"].items():
        assert entry["status"] == "ok", (exp_id, entry["issues"])
        assert entry["seconds"] > 0
    assert {k: v["status"] for k, v in results["tasks"].items()} == {k: "ok" for k in TASK_BY_ID}
    epochs = results["meta"]["budget"]["mnist_epochs"]
    accs = {}
    for exp_id in MNIST_IDS:
        data = results["experiments"][exp_id]["data"]
        accs[exp_id] = data["test_acc"]
        assert 0.0 <= data["test_acc"] <= 1.0
        assert data["seed_test_acc"] == SEED_ACC[exp_id]
        for key in ("train_loss", "val_loss", "val_acc"):
            assert len(data["history"][key]) == epochs
        assert all(0.0 <= a <= 1.0 for a in data["history"]["val_acc"])
    # Even after the quick budget, ReLU nets are far above chance (0.1) and beat the
    # deep sigmoid net, whose gradients vanish: the experiment shows what it should.
    assert accs["deep_relu"] > 0.6 and accs["he_init"] > 0.6
    assert accs["deep_relu"] > accs["deep_sigmoid"]
    parity = results["experiments"]["parity"]["data"]
    n_epochs = results["meta"]["budget"]["parity_epochs"]
    for kind in ("shallow", "deep"):
        assert len(parity[kind]["test_acc"]) == len(parity[kind]["train_loss"]) == n_epochs
        assert parity[kind]["train_loss"][-1] < parity[kind]["train_loss"][0]
    scaling = results["experiments"]["parity_scaling"]["data"]
    assert scaling["bits"] == results["meta"]["budget"]["scaling_bits"]
    assert min(scaling["shallow_final_test_acc"][0], scaling["deep_final_test_acc"][0]) > 0.9
    probe = results["experiments"]["init_probe"]["data"]
    assert probe["stand_in_net"] is False
    for init in ("xavier", "he", "orthogonal"):
        assert len(probe["inits"][init]["activation_std"]) == probe["depth"]
        assert len(probe["inits"][init]["grad_std"]) == probe["depth"] + 1
    # Xavier + ReLU loses the signal layer after layer; He keeps it.
    xavier, he = probe["inits"]["xavier"]["activation_std"], probe["inits"]["he"]["activation_std"]
    assert xavier[-1] < 0.1 * xavier[0] and he[-1] > 0.3 * he[0]
    # Section 7: the middle rates learn, the too-high one does not; clipping rescues a rate
    # that diverges without it, and the gradient norms grow toward the input.
    sweep = results["experiments"]["lr_sweep"]["data"]
    finals = [run["val_acc"][-1] for run in sweep["runs"]]
    assert len(finals) == len(sweep["lrs"]) and sweep["best_lr"] in (0.1, 1.0)
    assert finals[sweep["lrs"].index(0.1)] > 0.7 and finals[-1] < 0.2 and finals[0] < 0.5
    # Rate 30 diverges in its first epoch (loss in the thousands), and results.json says so.
    assert sweep["diverged_epoch"] == [None, None, None, None, 1]
    boom = results["experiments"]["exploding"]["data"]
    assert boom["grad_norms_at_init"][0] > 10 * boom["grad_norms_at_init"][-2]
    # the runs are keyed by what they are, in every language
    clipped = boom["first_step_per_layer"]["clipped"]
    assert len(clipped) == len(boom["grad_norms_at_init"])
    assert boom["accuracy_by_run"]["clipped"] > 0.4
    unclipped = boom["accuracy_by_run"]["unclipped"]
    assert unclipped is None or unclipped < 0.2  # None: nan, the run diverged
    assert boom["diverged_step"]["clipped"] is None
    k = boom["diverged_step"]["unclipped"]
    assert 1 < k <= len(boom["step_norms"]["unclipped"])
    summary = results["summary"]
    assert summary["best_mnist_model"] == max(accs, key=accs.get)
    matrix = summary["confusion_matrix"]
    assert sum(map(sum, matrix)) == 10000
    assert sum(matrix[i][i] for i in range(10)) / 10000 == pytest.approx(
        summary["best_test_acc"])


def test_parallel_run_gives_the_serial_numbers(reference_run, serial_run):
    """--jobs 2 (worker processes) and --jobs 1 (this process): the same results.json."""
    (par_out, par_proc), (ser_out, ser_proc) = reference_run, serial_run
    assert par_proc.returncode == 0 and ser_proc.returncode == 0, ser_proc.stderr[-3000:]
    parallel = json.loads((par_out / "results.json").read_text())
    serial = json.loads((ser_out / "results.json").read_text())
    assert (parallel["meta"]["jobs"], serial["meta"]["jobs"]) == (2, 1)
    assert parallel["meta"]["threads"] == serial["meta"]["threads"] == 1
    assert list(parallel["experiments"]) == list(serial["experiments"]) == EXPERIMENT_IDS
    # every number: accuracies, every epoch's loss, per-layer stds, the confusion matrix
    assert _without_timings(parallel) == _without_timings(serial)
    # and what the code printed, per experiment (the reference prints each epoch)
    for exp_id in MNIST_IDS:
        tail = parallel["experiments"][exp_id]["output_tail"]
        assert "val_acc" in tail and tail == serial["experiments"][exp_id]["output_tail"]
    n = len(EXPERIMENT_IDS)
    assert len(re.findall(rf"^\[\d+/{n}\] ", ser_proc.stderr, re.M)) == n
    for name in FIGURES:
        assert (ser_out / name).is_file() and (par_out / name).is_file()


def test_student_output_is_captured_not_shown(reference_run):
    out, proc = reference_run
    results = json.loads((out / "results.json").read_text())
    # The reference loops print one line per epoch: kept in results.json, not on the terminal.
    assert "val_acc" in results["experiments"]["onehot_mse"]["output_tail"]
    assert "val_acc=" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    # log-friendly progress: one line per experiment
    n = len(EXPERIMENT_IDS)
    assert len(re.findall(rf"^\[\d+/{n}\] ", proc.stderr, re.M)) == n


def test_reference_reports_have_the_table_and_images(reference_run):
    out, proc = reference_run
    md = (out / "report.md").read_text()
    assert "| experiment | our test accuracy | seed notebook | time (s) | status |" in md
    results = json.loads((out / "results.json").read_text())
    for exp_id in MNIST_IDS:
        acc = results["experiments"][exp_id]["data"]["test_acc"]
        row = next(line for line in md.splitlines()
                   if line.startswith("| ") and f"| {acc:.3f} | {SEED_ACC[exp_id]:.3f} |" in line)
        assert row.endswith("| ok |")
    for name in FIGURES:
        assert f"]({name})" in md

    root = _html_tree(out / "report.html")
    images = root.findall(".//img")
    assert len(images) == len(FIGURES)
    on_disk = {(out / name).read_bytes() for name in FIGURES}
    for img in images:
        src = img.get("src")
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) in on_disk
        assert img.get("alt")
    rows = root.findall(".//table[@id='summary']/tr")
    assert len(rows) == 1 + len(EXPERIMENT_IDS)
    # text from the run (paths, student output) is escaped, so a "<" cannot open a tag
    assert "src=\"http" not in (out / "report.html").read_text()


def test_total_time_is_the_runs_wall_time(reference_run):
    """With --jobs 2 the experiments overlap: the report's total is the run's wall time (at
    most the whole command's), not the sum of the experiments' times."""
    out, proc = reference_run
    results = json.loads((out / "results.json").read_text())
    total = results["meta"]["total_seconds"]
    seconds = [entry["seconds"] for entry in results["experiments"].values()]
    assert max(seconds) <= total <= proc.wall_seconds
    if sum(seconds) > proc.wall_seconds:  # they overlapped (on 2 cores, the usual case)
        assert total < sum(seconds)
    intro = f"total time of the run: {total:.0f} s of wall time (2 experiment(s) at once"
    assert intro in (out / "report.md").read_text()
    assert intro in (out / "report.html").read_text()


def _md_alts(md: str) -> dict[str, str]:
    """``{figure file: alt text}`` of report.md, Markdown escapes undone."""
    import html

    return {name: html.unescape(re.sub(r"\\(.)", r"\1", alt))
            for alt, name in re.findall(r"^!\[(.*)\]\(([a-z0-9_]+\.png)\)$", md, re.M)}


def test_every_figure_has_alt_text_that_says_what_it_shows(reference_run):
    out, _ = reference_run
    results = json.loads((out / "results.json").read_text())
    alts = _md_alts((out / "report.md").read_text())
    assert sorted(alts) == sorted(FIGURES)
    # report.html gives each image the same text, in the same order
    images = _html_tree(out / "report.html").findall(".//img")
    assert [img.get("alt") for img in images] == list(alts.values())
    from grader.i18n import t

    titles = {t(f"exp_title_{exp_id}", "en") for exp_id in EXPERIMENT_IDS}  # not just a title
    for name, alt in alts.items():
        assert name not in alt and len(alt) > 80 and alt not in titles, (name, alt)
    exps = results["experiments"]
    labels = exps["data"]["data"]["train_labels"]
    assert f"their labels, in order: {', '.join(map(str, labels))}." in alts["data_train_grid.png"]
    acc = exps["he_init"]["data"]["history"]["val_acc"][-1]
    assert alts["curves_he_init.png"].endswith(f"which ends at {acc:.3f}.")
    assert "lr=30, diverged at epoch 1" in alts["lr_sweep.png"]
    k = exps["exploding"]["data"]["diverged_step"]["unclipped"]
    assert f"A cross marks each divergence: unclipped, diverged at step {k}." in alts[
        "exploding_grad_norms.png"]
    summary = results["summary"]
    matrix = summary["confusion_matrix"]
    n, true, pred = max((matrix[i][j], i, j) for i in range(10) for j in range(10) if i != j)
    assert f"{true} taken for {pred}, {n} times" in alts["confusion_matrix.png"]


def test_the_same_results_in_spanish_are_spanish_throughout(reference_run):
    """The report of the (English) reference run, written again in Spanish from its
    results.json: table cells and alt texts hold no word that only English uses."""
    from test_first_hour import _only_in, _words

    from grader.experiments.report import markdown, table_rows

    out, _ = reference_run
    results = json.loads((out / "results.json").read_text())
    english, spanish = _only_in("en"), _only_in("es")
    rows = table_rows(results, "es")
    for row in rows:
        assert not set().union(*map(_words, row)) & english, row
    assert not set().union(*map(_words, table_rows(results, "en")[0])) & spanish
    boom = results["experiments"]["exploding"]["data"]
    k, acc = boom["diverged_step"]["unclipped"], boom["accuracy_by_run"]["clipped"]
    unclipped = (f"divergió en el paso {k}" if boom["accuracy_by_run"]["unclipped"] is None
                 else f"{boom['accuracy_by_run']['unclipped']:.3f}")
    assert rows[-1][1] == f"sin recorte: {unclipped} · con recorte (max_norm=1): {acc:.3f}"
    alts = _md_alts(markdown(results, "es"))
    assert sorted(alts) == sorted(FIGURES)
    for name, alt in alts.items():
        assert not _words(alt) & english, (name, alt)
    assert "lr=30, divergió en la época 1" in alts["lr_sweep.png"]
    assert alts["mnist_val_acc.png"].startswith("Accuracy en validación por época de los 5")


def test_stubs_run_completes_with_every_task_not_implemented(stubs_run):
    out, proc = stubs_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["finished"] is True
    assert {k: v["status"] for k, v in results["tasks"].items()} == {
        k: "not_implemented" for k in TASK_BY_ID}
    for task_id, info in results["tasks"].items():
        assert f"[{task_id}]" in info["message"] and "NotImplementedError" in info["message"]
    # Code the practical gives still runs: the shallow parity net trains, the train grid shows.
    parity = results["experiments"]["parity"]
    assert parity["status"] == "partial" and "shallow" in parity["data"]
    assert "deep" not in parity["data"]
    assert (out / "data_train_grid.png").is_file() and (out / "parity_curves.png").is_file()
    assert not (out / "curves_deep_relu.png").exists()
    md = (out / "report.md").read_text()
    for task_id in TASK_BY_ID:
        assert f"| `{task_id}` | not implemented |" in md
    _html_tree(out / "report.html")


def test_bad_impl_path_is_a_clear_error_exit_2(tmp_path):
    proc = run_py("-m", "grader", "experiments", "--quick", "--impl", str(tmp_path / "nope"),
                  "--out", str(tmp_path / "out"), timeout=120)
    assert proc.returncode == 2
    assert "no existe esa carpeta" in proc.stderr and "ex*.py" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "results.json").exists()


@pytest.mark.parametrize("case", ["no_ex_files", "out_is_file", "bad_epochs"])
def test_other_bad_input_is_a_clear_error(tmp_path, case, capsys):
    """The same command line, parsed and run in this process (no training starts)."""
    from grader.cli import main

    args = ["--out", str(tmp_path / "out")]
    if case == "no_ex_files":
        (tmp_path / "empty").mkdir()
        args += ["--impl", str(tmp_path / "empty")]
        expected = "no tiene archivos ex*.py"
    elif case == "out_is_file":
        (tmp_path / "file").write_text("x")
        args = ["--out", str(tmp_path / "file")]
        expected = "es un archivo"
    else:
        args += ["--epochs", "0"]
        expected = "tiene que ser al menos 1"
    try:
        code = main(["experiments", "--quick", *args])
    except SystemExit as exc:  # argparse rejects a bad --epochs itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.json").exists()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    return None


@pytest.mark.browser
def test_report_opens_in_headless_chromium_with_its_images(reference_run, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    out, _ = reference_run
    # A copy of the report that, once loaded, writes into its title how many images the
    # browser decoded (an image that failed has naturalWidth 0).
    page = tmp_path / "report.html"
    probe = ("<script>window.addEventListener('load', function () {"
             "var imgs = Array.from(document.images);"
             "var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });"
             "document.title = 'IMAGES ' + ok.length + '/' + imgs.length; });</script>")
    page.write_text((out / "report.html").read_text().replace("</body>", probe + "</body>"))
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    match = re.search(r"<title>IMAGES (\d+)/(\d+)</title>", proc.stdout)
    assert match, proc.stderr[-2000:]
    assert match.group(1) == match.group(2) == str(len(FIGURES))


def test_html_report_escapes_what_the_code_printed(tmp_path):
    """Text from student code (messages, prints with markup or ANSI colours) stays text."""
    from grader.experiments.harness import make_budget
    from grader.experiments.report import html_report, markdown

    nasty = "<script>alert(1)</script> & \x1b[31mred\x1b[0m \x00"
    entry = {"status": "error", "seconds": 1.0, "tasks": ["ce_net"], "task_status": {},
             "issues": [{"task": "ce_net", "status": "error", "message": nasty}],
             "notes": [], "figures": [], "data": {}, "output_tail": nasty}
    results = {"meta": {"impl": "/x/<b>", "device": "cpu", "budget": make_budget(True).as_dict(),
                        "total_seconds": 1.0, "finished": True},
               "experiments": {"cross_entropy": entry},
               "tasks": {"ce_net": {"status": "error", "experiment": "cross_entropy",
                                    "message": nasty}},
               "summary": {}}
    text = html_report(results, tmp_path, "en")
    root = ET.fromstring(text.split("\n", 1)[1])
    assert root.find(".//script") is None and root.find(".//b") is None
    shown = "".join(root.find(".//pre").itertext())
    assert shown.startswith("<script>alert(1)</script> & [31mred")
    assert "| Simple net, cross-entropy | — | 0.951 | 1.0 | error |" in markdown(results, "en")


def test_ctrl_c_with_workers_leaves_a_report_of_what_finished(tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) during --jobs 2:
    exit 130, the workers end, and the report holds the experiments that had finished."""
    import os
    import signal
    import sys

    from conftest import ROOT

    out = tmp_path / "out"
    env = {**os.environ, "CI": "true", "PRACTICO_LANG": "en"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "experiments", "--quick", "--device", "cpu",
         "--jobs", "2", "--out", str(out)], cwd=ROOT, env=env, start_new_session=True,
        # a shell's background jobs ignore SIGINT; this one must get it as a terminal's would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the first experiment has finished once results.json exists
    wait_until((out / "results.json").exists, FIRST_EXPERIMENT_SECONDS,
               "the first experiment finished (results.json written)")
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "Interrupted" in err and "Traceback" not in err
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["finished"] is False
    done = list(results["experiments"])
    assert done and done == [e for e in EXPERIMENT_IDS if e in done]  # catalogue order
    assert all(entry["status"] == "ok" for entry in results["experiments"].values())
    # every process of the run ends (the group empties, zombies aside)

    def group_empty() -> bool:
        alive = subprocess.run(["ps", "-eo", "pgid=,stat="], capture_output=True,
                               text=True).stdout
        return not [line for line in alive.splitlines()
                    if line.split()[0] == str(proc.pid) and not line.split()[1].startswith("Z")]

    wait_until(group_empty, GROUP_END_SECONDS, "every process of the interrupted run ended")
