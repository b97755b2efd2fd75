"""build-stubs: generation, drift detection, marker errors, and stubs that match the reference."""

from __future__ import annotations

import ast
import inspect
import shutil
from pathlib import Path

import pytest
from conftest import run_py

from grader.authoring.stubs import MarkerError, build_stubs, find_regions, make_stub
from grader.impl import DirImpl
from grader.tasks import MODULES, TASK_BY_ID


def test_committed_stubs_match_solutions(root):
    assert build_stubs(root / "solutions", root / "exercises", check=True) == []


def test_check_command_fails_on_drift(root, tmp_path):
    shutil.copytree(root / "solutions", tmp_path / "solutions")
    shutil.copytree(root / "exercises", tmp_path / "exercises")
    ok = run_py("-m", "grader", "build-stubs", "--check", "--solutions",
                str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises"))
    assert ok.returncode == 0, ok.stderr
    stub = tmp_path / "exercises" / "ex3_depth.py"
    stub.write_text(stub.read_text() + "\n# a stray edit\n")
    bad = run_py("-m", "grader", "build-stubs", "--check", "--solutions",
                 str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises"))
    assert bad.returncode == 1
    assert "ex3_depth.py" in bad.stderr and "a stray edit" in bad.stderr
    (tmp_path / "exercises" / "ex9_extra.py").write_text("x = 1\n")
    extra = run_py("-m", "grader", "build-stubs", "--check", "--solutions",
                   str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises"))
    assert "ex9_extra.py" in extra.stderr and extra.returncode == 1


GOOD = '''def f(x):
    """doc"""
    y = 1
    # BEGIN SOLUTION deep_net
    return x + y
    # END SOLUTION
'''


@pytest.mark.parametrize("source, line, fragment", [
    ("def f():\n    # BEGIN SOLUTION deep_net\n    return 1\n", 2, "never closed"),
    ("def f():\n    # BEGIN SOLUTION deep_net\n    # BEGIN SOLUTION deep_net\n    return 1\n"
     "    # END SOLUTION\n", 3, "nested"),
    ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a matching BEGIN"),
    ("def f():\n    # BEGIN SOLUTION nope\n    return 1\n    # END SOLUTION\n", 2,
     "unknown task id"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", 2, "needs a task id"),
    ("x = 1\n# BEGIN SOLUTION deep_net\ny = 2\n# END SOLUTION\n", 2, "inside a function"),
    ("def f():\n    pass\n    # BEGIN SOLUTION deep_net\n    # END SOLUTION\n", 3, "empty"),
])
def test_bad_markers_name_file_and_line(source, line, fragment):
    with pytest.raises(MarkerError) as info:
        find_regions(source, "ex9_demo.py")
    assert info.value.line == line
    assert f"ex9_demo.py:{line}:" in str(info.value)
    assert fragment in str(info.value)


def test_stub_keeps_given_code_and_names_task():
    stub = make_stub(GOOD, "ex9_demo.py")
    assert '"""doc"""' in stub and "y = 1" in stub
    assert "return x + y" not in stub and "SOLUTION" not in stub
    assert "# TODO [deep_net]" in stub
    namespace: dict = {}
    exec(compile(stub, "ex9_demo.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"\[deep_net\].*f"):
        namespace["f"](1)


def test_cli_reports_marker_errors(tmp_path):
    (tmp_path / "sol").mkdir()
    (tmp_path / "sol" / "ex1_x.py").write_text("def f():\n    # BEGIN SOLUTION deep_net\n")
    res = run_py("-m", "grader", "build-stubs", "--solutions", str(tmp_path / "sol"),
                 "--exercises", str(tmp_path / "ex"))
    assert res.returncode == 2
    assert "ex1_x.py:2" in res.stderr and "Traceback" not in res.stderr


def _public_members(module) -> dict[str, object]:
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__}


@pytest.mark.parametrize("module", MODULES)
def test_stub_signatures_match_reference(root, module):
    ref = DirImpl(root / "solutions").get(module)
    stub = DirImpl(root / "exercises").get(module)
    ref_members, stub_members = _public_members(ref), _public_members(stub)
    assert ref_members.keys() == stub_members.keys()
    for name, obj in ref_members.items():
        other = stub_members[name]
        if inspect.isclass(obj):
            for attr in ("__init__", "forward"):
                if attr in vars(obj):
                    assert inspect.signature(getattr(obj, attr)) == inspect.signature(
                        getattr(other, attr)), f"{name}.{attr}"
        elif callable(obj):
            assert inspect.signature(obj) == inspect.signature(other), name
        assert inspect.getdoc(obj) == inspect.getdoc(other), f"docstring of {name}"


def test_every_task_has_a_region_and_every_region_a_task(root):
    seen = set()
    for path in sorted((root / "solutions").glob("ex*.py")):
        for region in find_regions(path.read_text(), path):
            seen.add(region.task)
            assert TASK_BY_ID[region.task].module == path.stem, (region, path)
    assert seen == set(TASK_BY_ID)


def test_stubs_parse_and_contain_no_solution_code(root):
    for path in sorted((root / "exercises").glob("ex*.py")):
        tree = ast.parse(path.read_text())
        assert tree is not None
        assert "BEGIN SOLUTION" not in path.read_text()
    # a line that only the reference has must not leak into the stub
    assert "out[torch.arange(y.shape[0], device=y.device), y] = 1.0" not in (
        root / "exercises" / "ex1_onehot_mse.py").read_text()
    assert Path(root / "exercises" / "ex1_onehot_mse.py").exists()


def test_readme_maps_every_module_of_the_grader_package(root):
    """The README's module map stays current: a module added or renamed must be placed there."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme.index("### The `grader` package, module by module")
    section = readme[start:readme.index("\n## ", start)]
    missing = []
    for path in sorted((root / "grader").rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        rel = path.relative_to(root / "grader")
        if f"`{rel}`" not in section and f"`{rel.name}`" not in section:
            missing.append(str(rel))
    assert missing == [], f"README's module map does not mention {missing}"
