"""Finding and importing an implementation under test: a folder of ``ex*.py`` or a namespace.

An implementation is imported module by module, on first use, so one file that
fails to import costs only the tasks that live in it.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import re
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from grader.settings import KIT_ROOT

EX_MODULE_RE = re.compile(r"^ex\d+_\w+$")


class ImplError(Exception):
    """A module or name of the implementation is unusable; ``kind`` says why."""

    def __init__(self, kind: str, **values: Any) -> None:
        super().__init__(kind, values)
        self.kind = kind  # "missing_file" | "import_error" | "missing_name"
        self.values = values


def _is_exercise_module(name: str) -> bool:
    return bool(EX_MODULE_RE.match(name))


def student_frame(tb: types.TracebackType | None, roots: tuple[str, ...]) -> str:
    """``file:line in function`` of the innermost frame in the student's code, or ``""``."""
    where = ""
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        fname = code.co_filename
        if any(fname.startswith(r) for r in roots) or fname.startswith("<ipython-input") or (
            "ipykernel_" in fname
        ):
            name = getattr(code, "co_qualname", code.co_name)
            where = f"{Path(fname).name}:{lineno}, {name}"
    return where


def describe_exception(exc: BaseException, roots: tuple[str, ...]) -> dict[str, str]:
    """Plain-data summary of an exception raised by student code."""
    text = str(exc)
    if len(text) > 600:
        text = text[:600] + "…"
    return {
        "exc_type": type(exc).__name__,
        "exc_msg": text,
        "where": student_frame(exc.__traceback__, roots),
    }


class Impl:
    """An implementation under test: ``get(module)`` returns the module or raises ImplError."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.roots: tuple[str, ...] = ()

    def get(self, module: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def names(self, module: str, needed: tuple[str, ...]) -> Any:
        mod = self.get(module)
        missing = [n for n in needed if not hasattr(mod, n)]
        if missing:
            raise ImplError("missing_name", module=module, names=", ".join(missing))
        return mod


class DirImpl(Impl):
    """The ``ex*.py`` files of one folder, imported in this process."""

    def __init__(self, directory: str | Path) -> None:
        path = Path(directory).resolve()
        super().__init__(str(path))
        self.directory = path
        self.roots = (str(path) + "/",)
        self._cache: dict[str, Any] = {}
        self._loading: dict[str, Any] = {}  # modules being executed (circular imports)
        self._builtins_dict: dict[str, Any] | None = None

    def get(self, module: str) -> Any:
        if module not in self._cache:
            try:
                self._cache[module] = self._import(module)
            except ImplError as exc:
                self._cache[module] = exc
        value = self._cache[module]
        if isinstance(value, ImplError):
            raise value
        return value

    def _import(self, module: str) -> Any:
        file = self.directory / f"{module}.py"
        if not file.is_file():
            raise ImplError("missing_file", module=module, folder=str(self.directory))
        if module in self._loading:  # a circular import between the student's files
            return self._loading[module]
        # Import under the plain module name, then put back whatever other implementation
        # held the exercise names (several implementations can live in one process).
        saved = {k: v for k, v in sys.modules.items() if _is_exercise_module(k)}
        for key in saved:
            del sys.modules[key]
        saved_path = list(sys.path)
        saved_bytecode = sys.dont_write_bytecode
        sys.path.insert(0, str(self.directory))
        sys.dont_write_bytecode = True
        importlib.invalidate_caches()
        try:
            spec = importlib.util.spec_from_file_location(module, file)
            mod = importlib.util.module_from_spec(spec)
            # The module's own builtins: its ``import ex4_activations`` statements (top level
            # or inside functions, run now or at any later call) resolve to this folder, in
            # every command, whatever sys.path and sys.modules hold by then.
            mod.__builtins__ = self._builtins()
            sys.modules[module] = mod
            self._loading[module] = mod
            spec.loader.exec_module(mod)
            return mod
        except SyntaxError as exc:
            raise ImplError(
                "import_error", module=module, exc_type="SyntaxError",
                exc_msg=str(exc.msg), where=f"{module}.py:{exc.lineno}",
            ) from None
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise ImplError("import_error", module=module,
                            **describe_exception(exc, self.roots)) from None
        finally:
            self._loading.pop(module, None)
            for key in [k for k in sys.modules if _is_exercise_module(k)]:
                del sys.modules[key]
            sys.modules.update(saved)
            sys.path[:] = saved_path
            sys.dont_write_bytecode = saved_bytecode

    def _builtins(self) -> dict[str, Any]:
        """Python's builtins with an ``__import__`` that serves ``ex*`` names from this folder."""
        if self._builtins_dict is None:
            real_import = builtins.__import__

            def student_import(name: str, globals: Any = None, locals: Any = None,
                               fromlist: Any = (), level: int = 0) -> Any:
                if level == 0 and _is_exercise_module(name):
                    try:
                        return self.get(name)
                    except ImplError as exc:
                        raise ImportError(_import_failure(name, exc), name=name) from None
                return real_import(name, globals, locals, fromlist, level)

            self._builtins_dict = {**vars(builtins), "__import__": student_import}
        return self._builtins_dict


def _import_failure(name: str, exc: ImplError) -> str:
    """What a student's ``import <name>`` of a sibling file raises, in plain words."""
    if exc.kind == "missing_file":
        return f"No module named {name!r} (no {name}.py in the submission)"
    detail = exc.values.get("exc_type", "")
    msg = exc.values.get("exc_msg", "")
    return f"{name}.py could not be imported: {detail}: {msg}".strip()


class NamespaceImpl(Impl):
    """Every module name resolves to one namespace (a notebook's globals)."""

    def __init__(self, namespace: dict[str, Any], label: str = "notebook") -> None:
        super().__init__(label)
        self._ns = types.SimpleNamespace(**namespace)

    def get(self, module: str) -> Any:
        return self._ns


class ImplFolderMissing(FileNotFoundError):
    """``--impl`` names no folder: ``value`` as given, ``looked`` the places tried. Worded by
    the caller, in its reader's language (catalogue key ``err_impl_no_folder``)."""

    def __init__(self, value: str, looked: list[str]) -> None:
        self.value, self.looked = value, looked
        super().__init__(f"--impl {value!r}: no such folder (looked in: {', '.join(looked)})")

    def values(self) -> dict[str, str]:
        """The catalogue message's values."""
        return {"impl": repr(self.value), "looked": ", ".join(self.looked)}


def resolve_impl_dir(value: str, base: Path | None = None) -> Path:
    """Turn an ``--impl`` value into a folder: a path, or ``solutions``/``exercises`` of the kit."""
    candidates = [Path(value)]
    if base is not None:
        candidates.append(base / value)
    candidates.append(KIT_ROOT / value)
    for cand in candidates:
        if cand.is_dir():
            return cand.resolve()
    raise ImplFolderMissing(value, list(dict.fromkeys(str(c) for c in candidates)))
