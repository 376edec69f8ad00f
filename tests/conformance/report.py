"""Console lines, the summary, and the optional JUnit XML file."""

import sys
import xml.etree.ElementTree as ET
from collections import Counter

from judge import FAILED, INFO, NON_STRICT, OK, UNSUPPORTED


class Reporter:
    def __init__(self, suite, allow_non_strict, junit_path=None, stream=sys.stdout,
                 fail_unsupported=False):
        self.suite = suite
        self.allow_non_strict = allow_non_strict
        self.fail_unsupported = fail_unsupported
        self.junit_path = junit_path
        self.stream = stream
        self.results = []  # (case id, description, verdict, reason, seconds, note)
        self.problems = []  # run-level failures, e.g. the server's exit status

    def case(self, case, verdict, reason, seconds, note=""):
        self.results.append((case.id, case.description, verdict, reason, seconds, note))
        line = "%-9s %-13s %6.2fs" % (case.id, verdict, seconds)
        if note:
            line += "  " + note
        if reason:
            line += "  " + reason
        print(line[:300], file=self.stream, flush=True)

    def problem(self, text):
        self.problems.append(text)
        print("ERROR: " + text, file=self.stream, flush=True)

    def _fails(self, verdict):
        return (verdict == FAILED or (verdict == NON_STRICT and not self.allow_non_strict)
                or (verdict == UNSUPPORTED and self.fail_unsupported))

    def finish(self, seconds):
        counts = Counter(r[2] for r in self.results)
        summary = "%s: %d cases, OK %d, NON-STRICT %d, FAILED %d, INFORMATIONAL %d, UNSUPPORTED %d, %.1f s" % (
            self.suite, len(self.results), counts[OK], counts[NON_STRICT], counts[FAILED],
            counts[INFO], counts[UNSUPPORTED], seconds)
        print(summary, file=self.stream, flush=True)
        if self.junit_path:
            self._write_junit(seconds)
        failed = self.problems or any(self._fails(r[2]) for r in self.results)
        return 1 if failed else 0

    def _write_junit(self, seconds):
        suite = ET.Element("testsuite", name=self.suite, tests=str(len(self.results)),
                           time="%.3f" % seconds)
        failures = 0
        for cid, desc, verdict, reason, secs, note in self.results:
            tc = ET.SubElement(suite, "testcase", classname=self.suite, name=cid, time="%.3f" % secs)
            detail = verdict + (": " + reason if reason else "") + (" (%s)" % note if note else "")
            if self._fails(verdict):
                failures += 1
                ET.SubElement(tc, "failure", message=detail[:500]).text = desc
            else:
                ET.SubElement(tc, "system-out").text = "%s\n%s" % (desc, detail)
        for text in self.problems:
            failures += 1
            tc = ET.SubElement(suite, "testcase", classname=self.suite, name="run")
            ET.SubElement(tc, "failure", message=text[:500])
        suite.set("failures", str(failures))
        ET.ElementTree(suite).write(self.junit_path, encoding="utf-8", xml_declaration=True)
