"""Task ``he_init``, its weights: He (Kaiming) uniform initialization of ``DeepMLPI``."""

from __future__ import annotations

from typing import Any

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, Stat, register
from grader.checks.capture import capture_mlp
from grader.checks.nets import mlp_shapes
from grader.checks.weight_stats import check_layer, layer_statistics

HE_CONFIGS = ({"in_dim": 784, "out_dim": 10, "width": 64, "depth": 4},
              {"in_dim": 30, "out_dim": 5, "width": 16, "depth": 2})


@register
class HeWeights(Check):
    task = "he_init"
    name = "kaiming_uniform_weights"
    points = 4
    needs = ("DeepMLPI",)
    cost = 0.1

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        return {"reports": [capture_mlp(mod.DeepMLPI(**cfg)) for cfg in HE_CONFIGS]}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for cfg, report in zip(HE_CONFIGS, out["reports"]):
            what = "DeepMLPI({in_dim}, {out_dim}, {width}, {depth})".format(**cfg)
            pairs = expect.linears(report, what)
            want = mlp_shapes(cfg["in_dim"], cfg["out_dim"], cfg["width"], cfg["depth"])
            if sorted(expect.layer_shapes(pairs)) != sorted(want):
                raise Fail("layer_shapes", what=what, found=expect.layer_shapes(pairs))
            for i, (w, b) in enumerate(pairs):
                check_layer(w, b, "he", what, i)

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        return layer_statistics([(w, "he") for report in out["reports"]
                                 for w, _ in expect.linears(report, "DeepMLPI")])
