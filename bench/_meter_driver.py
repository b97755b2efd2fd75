"""Run by ``bench/fairness.py --gaming`` with the kit under test as its working folder (an
older checkout too, so it uses only what every version of the sandbox has).

    python _meter_driver.py MODE TIMEOUT CASES_JSON

Grades each case (a submission folder, and whether to run it beside 2 x cores busy
processes) with one Sandbox in sandbox mode MODE, and prints one JSON line per case:
status, score, extensions granted, extra seconds granted (where the kit records them), the
wall seconds the grading took, and the share of this machine's CPUs left idle meanwhile
(beside the hogs, when there are, no CPU is idle; else the fixture's own use and whatever
else runs: how quiet the machine was).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.getcwd())  # the kit under test, not the one this file lives in

def _idle() -> float:
    """Idle + iowait seconds of this process's CPUs since boot (read here, not from the kit:
    an older kit has no reader of its own)."""
    cpus, total = os.sched_getaffinity(0), 0
    with open("/proc/stat") as fh:
        for line in fh:
            name, *fields = line.split()
            if name[3:].isdigit() and name.startswith("cpu") and int(name[3:]) in cpus:
                total += int(fields[3]) + int(fields[4])
    return total / os.sysconf("SC_CLK_TCK")


MODES = {"cgroup": {}, "pinned": {"cgroups": False},
         "none": {"cgroups": False, "cpu_affinity": False}}


def main() -> None:
    from grader.grading import grade
    from grader.request import GradeRequest
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox
    from grader.submission import Submission

    mode, timeout, cases = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
    fields = {f.name for f in dataclasses.fields(SandboxOptions)}
    options = MODES[mode]
    with Sandbox(SandboxOptions(**{k: v for k, v in options.items() if k in fields})) as box:
        for case in cases:
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                     start_new_session=True)
                    for _ in range(2 * (os.cpu_count() or 1) if case["hogs"] else 0)]
            idle, start = _idle(), time.monotonic()
            try:
                outcome = grade(GradeRequest(Submission.from_folder(case["folder"]),
                                             tasks=["probe_stats"], threads=1, timeout=timeout),
                                box)
            finally:
                wall = time.monotonic() - start
                idle = (_idle() - idle) / (wall * len(os.sched_getaffinity(0)))
                for hog in hogs:
                    hog.kill()
                    hog.wait()
            task = outcome.results["probe_stats"]
            print(json.dumps({"case": case["name"], "status": sorted({c.status for c in
                                                                      task.checks}),
                              "score": task.score,
                              "extensions": outcome.report.extensions.count,
                              "granted": outcome.report.extensions.seconds or None,
                              "wall": round(wall, 1), "idle": round(idle, 2)}), flush=True)


if __name__ == "__main__":
    main()
