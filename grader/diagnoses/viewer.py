"""Detectors of ``test_viewer``: which image, which title.

The verdict compares the shown image with the test image at the index only (and the train
image and the neighbours at that index). A detector may look further: which MNIST image, of
either split, is on the figure at all. Images are looked up by their background (the pixels
at 0, every MNIST image has some, still the minimum after any positive scaling a viewer
applies), then confirmed pixel by pixel as the verdict compares them.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np
import torch

from grader.checks.viewer import figure_images, normalized_image, shows_image
from grader.data import mnist_rows, mnist_split
from grader.diagnoses.base import Evidence

_lock = threading.Lock()
_masks: dict[str, np.ndarray] = {}


def _mask_key(normalized: torch.Tensor) -> np.ndarray:
    """The background of a (28, 28) image scaled to [0, 1], packed into 98 bytes."""
    packed = np.packbits((normalized <= 1e-3).flatten().numpy())
    return packed.view(np.dtype((np.void, packed.shape[0])))


def _split_masks(split: str) -> np.ndarray:
    """Every image's background (its zero pixels: every MNIST image has some), packed, one
    98-byte record per image; built once per process (about 0.1 s for 60,000 images, then
    about 10 ms per lookup)."""
    with _lock:
        if split not in _masks:
            images, _ = mnist_split(split)
            packed = np.packbits((images.reshape(images.shape[0], -1) == 0).numpy(), axis=1)
            _masks[split] = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        return _masks[split]


def find_image(pixels: Any, split: str) -> int | None:
    """The index of the ``split`` image a figure shows (as the verdict compares), else None."""
    if type(pixels) is not torch.Tensor:
        return None
    shown = normalized_image(pixels)
    if shown is None:
        return None
    candidates = np.nonzero(_split_masks(split) == _mask_key(shown))[0][:50].tolist()
    if not candidates:
        return None
    X, _ = mnist_rows(split, candidates)
    for i, image in zip(candidates, X):
        if shows_image(shown, image):
            return int(i)
    return None


#: images of one figure a detector looks up (a figure may hold up to 100: each lookup in the
#: training set costs about 10 ms, and a viewer shows one)
MAX_IMAGES = 4


def _shown(fig: dict[str, Any]) -> list[tuple[dict, dict]]:
    return figure_images(fig)[:MAX_IMAGES]


def _figures(ev: Evidence) -> list[tuple[int, dict[str, Any]]]:
    figs = ev.out.get("figures")
    indices = ev.inp.get("indices")
    if not isinstance(figs, list) or not isinstance(indices, list):
        return []
    return [(int(i), f) for i, f in zip(indices, figs)
            if isinstance(f, dict) and f.get("figure") == "ok"]


def _test_image(index: int) -> torch.Tensor:
    return mnist_rows("test", [index])[0][0]


def _test_axes(index: int, fig: dict[str, Any]) -> dict[str, Any] | None:
    """The axes showing test image ``index``, if the figure has one."""
    image = _test_image(index)
    for ax, im in _shown(fig):
        if type(im.get("pixels")) is torch.Tensor and shows_image(normalized_image(im["pixels"]), image):
            return ax
    return None


def _shows_test_image(index: int, fig: dict[str, Any]) -> bool:
    return _test_axes(index, fig) is not None


def train_set(ev: Evidence) -> dict[str, Any] | None:
    """A figure shows a *training* image (any index) where the test image belongs."""
    for index, fig in _figures(ev):
        if _shows_test_image(index, fig):
            continue
        if any(find_image(im.get("pixels"), "train") is not None for _, im in _shown(fig)):
            return {}
    return None


def wrong_index(ev: Evidence) -> dict[str, Any] | None:
    """A figure shows another *test* image than the one at the index it was asked for."""
    for index, fig in _figures(ev):
        if _shows_test_image(index, fig):
            continue
        found = [find_image(im.get("pixels"), "test") for _, im in _shown(fig)]
        if any(j is not None and j != index for j in found):
            return {}
    return None


#: a stand-alone digit, as the verdict reads titles
_DIGIT = re.compile(r"(?<![\d.])\d(?![\d.])")


def _title(index: int, fig: dict[str, Any]) -> str | None:
    """The text around the test image at ``index`` (title and figure texts), or None when the
    figure does not show it (the image checks say why)."""
    ax = _test_axes(index, fig)
    if ax is None:
        return None
    return f"{ax.get('title', '')} {fig.get('texts', '')}"


def _labels() -> torch.Tensor:
    return mnist_split("test")[1]


def title_index(ev: Evidence) -> dict[str, Any] | None:
    """The title shows the index it was given and not the label of the image."""
    labels = _labels()
    for index, fig in _figures(ev):
        text = _title(index, fig)
        if text is None:
            continue
        label = str(int(labels[index]))
        if set(_DIGIT.findall(text)) == {label}:
            continue
        numbers = re.findall(r"\d+", text)
        if str(index) in numbers and label not in _DIGIT.findall(text):
            return {}
    return None


def no_label(ev: Evidence) -> dict[str, Any] | None:
    """The title holds no digit of the label at all (nor the index: that is
    :func:`title_index`), e.g. only a fixed caption."""
    labels = _labels()
    for index, fig in _figures(ev):
        text = _title(index, fig)
        if text is None:
            continue
        tokens = re.findall(r"\d+", text)
        if _DIGIT.findall(text) or str(int(labels[index])) in tokens or str(index) in tokens:
            continue
        return {}
    return None


__all__ = ["find_image", "no_label", "title_index", "train_set", "wrong_index"]
