"""Running a program under test with a time limit, its output captured."""

import dataclasses
import subprocess


@dataclasses.dataclass
class Run:
    returncode: int = -1
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False


def run_bounded(argv, limit):
    """Runs `argv` with no input to completion; after `limit` seconds
    subprocess.run kills the child (ours, by its PID) and the run counts as
    timed out."""
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return Run(timed_out=True)
    return Run(
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )
