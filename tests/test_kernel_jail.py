"""nbgrader's kernel in the jail (grader.nbgrading.kernel), driven by nbclient as nbgrader does.

The kernel runs a notebook that reports what it can see; the test checks it against what
the host put around it: a canary file next to the student's folder, a listening socket on
the host's loopback, the course secret in the grader's environment.
"""

from __future__ import annotations

import json
import os
import socket

import nbformat
import pytest
from nbclient import NotebookClient

from grader.nbgrading.kernel import JailedKernelManager

pytestmark = pytest.mark.slow

PROBE = r'''
import json, os, socket
found = {"root": sorted(os.listdir("/")), "cwd": os.getcwd(), "uid": os.getuid(),
         "here": sorted(os.listdir(".")), "secret": os.environ.get("PRACTICO_SECRET"),
         "hostname": socket.gethostname()}
try:
    with open("CANARY_PATH") as fh:
        found["canary"] = fh.read()
except OSError as exc:
    found["canary"] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    found["network"] = "connected"
except OSError as exc:
    found["network"] = type(exc).__name__
try:
    with open("escrito.txt", "w") as fh:
        fh.write("hola")
    found["write_cwd"] = "ok"
except OSError as exc:
    found["write_cwd"] = type(exc).__name__
print("JAIL" + json.dumps(found))
'''


@pytest.mark.parametrize("user_namespace", [False, True], ids=["as-root", "user-namespace"])
def test_the_kernel_sees_only_its_own_folder(tmp_path, monkeypatch, user_namespace):
    if user_namespace is False and os.geteuid() != 0:
        pytest.skip("the uid-drop mode needs root")
    student = tmp_path / "autograded" / "alumna" / "practico2"
    student.mkdir(parents=True)
    (student / "datos.txt").write_text("de la alumna")
    canary = tmp_path / "source" / "practico2.ipynb"
    canary.parent.mkdir()
    canary.write_text("solución secreta")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    monkeypatch.setenv("PRACTICO_SECRET", "no-debe-llegar-al-kernel-0123456789")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    code = PROBE.replace("CANARY_PATH", str(canary)).replace(
        "PORT", str(listener.getsockname()[1]))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            kernel_manager_class=JailedKernelManager,
                            resources={"metadata": {"path": str(student)}})
    km = client.km = client.create_kernel_manager()  # nbclient drops client.km when done
    km.force_user_namespace = user_namespace
    try:
        client.execute()
    finally:
        listener.close()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    found = json.loads(text.split("JAIL", 1)[1])
    isolation = km.isolation
    assert isolation and isolation["jailed"], isolation
    assert found["cwd"] == str(student.resolve())
    assert "datos.txt" in found["here"] and found["write_cwd"] in ("ok", "PermissionError")
    assert found["canary"] == "FileNotFoundError"  # the rest of the course does not exist
    assert found["network"] != "connected" and found["secret"] is None
    assert found["hostname"] == "sandbox"
    if not user_namespace:
        assert found["uid"] != 0 and isolation["uid"] == found["uid"]
