"""Task ``test_viewer``: ``show_test_example(test_ds, index)`` draws that *test* image."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, register
from grader.checks.capture import bad, plain_tensor
from grader.data import mnist_tensors
from grader.probe_side import probe_side

N_INDICES = 3


@probe_side
def capture_figure(fig: Any) -> dict[str, Any]:
    """Everything a verdict needs to know about a figure, as plain data."""
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        return {"figure": bad(fig)}
    axes = []
    for ax in fig.get_axes()[:20]:
        images = []
        for im in ax.get_images()[:5]:
            arr = np.ma.getdata(im.get_array())
            cmap = im.get_cmap()
            images.append({
                "pixels": plain_tensor(torch.from_numpy(np.array(arr, dtype=np.float64))),
                "cmap": plain_tensor(torch.from_numpy(
                    np.asarray(cmap(np.linspace(0.0, 1.0, 5)), dtype=np.float64))),
            })
        axes.append({
            "images": images,
            "title": " ".join(ax.get_title(loc=loc) for loc in ("left", "center", "right")),
            "axis_on": bool(ax.axison),
        })
    suptitle = getattr(fig, "_suptitle", None)
    texts = [suptitle.get_text()] if suptitle is not None else []
    texts += [t.get_text() for t in fig.texts[:10]]
    return {"figure": "ok", "axes": axes, "texts": " ".join(str(t) for t in texts)}


class _ViewerCheck(Check):
    task = "test_viewer"
    needs = ("show_test_example",)
    cost = 0.5

    def inputs(self, ctx: Context) -> dict[str, Any]:
        _, labels = mnist_tensors("test")
        gen = ctx.gen("test_viewer.indices")
        # Indices of 2+ digits, so a title showing the index never looks like a label.
        indices = torch.randint(10, labels.shape[0], (N_INDICES,), generator=gen).tolist()
        return {"indices": indices}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        from torchvision import datasets, transforms

        from grader.data import ensure_mnist

        root = str(ensure_mnist(download=False))
        test_ds = datasets.MNIST(root, train=False, download=False,
                                 transform=transforms.ToTensor())
        return {"figures": [capture_figure(mod.show_test_example(test_ds, int(i)))
                            for i in inp["indices"]]}

    def figures(self, inp: dict[str, Any], out: dict[str, Any]) -> list[tuple[int, dict]]:
        figs = out["figures"]
        if not isinstance(figs, list) or len(figs) != len(inp["indices"]):
            raise Fail("malformed_output", detail="figures")
        pairs = []
        for index, fig in zip(inp["indices"], figs):
            if fig.get("figure") != "ok":
                raise Fail("viewer_not_figure", found=fig.get("figure", {}).get("__type__", "?"))
            pairs.append((index, fig))
        return pairs


def normalized_image(pixels: torch.Tensor) -> torch.Tensor | None:
    """A displayed image as a (28, 28) array scaled to [0, 1], or None if it cannot be one."""
    a = pixels.double()
    if a.dim() == 3 and a.shape[-1] in (3, 4):
        if not torch.allclose(a[..., 0], a[..., 1]) or not torch.allclose(a[..., 0], a[..., 2]):
            return None
        a = a[..., 0]
    a = a.squeeze()
    if tuple(a.shape) != (28, 28):
        return None
    lo, hi = a.min(), a.max()
    if not torch.isfinite(lo) or not torch.isfinite(hi) or hi <= lo:
        return None
    return (a - lo) / (hi - lo)


def figure_images(fig: dict[str, Any]) -> list[tuple[dict, dict]]:
    return [(ax, im) for ax in fig.get("axes", []) for im in ax.get("images", [])]


def shows_image(shown: torch.Tensor | None, reference: torch.Tensor) -> bool:
    target = normalized_image(reference)
    return shown is not None and target is not None and expect.close(shown, target, 0, 2e-3)


def _shown_test_image(index: int, fig: dict[str, Any]) -> tuple[dict, dict]:
    """The (axes, image) showing test image ``index``, or a Fail saying what is shown instead."""
    X_test, _ = mnist_tensors("test")
    images = figure_images(fig)
    if not images:
        raise Fail("viewer_no_image", index=index)
    for ax, im in images:
        shown = normalized_image(expect.tensor(im["pixels"], "imagen/image"))
        if shows_image(shown, X_test[index]):
            return ax, im
    X_train, _ = mnist_tensors("train")
    for _, im in images:
        shown = normalized_image(im["pixels"])
        if shows_image(shown, X_train[index]):
            raise Fail("viewer_train_image", index=index)
        for other in (index - 1, index + 1):
            if 0 <= other < X_test.shape[0] and shows_image(shown, X_test[other]):
                raise Fail("viewer_wrong_index", index=index, other=other)
    raise Fail("viewer_image_mismatch", index=index)


@register
class ViewerShowsTestImage(_ViewerCheck):
    name = "shows_test_image"
    points = 6

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for index, fig in self.figures(inp, out):
            _shown_test_image(index, fig)


@register
class ViewerTitleLabel(_ViewerCheck):
    name = "title_shows_label"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        _, labels = mnist_tensors("test")
        for index, fig in self.figures(inp, out):
            label = int(labels[index])
            ax, _ = _shown_test_image(index, fig)
            text = f"{ax.get('title', '')} {fig.get('texts', '')}"
            digits = set(re.findall(r"(?<![\d.])\d(?![\d.])", text))
            if digits != {str(label)}:
                raise Fail("viewer_title", index=index, title=text.strip() or "(vacío/empty)")


@register
class ViewerGrayAxesOff(_ViewerCheck):
    name = "gray_axes_off"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for index, fig in self.figures(inp, out):
            ax, im = _shown_test_image(index, fig)
            if ax.get("axis_on"):
                raise Fail("viewer_axes_on", index=index)
            pixels = expect.tensor(im["pixels"], "imagen/image")
            if pixels.dim() == 3 and pixels.shape[-1] in (3, 4):
                continue  # an RGB image already checked to be gray by normalized_image
            cmap = expect.tensor(im["cmap"], "cmap")
            rgb = cmap[:, :3]
            achromatic = bool((rgb.max(dim=1).values - rgb.min(dim=1).values).max() < 0.02)
            steps = rgb[1:, 0] - rgb[:-1, 0]
            monotonic = bool((steps > 0).all() or (steps < 0).all())  # gray or gray_r
            if not (achromatic and monotonic):
                raise Fail("viewer_not_gray", index=index)
