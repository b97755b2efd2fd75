"""The replay of section 7's training runs (grader/checks/replay.py), on records made by the
real spy optimizer in this process: a real run passes, every kind of tampering with the record
is caught where it happens, and records that are not what a spy writes are refused."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn as nn

from grader.checks import exploding, lr_sweep, replay, spies
from grader.checks.base import ProbeEnv
from grader.data import FastLoader

BATCH, N = 8, 32


def _problem(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    weights, biases = exploding.large_init(3, 16, 12, math.sqrt(2.0), gen)
    X = torch.randn(N, 12, generator=gen)
    y = torch.randint(0, 10, (N,), generator=gen)
    return weights, biases, X, y


def _train(lr: float, clip: float | None, *, every: int = 1, epochs: int = 2,
           groups: bool = False, tamper=None):
    """The reference loop (clipped or not) with the spy optimizer; returns what a probe
    returns and the start weights."""
    weights, biases, X, y = _problem()
    net = exploding.deep_net(weights, biases)
    log: list = []
    cls = spies.spy_optimizer(None, log, model=net, every=every, keep_grads=True)
    params = [{"params": list(net.parameters())}] if groups else net.parameters()
    opt = cls(params, lr=lr)
    losses = []
    for epoch in range(epochs):
        for k, (xb, yb) in enumerate(FastLoader(X, y, BATCH)):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            if tamper is not None:
                tamper(epoch * (N // BATCH) + k, net, opt)
            opt.step()
            losses.append(loss.item())
    start = [t.float() for pair in zip(weights, biases) for t in pair]
    return log[0], spies.net_params(net), start, replay.batches(X, y, BATCH), losses


def _shapes(start):
    return [tuple(t.shape) for t in start]


@pytest.mark.parametrize("clip", [None, 0.5])
@pytest.mark.parametrize("every", [1, 3])
def test_a_real_run_replays_and_gives_its_own_losses(clip, every):
    entry, final, start, data, losses = _train(0.05, clip, every=every)
    run = replay.read_run(entry, final, _shapes(start), every)
    done = replay.replay(run, data, start, 0.05, clip)
    assert isinstance(done, replay.Replay), done
    assert done.losses == pytest.approx(losses, rel=1e-6)
    assert max(done.states) == run.steps
    assert all(torch.equal(a, b) for a, b in zip(done.states[run.steps], run.final))


def test_parameter_groups_replay_like_plain_parameters():
    entry, final, start, data, _ = _train(0.05, None, groups=True)
    run = replay.read_run(entry, final, _shapes(start))
    assert isinstance(replay.replay(run, data, start, 0.05), replay.Replay)


def test_a_step_at_another_rate_is_caught_at_that_step():
    def halve(step, net, opt):
        if step == 5:
            for group in opt.param_groups:
                group["lr"] = 0.025

    entry, final, start, data, _ = _train(0.05, None, tamper=halve)
    run = replay.read_run(entry, final, _shapes(start))
    brk = replay.replay(run, data, start, 0.05)
    assert isinstance(brk, replay.Break) and (brk.start, brk.end) == (5, 6)
    assert brk.error == pytest.approx(0.5, rel=1e-3)
    # The run really took that step at the rate its group held: with the claimed rates, a
    # real run.
    assert isinstance(replay.replay(run, data, start, None), replay.Replay)


def test_weights_changed_outside_step_are_caught():
    def nudge(step, net, opt):
        if step == 2:
            with torch.no_grad():
                next(net.parameters()).mul_(1.05)

    entry, final, start, data, _ = _train(0.05, None, tamper=nudge)
    brk = replay.replay(replay.read_run(entry, final, _shapes(start)), data, start, 0.05)
    assert isinstance(brk, replay.Break) and brk.start == 1  # the segment that led to step 2


def test_an_unclipped_step_is_caught_in_a_clipped_run():
    entry, final, start, data, _ = _train(0.05, None)
    brk = replay.replay(replay.read_run(entry, final, _shapes(start)), data, start, 0.05, 0.5)
    assert isinstance(brk, replay.Break) and brk.start == 0 and brk.error > 1


def test_edited_records_are_caught():
    entry, final, start, data, _ = _train(0.05, None)
    shapes = _shapes(start)
    forged = copy.deepcopy(entry)
    forged["snaps"][3][1][0] = forged["snaps"][3][1][0] * 1.01  # one copy of the weights
    assert isinstance(replay.replay(replay.read_run(forged, final, shapes), data, start, 0.05),
                      replay.Break)
    wrong_start = [t.clone() for t in start]
    wrong_start[1] += 0.1  # the run did not begin where it had to
    brk = replay.replay(replay.read_run(entry, final, shapes), data, wrong_start, 0.05)
    assert isinstance(brk, replay.Break) and brk.why == "start"
    moved = [t * 1.01 for t in final]  # weights changed after the last step
    assert isinstance(replay.replay(replay.read_run(entry, moved, shapes), data, start, 0.05),
                      replay.Break)


def test_a_diverged_run_passes_only_if_it_stays_diverged():
    entry, final, start, data, losses = _train(math.inf, None)
    shapes = _shapes(start)
    done = replay.replay(replay.read_run(entry, final, shapes), data, start, math.inf)
    assert isinstance(done, replay.Replay)
    assert math.isfinite(done.losses[0]) and all(math.isnan(v) for v in done.losses[1:])
    assert math.isnan(replay.epoch_means(done.losses, N // BATCH)[0])
    # A finite landing after a non-finite copy is a restart, not a step.
    restarted = [t.clone() for t in start]
    assert isinstance(replay.replay(replay.read_run(entry, restarted, shapes), data, start,
                                    math.inf), replay.Break)


@pytest.mark.parametrize("edit", [
    lambda e: e.update(steps="8"),
    lambda e: e.update(steps=-1),
    lambda e: e.update(lrs=e["lrs"][:-1]),
    lambda e: e["lrs"].__setitem__(0, ["0.05"]),
    lambda e: e["with_grad"].__setitem__(0, 1.0),
    lambda e: e["plain"].__setitem__(0, 1),
    lambda e: e["snaps"].__setitem__(0, [0, [None]]),
    lambda e: e["snaps"].__setitem__(1, [0, e["snaps"][1][1]]),  # two copies of step 0
    lambda e: e["snaps"].__setitem__(1, [99, e["snaps"][1][1]]),  # a step never taken
    lambda e: e["snaps"][0][1].__setitem__(0, torch.zeros(3, 3)),
    lambda e: e["snaps"][0][1].__setitem__(0, torch.zeros(16, 12, dtype=torch.int64)),
    lambda e: e.update(groups="all"),
    lambda e: e["snaps"].pop(3),  # a copy left out: one long segment, an epoch's end unknown
])
def test_records_a_spy_cannot_write_are_refused(edit):
    entry, final, start, _, _ = _train(0.05, None)
    forged = copy.deepcopy(entry)
    edit(forged)
    with pytest.raises(replay.Garbled):
        replay.read_run(forged, final, _shapes(start))


def test_group_of_params_and_landing_error():
    assert replay.group_of_params([[[0, 0], [0, 2]], [[0, 1]]], 4) == [0, 1, 0, -1]
    zero = [torch.zeros(2)]
    assert replay.landing_error(zero, zero, zero) == 0.0
    nan = [torch.full((2,), math.nan)]
    assert replay.landing_error(zero, nan, nan) == 0.0
    assert replay.landing_error(zero, nan, zero) == math.inf
    assert replay.landing_error(zero, [torch.ones(2)], [torch.ones(2) * 2]) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", [0, 1, 9765])
def test_the_seeded_init_is_the_models_under_the_global_seed(seed):
    torch.manual_seed(seed)
    want = [p.detach() for p in lr_sweep.sweep_net(lr_sweep.SWEEP_HIDDEN).parameters()]
    got = lr_sweep.seeded_sweep_init(seed, lr_sweep.SWEEP_HIDDEN)
    assert all(torch.equal(a, b) for a, b in zip(got, want))


def test_the_seed_verdict_holds_while_other_threads_draw_random_numbers():
    """autograde judges students in threads: another verdict (or anything) drawing from
    torch's global generator must not change this one (it did: the reference lost
    same_seed_each_run once in a class of 20)."""
    import threading

    from conftest import ROOT

    from grader.checks.base import Context, seed_everything
    from grader.impl import DirImpl
    from grader.scoring import check_inputs

    chk = lr_sweep.SweepSameSeed()
    inp = check_inputs(chk, Context())
    seed_everything(int(inp["_seed"]))
    out = chk.probe(DirImpl(ROOT / "solutions").names(chk.module, chk.needs), inp, ProbeEnv())
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            torch.manual_seed(1)
            torch.rand(1000)

    noise = threading.Thread(target=draw)
    noise.start()
    try:
        for _ in range(200):
            chk.verdict(inp, out, Context())  # raises Fail if the init it computes moved
    finally:
        stop.set()
        noise.join()
