"""Task ``onehot_mse``, first half: ``one_hot(y, num_classes)``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, register
from grader.checks.capture import plain_tensor

#: (batch size, num_classes); ``None`` means "call with the default num_classes".
CASES = ((1, 10), (5, None), (64, 10), (7, 3), (12, 25), (10, 10))


class _OneHotCheck(Check):
    task = "onehot_mse"
    needs = ("one_hot",)
    cost = 0.05

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("one_hot.labels")
        labels = []
        for batch, classes in CASES:
            c = classes or 10
            y = torch.randint(0, c, (batch,), generator=gen)
            if batch >= c:
                y[:c] = torch.randperm(c, generator=gen)  # every class, first and last included
            labels.append(y)
        return {"labels": labels, "classes": [c or 0 for _, c in CASES]}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        results = []
        for y, c in zip(inp["labels"], inp["classes"]):
            given = y.to(env.device)
            keep = given.clone()
            value = mod.one_hot(given) if c == 0 else mod.one_hot(given, c)
            results.append({
                "value": plain_tensor(value),
                "device": str(value.device) if type(value) is torch.Tensor else "",
                "input_changed": not torch.equal(given, keep),
            })
        return {"results": results}

    def cases(self, inp: dict[str, Any], out: dict[str, Any]):
        for y, c, res in zip(inp["labels"], inp["classes"], out["results"]):
            c = c or 10
            what = f"one_hot(y, num_classes={c}), B={y.shape[0]}"
            yield y, c, res, what


@register
class OneHotShapeDtype(_OneHotCheck):
    name = "one_hot_shape_dtype"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for y, c, res, what in self.cases(inp, out):
            value = expect.tensor(res["value"], what)
            expect.shape(value, (y.shape[0], c), what)
            expect.dtype(value, torch.float32, what)
            if res["device"] and not res["device"].startswith(ctx.device):
                raise Fail("wrong_device", what=what, expected=ctx.device, found=res["device"])


@register
class OneHotValues(_OneHotCheck):
    name = "one_hot_values"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for y, c, res, what in self.cases(inp, out):
            value = expect.tensor(res["value"], what)
            if res["input_changed"]:
                raise Fail("onehot_modifies_input")
            expect.shape(value, (y.shape[0], c), what)
            want = F.one_hot(y, c).float()
            if torch.equal(value.float(), want):
                continue
            if torch.equal(value.float(), F.one_hot((y - 1) % c, c).float()):
                raise Fail("onehot_shifted")
            rows = value.float().sum(dim=1)
            if not torch.equal(rows, torch.ones_like(rows)):
                raise Fail("onehot_row_sums", what=what)
            raise Fail("onehot_wrong_position", what=what)
