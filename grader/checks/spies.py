"""Probe side of section 7's training runs: the spies handed to student code, and the copies
of what they trained.

The probes of ``lr_sweep`` and ``exploding`` (:mod:`grader.checks.lr_sweep`,
:mod:`grader.checks.exploding`) hand the student's functions the grader's model factory
(:class:`ModelSpy`, each model behind a :class:`ForwardLog`) and optimizer class
(:func:`spy_optimizer`), which record what the student builds (how many models, which rate,
which parameters each optimizer holds) and copy the weights as each ``step()`` finds them.
Nothing they record is believed as such: the verdicts take every recorded step again
themselves (:mod:`grader.checks.replay`, which the sandbox child never holds) and pay only
for runs whose weights moved as SGD at the asked rate moves them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn

from grader.checks.capture import number, plain_tensor
from grader.probe_side import probe_side

#: at most this many models / optimizers / runs are reported (a sweep of 3 to 5 rates)
MAX_RUNS = 16
#: per optimizer: steps whose rates and gradient counts are logged, weight snapshots kept
MAX_STEPS_LOGGED = 2000
MAX_SNAPSHOTS = 80
#: forward calls a model logs (a sweep of 3 rates over 63 batches makes about 200)
MAX_CALLS = 600
#: parameter groups and tensors per group that an optimizer's record lists
MAX_GROUPS, MAX_GROUP_PARAMS = 8, 64


@probe_side
class ForwardLog(nn.Module):
    """An identity layer in front of the grader's sweep model that logs, per forward call,
    ``[training, autograd on, sum of the batch, rows]``: the verdict tells validation batches
    by their sum (as :class:`grader.checks.loops.FrozenNet` does) and sees the mode each ran in.
    The sweep model has no dropout, so forgetting ``eval()`` changes no number: only this
    log can tell."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[Any]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.calls) < MAX_CALLS:
            self.calls.append([bool(self.training), torch.is_grad_enabled(),
                               float(torch.Tensor.detach(x).double().sum().cpu()),
                               int(x.shape[0])])
        return x


@probe_side
class ModelSpy:
    """``make_model`` for ``lr_sweep``: builds the grader's model (``build()``, the sweep's
    :func:`grader.checks.lr_sweep.sweep_net`) behind a :class:`ForwardLog` and remembers
    every model."""

    def __init__(self, build: Callable[[], nn.Module], keep_initial: bool = True) -> None:
        self.build = build
        self.keep_initial = keep_initial
        self.built: list[nn.Module] = []
        self.logs: list[ForwardLog] = []
        self.initial: list[list[torch.Tensor]] = []

    def __call__(self) -> nn.Module:
        log = ForwardLog()
        net = nn.Sequential(log, *self.build())
        if len(self.built) < MAX_RUNS:
            self.built.append(net)
            self.logs.append(log)
            if self.keep_initial:
                self.initial.append([plain_tensor(p.detach()) for p in net.parameters()])
        return net

    def owner(self, param: Any) -> list[int]:
        """``[model index, parameter index]`` of a parameter, ``[-1, -1]`` if none built it."""
        return owner_among(self.built, param)


@probe_side
def owner_among(models: list[nn.Module], param: Any) -> list[int]:
    """``[model index, parameter index]`` of ``param`` among ``models``, ``[-1, -1]`` if it is
    none of their parameters (compared by identity)."""
    for i, net in enumerate(models):
        for j, p in enumerate(net.parameters()):
            if p is param:
                return [i, j]
    return [-1, -1]


@probe_side
def _plain_sgd(group: dict[str, Any]) -> bool:
    """The group steps as plain SGD: no momentum, dampening, weight decay, nesterov or
    maximize (only ``lr`` is asked for)."""
    return bool(group.get("momentum", 0) == 0 and group.get("dampening", 0) == 0
                and group.get("weight_decay", 0) == 0 and not group.get("nesterov", False)
                and not group.get("maximize", False))


@probe_side
def spy_optimizer(models: ModelSpy | None, log: list[dict[str, Any]], *,
                  model: nn.Module | None = None, every: int = 1,
                  keep_grads: bool = False) -> type:
    """A subclass of ``torch.optim.SGD`` that records each instance for the verdicts.

    At construction: the rate it was given and, per parameter group (however the student
    built them: a generator, a list, a list of dicts), which model parameter each tensor is.
    At every ``step()``: the rate each group holds *then*, whether the groups are still plain
    SGD, how many of the model's parameters have a gradient, and every ``every``-th step a
    copy of the model's parameters before the step (``keep_grads``: the gradients too). The
    verdicts take the steps again from those copies (:mod:`grader.checks.replay`): what is
    judged is what the weights did, not what this record says.

    ``models``: the sweep's model factory (which model each tensor belongs to); ``model``: the
    one model being trained (``train_clipped``)."""

    class SpySGD(torch.optim.SGD):
        def __init__(self, params: Any, lr: Any = 1e-3, *args: Any, **kwargs: Any) -> None:
            super().__init__(params, lr, *args, **kwargs)
            candidates = (models.built if models is not None
                          else [model] if model is not None else [])
            held = [p for g in self.param_groups for p in g["params"]]
            groups = [[owner_among(candidates, p) for p in g["params"][:MAX_GROUP_PARAMS]]
                      for g in self.param_groups[:MAX_GROUPS]]
            entry: dict[str, Any] = {
                "lr": number(lr),
                "built_before": len(models.built) if models is not None else 0,
                "groups": groups,
                "owners": [o for g in groups for o in g],
                "n_params": len(held),
                "steps": 0, "logged": 0, "lrs": [], "plain": [], "with_grad": [],
                "snaps": [], "grads": [],
            }
            if len(log) < MAX_RUNS:
                log.append(entry)
            self._spy = entry
            # Whose weights to copy: the model the first tensor belongs to (or the one given).
            target = model
            if target is None and models is not None and groups and groups[0]:
                index = groups[0][0][0]
                target = models.built[index] if index >= 0 else None
            self._spy_params = list(target.parameters()) if target is not None else held

        @torch.no_grad()
        def step(self, closure: Any = None) -> Any:  # noqa: D102
            entry = self._spy
            k = entry["steps"]
            entry["steps"] = k + 1
            if k < MAX_STEPS_LOGGED:
                tracked = self._spy_params
                entry["lrs"].append([number(g.get("lr"))
                                     for g in self.param_groups[:MAX_GROUPS]])
                entry["plain"].append(all(_plain_sgd(g) for g in self.param_groups))
                entry["with_grad"].append(sum(1 for p in tracked
                                              if getattr(p, "grad", None) is not None))
                if k % every == 0 and len(entry["snaps"]) < MAX_SNAPSHOTS:
                    # float32 whatever the student made of the model: the frame stays bounded
                    entry["snaps"].append([k, [plain_tensor(p.detach().float())
                                               for p in tracked]])
                if keep_grads and len(entry["grads"]) < MAX_SNAPSHOTS:
                    entry["grads"].append([k, [None if getattr(p, "grad", None) is None
                                               else plain_tensor(p.grad.float())
                                               for p in tracked]])
                entry["logged"] = k + 1
            return super().step(closure)

    return SpySGD


@probe_side
def net_params(net: nn.Module) -> list[Any]:
    return [plain_tensor(p.detach()) for p in list(net.parameters())[:128]]
