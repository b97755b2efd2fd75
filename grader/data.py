"""Where MNIST lives, how it is split, and the kit's fast in-memory loader.

This module is the one source of truth for data in the kit: the given code of
``ex0_data`` (what students read), the task checks, the experiments and the
notebook all go through it, so "validation set" means the same 6,000 images
everywhere.
"""

from __future__ import annotations

import functools
import math
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import torch

from grader import settings

__all__ = [
    "MNISTCorruptError",
    "MNISTNotFoundError",
    "MNIST_TRAIN_IMAGES",
    "RAW_FILES",
    "data_root",
    "ensure_mnist",
    "mnist_rows",
    "mnist_tensors",
    "split_indices",
    "FastLoader",
    "fast_mnist_loaders",
]

#: The four files torchvision reads, in ``<root>/MNIST/raw/``.
RAW_FILES = settings.MNIST_RAW_FILES


class MNISTNotFoundError(FileNotFoundError):
    """MNIST is not on disk and could not be downloaded.

    Its text is one message in the reader's language (``$PRACTICO_LANG``, or ``lang`` of
    :meth:`message`): where the kit looked, what is missing, why the download failed, and the
    fix as a command to paste (point ``PRACTICO_DATA`` at a copy, or download it there).
    """

    def __init__(self, root: Path, missing: list[str], reason: str | None) -> None:
        self.root = root
        self.missing = missing
        self.reason = reason
        super().__init__(self.message())

    def __reduce__(self) -> tuple:  # pickled whole (a worker process may raise it)
        return type(self), (self.root, self.missing, self.reason)

    def message(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default ``$PRACTICO_LANG``, else Spanish)."""
        why = _say("data_mnist_download_failed", lang, reason=self.reason) if self.reason else ""
        # The download command names the folder through the environment, quoted for the
        # shell, so any path (spaces, quotes) pastes as it is.
        download = (f"PRACTICO_DATA={shlex.quote(str(self.root))} "
                    'python -c "import grader.data as d; d.ensure_mnist()"')
        return _say("data_mnist_missing", lang, raw=str(self.root / "MNIST" / "raw"),
                    missing=", ".join(self.missing), why=why, root=str(self.root),
                    download=download)

    def __str__(self) -> str:
        return self.message()

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback (the notebook's ``check_task`` and
        ``load_mnist`` cells): only the message, since the fix is not in the code above it."""
        return self.message().splitlines()


def _say(key: str, lang: str | None, **values: object) -> str:
    """Message ``key`` of the catalogue. The sandboxed child has a copy of this module but not
    the catalogue (it never needs the message: the grader checks MNIST before it starts one),
    so there the key and values stand in."""
    try:
        from grader.i18n import t
    except ImportError:
        return f"{key}: {values}"
    return t(key, lang, **values)


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$PRACTICO_DATA``, else ``./data``."""
    if root is not None:
        return Path(root).expanduser()
    return settings.data_folder()


def _missing_files(root: Path) -> list[str]:
    return settings.mnist_missing(root)


def ensure_mnist(root: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """Make sure the raw MNIST files are under ``<root>/MNIST/raw`` and return ``root``.

    Downloads through torchvision when files are missing and ``download`` is true;
    raises :class:`MNISTNotFoundError` (never a bare traceback) when that is not possible,
    and :class:`MNISTCorruptError` when a file is there but is not what its name says.
    A download that fails leaves the disk as it found it: no empty ``MNIST/raw`` folders,
    no half-downloaded archives.
    """
    path = data_root(root)
    missing = _missing_files(path)
    if not missing:
        _check_idx_files(path)
        return path
    reason = _download(path) if download else None
    missing = _missing_files(path)
    if not missing:
        _check_idx_files(path)
        return path
    raise MNISTNotFoundError(path.resolve(), missing, reason)


def _download(root: Path) -> str | None:
    """Download MNIST into ``root/MNIST/raw`` with torchvision; the error, as one line, when
    that fails (``None`` when it worked). What a failed try made is removed again."""
    raw = root / "MNIST" / "raw"
    # The folders torchvision will create (raw/ and every missing one above it, innermost
    # first) and what raw/ held before.
    made = []
    folder = raw.absolute()
    while not folder.exists() and folder != folder.parent:
        made.append(folder)
        folder = folder.parent
    before = set(raw.iterdir()) if raw.is_dir() else set()
    reason = None
    try:
        from torchvision import datasets

        datasets.MNIST(str(root), train=True, download=True)
        datasets.MNIST(str(root), train=False, download=True)
    except Exception as exc:  # network, permissions, disk: all end in the same advice
        # torchvision lists every mirror it tried on lines of their own: one line here.
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        reason = reason if len(reason) <= 300 else reason[:299] + "…"
    if _missing_files(root):
        _undo(raw, before, made)
    return reason


def _undo(raw: Path, before: set[Path], made: list[Path]) -> None:
    """Remove what a failed download added to ``raw`` (files not in ``before``) and the
    folders it created (``made``, innermost first), each only if it is empty by then."""
    if raw.is_dir():
        for entry in raw.iterdir():
            if entry not in before and (entry.is_file() or entry.is_symlink()):
                entry.unlink(missing_ok=True)
    for folder in made:
        try:
            folder.rmdir()
        except OSError:  # not empty (someone else put a file there) or already gone
            pass


#: magic number and dimensions of each idx file (big-endian header, then uint8 data)
_IDX_SHAPES = {
    "train-images-idx3-ubyte": (2051, (60_000, 28, 28)),
    "train-labels-idx1-ubyte": (2049, (60_000,)),
    "t10k-images-idx3-ubyte": (2051, (10_000, 28, 28)),
    "t10k-labels-idx1-ubyte": (2049, (10_000,)),
}


#: images in the training file (the 54,000 / 6,000 split is made of these)
MNIST_TRAIN_IMAGES = _IDX_SHAPES["train-images-idx3-ubyte"][1][0]


class MNISTCorruptError(ValueError):
    """A raw MNIST file is there but is not what its name says (truncated, another file).

    Its text is one message in the reader's language, like :class:`MNISTNotFoundError`'s.
    """

    def __init__(self, path: Path, found: tuple[int, ...], size: int,
                 expected: tuple[int, ...], expected_size: int) -> None:
        self.path, self.found, self.size = path, found, size
        self.expected, self.expected_size = expected, expected_size
        super().__init__(self.message())

    def __reduce__(self) -> tuple:
        return type(self), (self.path, self.found, self.size, self.expected, self.expected_size)

    def message(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default ``$PRACTICO_LANG``, else Spanish)."""
        return _say("data_mnist_corrupt", lang, path=str(self.path), found=str(self.found),
                    size=self.size, expected=str(self.expected),
                    expected_size=self.expected_size, remove=f"rm {shlex.quote(str(self.path))}")

    def __str__(self) -> str:
        return self.message()

    def _render_traceback_(self) -> list[str]:
        return self.message().splitlines()


def _idx_header(path: Path, head: bytes, size: int) -> int:
    """The header length of raw MNIST file ``path`` (its first bytes ``head``, ``size`` bytes
    in all); :class:`MNISTCorruptError` when it is not the file its name says."""
    magic, shape = _IDX_SHAPES[path.name]
    header = 4 * (1 + len(shape))
    found = tuple(int.from_bytes(head[i : i + 4], "big") for i in range(0, header, 4))
    expected = header + math.prod(shape)
    if found != (magic, *shape) or size != expected:
        raise MNISTCorruptError(path, found, size, (magic, *shape), expected)
    return header


def _check_idx_files(root: Path) -> None:
    """Every raw file's header and size, without reading the images (a few bytes each)."""
    raw = root / "MNIST" / "raw"
    for name in RAW_FILES:
        path = raw / name
        with open(path, "rb") as fh:
            head = fh.read(16)
        _idx_header(path, head, path.stat().st_size)


def _read_idx(path: Path) -> torch.Tensor:
    """One raw MNIST file as a uint8 tensor, its header checked against the known shape.

    Read here rather than through torchvision's dataset class: importing torchvision costs
    ~1.6 s (it loads torch._dynamo), about ten times the decoding itself, and the grader
    loads MNIST in every grading process (README, "Grading speed").
    """
    raw = path.read_bytes()
    header = _idx_header(path, raw[:16], len(raw))
    _, shape = _IDX_SHAPES[path.name]
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=4)
def _mnist_uint8(root: str, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` int64, as torchvision's MNIST has them."""
    raw = Path(root) / "MNIST" / "raw"
    prefix = "train" if train else "t10k"
    images = _read_idx(raw / f"{prefix}-images-idx3-ubyte")
    labels = _read_idx(raw / f"{prefix}-labels-idx1-ubyte").long()
    return images, labels


def mnist_tensors(
    split: str, root: str | os.PathLike[str] | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole MNIST split as tensors, exactly what ``ToTensor`` would give image by image.

    Inputs:
    - split: ``"train"`` (the 60,000 training images) or ``"test"`` (10,000).
    - download: fetch MNIST into the data folder when it is missing (see :func:`ensure_mnist`).
    Returns:
    - X: float32 ``(N, 1, 28, 28)`` in [0, 1] (pixel / 255)
    - y: int64 ``(N,)`` digit labels 0..9
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images, labels = mnist_split(split, root, download)
    return _as_inputs(images), labels


def mnist_rows(split: str, index: torch.Tensor | list[int],
               root: str | os.PathLike[str] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``index`` of a split: ``X[index], y[index]`` of :func:`mnist_tensors`, the same
    values, with only those rows made float (a check on 6,000 images does not convert 60,000).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images, labels = mnist_split(split, root)
    idx = torch.as_tensor(index, dtype=torch.long)
    return _as_inputs(images[idx]), labels[idx]


def mnist_split(split: str, root: str | os.PathLike[str] | None = None, download: bool = True
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """A split as stored: uint8 ``(N, 28, 28)`` images (shared: never modify) and labels."""
    path = ensure_mnist(root, download=download)
    return _mnist_uint8(str(path.resolve()), split == "train")


def _as_inputs(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 28, 28)`` -> float32 ``(N, 1, 28, 28)`` in [0, 1], as ``ToTensor`` gives."""
    return images.unsqueeze(1).float().div_(255.0)


def split_indices(n: int, train_fraction: float = 0.9, seed: int = 0) -> tuple[list[int], list[int]]:
    """Deterministic disjoint split of ``range(n)``, identical to ``random_split`` with that seed.

    Returns ``(train_indices, val_indices)`` with ``int(n * train_fraction)`` train indices.
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    n_train = int(n * train_fraction)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return perm[:n_train], perm[n_train:]


class _TensorView(torch.utils.data.Dataset):
    """``loader.dataset`` for a FastLoader, so loops that use ``len(loader.dataset)`` work."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X[i], self.y[i]


class FastLoader:
    """A DataLoader stand-in over tensors already in memory (or on the GPU).

    Yields ``(X_batch, y_batch)`` like ``DataLoader(TensorDataset(X, y))`` but indexes
    the whole split at once instead of collating 64 small tensors per batch, which
    is what makes an MNIST epoch take well under a second of data handling.

    Inputs:
    - X: ``(N, ...)`` tensor; y: ``(N,)`` tensor on the same device.
    - batch_size: samples per batch; the last batch may be smaller unless ``drop_last``.
    - shuffle: draw a new permutation every epoch from ``generator`` (seeded, so the
      order of batches is the same on every run).
    """

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        batch_size: int = 64,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.dataset = _TensorView(X, y)

    def __len__(self) -> int:
        n = self.X.shape[0]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = self.X.shape[0]
        if self.shuffle:
            # The permutation is drawn on the CPU generator and moved, so the batch
            # order is identical on CPU and GPU.
            order = torch.randperm(n, generator=self.generator).to(self.X.device)
        else:
            order = None
        stop = len(self) * self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            if order is None:
                yield self.X[start : start + self.batch_size], self.y[start : start + self.batch_size]
            else:
                idx = order[start : start + self.batch_size]
                yield self.X[idx], self.y[idx]


def fast_mnist_loaders(
    batch_size: int = 64,
    seed: int = 0,
    device: str | torch.device = "cpu",
    train_limit: int | None = None,
    root: str | os.PathLike[str] | None = None,
) -> tuple[FastLoader, FastLoader, FastLoader]:
    """Train / validation / test FastLoaders over MNIST with the practical's 90/10 split.

    Inputs:
    - batch_size: 64 in the practical.
    - seed: seeds the shuffling of the training loader (the split itself always uses seed 0,
      as ``split_train_val`` does, so validation is the same 6,000 images everywhere).
    - train_limit: keep only the first ``train_limit`` training images of the split
      (for short, seeded runs in checks); ``None`` keeps all 54,000.
    Returns:
    - (train_loader, val_loader, test_loader), each yielding ``(X (B,1,28,28), y (B,))``.
    """
    train_idx, val_idx = split_indices(MNIST_TRAIN_IMAGES, 0.9, seed=0)
    if train_limit is not None:
        train_idx = train_idx[:train_limit]
    X_tr, y_tr = mnist_rows("train", train_idx, root)
    X_va, y_va = mnist_rows("train", val_idx, root)
    X_test, y_test = mnist_tensors("test", root)
    dev = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    return (
        FastLoader(X_tr.to(dev), y_tr.to(dev), batch_size, shuffle=True, generator=gen),
        FastLoader(X_va.to(dev), y_va.to(dev), batch_size),
        FastLoader(X_test.to(dev), y_test.to(dev), batch_size),
    )


def mnist_subset(seed_idx: torch.Tensor, batch: int, device: str) -> FastLoader:
    """An unshuffled FastLoader over rows ``seed_idx`` of the training split, on ``device``
    (section 7's MNIST checks: the batches are the ones the grader replays, in order)."""
    X, y = mnist_rows("train", seed_idx)
    return FastLoader(X.to(device), y.to(device), batch)
