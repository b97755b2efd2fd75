"""Task ``init_schemes``: ``DeepMLP_i`` initialized as Xavier, He or orthogonal asks."""

from __future__ import annotations

from typing import Any

import torch

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, Stat, register
from grader.checks.capture import capture_mlp
from grader.checks.nets import mlp_shapes
from grader.checks.weight_stats import check_layer, layer_statistics

CONFIGS = ({"depth": 15, "width": 128, "in_dim": 100, "out_dim": 10},
           {"depth": 3, "width": 48, "in_dim": 20, "out_dim": 5})


def describe_i(init: str, cfg: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in cfg.items())
    return f"DeepMLP_i({init!r}, {args})"


class _InitCheck(Check):
    task = "init_schemes"
    needs = ("DeepMLP_i",)
    points = 4
    cost = 0.3
    scheme: str = ""

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen(f"init.{self.scheme}.x")
        return {"x": [torch.randn(64, c["in_dim"], generator=gen) for c in CONFIGS]}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        reports = []
        for cfg, x in zip(CONFIGS, inp["x"]):
            net = mod.DeepMLP_i(init_type=self.scheme, **cfg)
            reports.append(capture_mlp(net, x))
        return {"reports": reports}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for cfg, report in zip(CONFIGS, out["reports"]):
            what = describe_i(self.scheme, cfg)
            pairs = expect.linears(report, what)
            want = mlp_shapes(cfg["in_dim"], cfg["out_dim"], cfg["width"], cfg["depth"])
            got = expect.layer_shapes(pairs)
            if got != want:
                raise Fail("call_order", what=what, found=got)
            for i, (w, b) in enumerate(pairs):
                check_layer(w, b, self.scheme, what, i)

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        layers = [(w, self.scheme) for cfg, report in zip(CONFIGS, out["reports"])
                  for w, _ in expect.linears(report, describe_i(self.scheme, cfg))]
        return layer_statistics(layers)


for _scheme in ("xavier", "he", "orthogonal"):
    register(type(f"Init_{_scheme}", (_InitCheck,), {"scheme": _scheme, "name": f"{_scheme}_init"}))


@register
class InitForwardStds(_InitCheck):
    name = "forward_returns_stds"
    points = 3
    scheme = "he"

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        return []  # it judges the forward pass and its stds (exact to 1e-3), not weights

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for cfg, x, report in zip(CONFIGS, inp["x"], out["reports"]):
            what = describe_i(self.scheme, cfg)
            if not report.get("out_is_tuple") or len(report.get("out", [])) != 2:
                raise Fail("forward_not_pair", what=what)
            out_t, stds = report["out"]
            out_t = expect.tensor(out_t, f"{what}: out")
            expect.shape(out_t, (x.shape[0], cfg["out_dim"]), f"{what}: out")
            stds = expect.float_list(stds, cfg["depth"], f"{what}: stds")
            pairs = expect.linears(report, what)
            hidden: list[torch.Tensor] = []
            ref = expect.mlp_forward(pairs, x, "relu", "none", collect=hidden)
            if not expect.close(out_t, ref):
                found = expect.identify_forward(pairs, x, out_t)
                if found and found[0] != "relu":
                    raise Fail("wrong_hidden_activation", what=what, expected="relu",
                               found=found[0])
                raise Fail("forward_mismatch", what=what, hidden="relu")
            want = [float(h.std()) for h in hidden]
            if all(expect.rel_close(g, w, 1e-3) for g, w in zip(stds, want)):
                continue
            pre = [float((h_prev @ w.double().T + (0 if b is None else b.double())).std())
                   for h_prev, (w, b) in zip([x.double(), *hidden[:-1]], pairs[:-1])]
            if all(expect.rel_close(g, p, 1e-3) for g, p in zip(stds, pre)):
                raise Fail("stds_before_relu", what=what)
            raise Fail("stds_mismatch", what=what)



