"""The verdict lines the interop drivers print: one "ok"/"FAIL" line per
check, so that a failing ctest says which check failed and why."""

import os
import shutil
import sys


class Results:
    def __init__(self):
        self.failed = 0

    def ok(self, name, summary):
        print(f"ok   {name}: {summary}", flush=True)

    def fail(self, name, why):
        self.failed += 1
        print(f"FAIL {name}: {why}", flush=True)

    def check(self, name, condition, summary, why):
        if condition:
            self.ok(name, summary)
        else:
            self.fail(name, why)
        return condition

    def exit(self):
        sys.exit(1 if self.failed else 0)


def require_program(path, what):
    """Exits with a clear message when a peer's interpreter is missing."""
    if not path or path.endswith("-NOTFOUND") or not shutil.which(path):
        print(f"FAIL {what} not found ({path!r}); install it to run this test", flush=True)
        sys.exit(1)


def require_files(*paths):
    """Exits with a clear message when a file the test needs (a certificate
    made by the tls.make_certificates fixture, say) is missing."""
    for path in paths:
        if path is not None and not os.path.isfile(path):
            print(f"FAIL {path} not found (made by ctest's tls.make_certificates)", flush=True)
            sys.exit(1)
