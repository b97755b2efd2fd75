"""A grading child's events as decisions (``grader/sandbox/session.py``), without a child.

Each test feeds :class:`ChildSession` a list of events (what a child, honest or hostile,
can send) and a clock, and checks what it decides: wait, note the isolation, judge this
result, stop; and, once the child is gone, which check is blamed and why. The real children
are in ``tests/test_sandbox.py``, ``test_hardening.py``, ``test_zygote.py`` and
``test_isolation.py``.
"""

from __future__ import annotations

import pytest

from grader.sandbox.session import (
    HELLO,
    NOTED,
    RESULT,
    START,
    STOP,
    ChildSession,
    describe_event,
    exit_reason,
)

STARTUP = 90.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def session(budgets=(5.0, 5.0), prelude=0.0, extra=()) -> tuple[ChildSession, Clock, list]:
    """A session over ``budgets``; ``extra``: what the CPU meter grants at each deadline
    (then nothing); the budgets it was asked about are recorded."""
    clock = Clock()
    grants = list(extra)
    asked: list[float] = []

    def extra_time(budget: float) -> float:
        asked.append(budget)
        return grants.pop(0) if grants else 0.0

    return ChildSession(list(budgets), STARTUP, prelude, clock, extra_time), clock, asked


def feed(s: ChildSession, *events) -> list[str]:
    return [s.feed(e).kind for e in events]


HELLO_EV = {"ev": "hello", "isolation": {"namespaces": True}}


def start(i):
    return {"ev": "start", "i": i}


def result(i, outcome=None):
    return {"ev": "result", "i": i, "outcome": {"status": "ok", "out": {"x": i}}
            if outcome is None else outcome}


def test_an_honest_child_is_judged_check_by_check_and_blamed_for_nothing():
    s, _, _ = session()
    decisions = [s.feed(e) for e in (HELLO_EV, start(0), result(0), start(1), result(1),
                                      {"ev": "done"})]
    assert [d.kind for d in decisions] == [HELLO, START, RESULT, START, RESULT, STOP]
    assert decisions[0].isolation == {"namespaces": True}
    assert [(d.position, d.outcome) for d in decisions if d.kind == RESULT] == [
        (0, {"status": "ok", "out": {"x": 0}}), (1, {"status": "ok", "out": {"x": 1}})]
    assert s.stopped and s.reason is None
    assert s.end(0, {}) == s.end(0, {})  # deterministic
    ending = s.end(0, {})
    assert ending.blamed is None and ending.reason is None and not ending.zygote_lost


@pytest.mark.parametrize("events, blamed, reason", [
    # a start out of order: check 1 before check 0
    ([HELLO_EV, start(1)], 0, {"key": "reason_event_malformed", "ev": "start"}),
    # a start before hello
    ([start(0)], 0, {"key": "reason_event_malformed", "ev": "start"}),
    # a result without its start
    ([HELLO_EV, result(0)], 0, {"key": "reason_event_malformed", "ev": "result"}),
    # a result for another check than the one running
    ([HELLO_EV, start(0), result(1)], 0, {"key": "reason_event_malformed", "ev": "result"}),
    # a second result for the same check: the next one is blamed, not the judged one
    ([HELLO_EV, start(0), result(0), result(0)], 1,
     {"key": "reason_event_malformed", "ev": "result"}),
    # done while a check has no result
    ([HELLO_EV, start(0), result(0), {"ev": "done"}], 1,
     {"key": "reason_event_malformed", "ev": "done"}),
    # hello twice
    ([HELLO_EV, HELLO_EV], 0, {"key": "reason_event_malformed", "ev": "hello"}),
    # an index that is a bool, a float, past the end
    ([HELLO_EV, {"ev": "start", "i": False}], 0, {"key": "reason_event_malformed", "ev": "start"}),
    ([HELLO_EV, {"ev": "start", "i": 0.0}], 0, {"key": "reason_event_malformed", "ev": "start"}),
    ([HELLO_EV, start(0), result(0), start(1), result(1), start(2)], None, None),
    # not events at all
    ([HELLO_EV, {"ev": "teleport"}], 0, {"key": "reason_event_unknown"}),
    ([HELLO_EV, {"i": 0}], 0, {"key": "reason_event_unnamed"}),
    ([HELLO_EV, ["start", 0]], 0, {"key": "reason_event_not_dict", "type": "list"}),
    ([HELLO_EV, None], 0, {"key": "reason_event_not_dict", "type": "NoneType"}),
])
def test_an_event_out_of_place_stops_the_child_and_blames_the_running_check(
        events, blamed, reason):
    s, _, _ = session()
    kinds = feed(s, *events)
    assert kinds[-1] == STOP and STOP not in kinds[:-1]
    ending = s.end(None, {})
    if blamed is None:  # everything had its result before the child went wrong
        assert ending.blamed is None
        return
    assert ending.blamed == blamed
    assert ending.reason == {"status": "crashed", "reason": reason}
    assert ending.crashed_module is None


def test_a_result_that_is_not_a_dict_is_judged_as_an_empty_one():
    s, _, _ = session(budgets=(5.0,))
    d = [s.feed(e) for e in (HELLO_EV, start(0), result(0, outcome=["ok"]))][-1]
    assert d.kind == RESULT and d.outcome == {}


def test_imports_are_noted_and_a_crash_while_importing_marks_the_module():
    s, _, _ = session()
    assert feed(s, HELLO_EV, start(0), {"ev": "import", "module": "ex5_init"}) == [
        HELLO, START, NOTED]
    s.closed()  # the channel ended: the child died in the import
    ending = s.end(-11, {})
    assert ending.blamed == 0 and ending.crashed_module == "ex5_init"
    assert ending.reason == {"status": "crashed",
                             "reason": {"key": "reason_SIGSEGV", "signal": "SIGSEGV"}}


def test_a_finished_import_is_not_blamed_for_a_later_crash():
    s, _, _ = session()
    feed(s, HELLO_EV, start(0), {"ev": "import", "module": "ex5_init"},
         {"ev": "imported", "module": "ex5_init"})
    s.closed()
    ending = s.end(3, {})
    assert ending.blamed == 0 and ending.crashed_module is None
    assert ending.reason == {"status": "crashed",
                             "reason": {"key": "reason_exit_code", "code": 3}}


def test_a_timeout_while_importing_times_the_check_out_but_does_not_mark_the_module():
    """Only a crash during an import marks its module (that import kills every child); a
    check that ran out of time while importing is a timeout, and its task is lost."""
    s, clock, asked = session(budgets=(5.0, 7.0))
    feed(s, HELLO_EV, start(0), {"ev": "import", "module": "ex5_init"})
    clock.now += 4.0
    assert s.wait() == pytest.approx(1.0)
    clock.now += 1.5
    assert s.wait() is None and s.stopped
    assert asked == [5.0]  # the meter was asked about the running check's budget
    ending = s.end(None, {})
    assert ending.blamed == 0 and ending.crashed_module is None
    assert ending.reason == {"status": "timeout", "seconds": "5"}


def test_no_hello_in_time_is_a_timeout_of_the_startup_blamed_on_the_first_check():
    s, clock, asked = session()
    clock.now += STARTUP + 1
    assert s.wait() is None
    assert asked == [STARTUP]
    ending = s.end(None, {})
    assert ending.blamed == 0 and ending.reason == {"status": "timeout", "seconds": "90"}


def test_end_of_file_before_hello_blames_the_first_check_with_how_the_child_ended():
    s, _, _ = session()
    s.closed()
    ending = s.end(1, {})
    assert ending.blamed == 0
    assert ending.reason == {"status": "crashed", "reason": {"key": "reason_exit_code",
                                                            "code": 1}}


def test_a_broken_channel_blames_the_running_check_with_the_channels_reason():
    s, _, _ = session()
    feed(s, HELLO_EV, start(0), result(0), start(1))
    s.broken({"key": "reason_frame_too_big", "size": 1 << 30, "limit": 1 << 24})
    ending = s.end(None, {})
    assert ending.blamed == 1
    assert ending.reason["reason"]["key"] == "reason_frame_too_big"


def test_the_cpu_meter_extends_the_deadline_of_the_same_check_then_it_times_out():
    s, clock, asked = session(budgets=(5.0, 5.0), extra=(5.0, 5.0))
    feed(s, HELLO_EV, start(0))
    clock.now += 6.0
    assert s.wait() == pytest.approx(5.0)  # starved: 5 s more from now
    clock.now += 5.5
    assert s.wait() == pytest.approx(5.0)
    clock.now += 5.5
    assert s.wait() is None  # the meter grants nothing more
    assert asked == [5.0, 5.0, 5.0]
    assert s.end(None, {}).reason == {"status": "timeout", "seconds": "5"}


def test_hello_starts_the_first_checks_budget_after_the_notebooks_prelude():
    s, clock, _ = session(budgets=(5.0,), prelude=240.0)
    feed(s, HELLO_EV)
    assert s.wait() == pytest.approx(245.0)
    feed(s, start(0))
    assert s.wait() == pytest.approx(5.0)


def test_the_time_spent_judging_is_given_back_to_the_deadline():
    s, clock, _ = session(budgets=(5.0, 5.0))
    feed(s, HELLO_EV, start(0), result(0))
    clock.now += 4.0
    s.judged(3.0)  # the verdict took 3 s while the child ran on
    assert s.wait() == pytest.approx(4.0)


def test_a_zygote_that_died_under_its_child_blames_nothing():
    s, _, _ = session()
    feed(s, HELLO_EV, start(0), result(0), start(1))
    s.closed()
    ending = s.end(None, {}, zygote_gone=True)
    assert ending.zygote_lost and ending.blamed is None
    # ... but a child that finished its check before the channel closed is not lost
    s2, _, _ = session(budgets=(5.0,))
    feed(s2, HELLO_EV, start(0), result(0))
    s2.closed()
    assert s2.end(None, {}, zygote_gone=True) == s2.end(0, {})
    # ... and a stop the child caused is its own, zygote or not
    s3, _, _ = session()
    feed(s3, HELLO_EV, {"ev": "teleport"})
    ending = s3.end(None, {}, zygote_gone=True)
    assert not ending.zygote_lost and ending.blamed == 0


def test_exit_reasons_read_signals_through_a_pid_namespace():
    assert exit_reason(None, {}) == {"key": "reason_killed"}
    assert exit_reason(-9, {}) == {"key": "reason_SIGKILL", "signal": "SIGKILL"}
    assert exit_reason(137, {"namespaces": True}) == {"key": "reason_SIGKILL",
                                                     "signal": "SIGKILL"}
    assert exit_reason(137, {}) == {"key": "reason_exit_code", "code": 137}
    assert exit_reason(-15, {}) == {"key": "reason_signal", "signal": "SIGTERM"}
    assert exit_reason(-200, {}) == {"key": "reason_signal", "signal": "200"}
    assert describe_event({"ev": "result"}) == {"key": "reason_event_malformed", "ev": "result"}
