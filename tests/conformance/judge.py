"""Turns an Outcome into a verdict the way Autobahn TestSuite grades cases.

OK            the peer did exactly what the case expects.
NON-STRICT    acceptable but not the best behaviour RFC 6455 asks for: failed
              late instead of fast, dropped TCP without a close frame, or
              used a different close code where the code is not under test.
FAILED        anything else, including any frame from the peer that breaks
              RFC 6455.
INFORMATIONAL the case only reports what happened (7.1.6); it passes unless
              the peer broke the protocol or never answered the close frame.
UNSUPPORTED   the case needs permessage-deflate with parameters the peer did
              not agree to (it declined the offer, or its offer does not allow
              them); the connection is still closed and checked, and any
              protocol error makes it FAILED.
"""

from plan import Plan

OK = "OK"
NON_STRICT = "NON-STRICT"
FAILED = "FAILED"
INFO = "INFORMATIONAL"
UNSUPPORTED = "UNSUPPORTED"
_RANK = {OK: 0, INFO: 0, UNSUPPORTED: 0, NON_STRICT: 1, FAILED: 2}
_NORMAL_CODES = {1000, 1001}


def describe(events, limit=4):
    def one(e):
        kind, value = e
        return "timeout-" + value if kind == "timeout" else "%s(%d B)" % (kind, len(value))
    shown = [one(e) for e in events[:limit]]
    if len(events) > limit:
        shown.append("... %d in all" % len(events))
    return "[" + ", ".join(shown) + "]"


def _mismatch(expected, got):
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            if e[0] == g[0] and e[0] != "timeout":
                return "event %d: %s of %d B is not the %d B expected" % (i + 1, g[0], len(g[1]), len(e[1]))
            return "expected %s, got %s" % (describe(expected), describe(got))
    return "expected %s, got %s" % (describe(expected), describe(got))


def _events(plan, events):
    if plan.judge_events is not None:
        return plan.judge_events(events)
    if events == plan.ok:
        return OK, ""
    if plan.non_strict is not None and events == plan.non_strict:
        return NON_STRICT, plan.non_strict_why
    return FAILED, _mismatch(plan.ok, events)


def _close(plan, out):
    exp = plan.close
    want = "/".join(str(c) for c in exp.codes)
    code = out.peer_close[0] if out.peer_close is not None else None
    if exp.kind == "fail":
        if out.peer_close is None:
            if out.eof:
                return NON_STRICT, "peer dropped TCP without a close frame (expected close %s)" % want
            return FAILED, "peer did not fail the connection (expected close %s)" % want
        if code in exp.codes:
            return OK, ""
        if code is None:
            return NON_STRICT, "peer failed the connection with an empty close frame, expected %s" % want
        strict = exp.strict_code and code not in exp.lenient
        return (FAILED if strict else NON_STRICT), \
            "peer failed the connection with close code %d, expected %s" % (code, want)

    # The harness sent the first Close frame (or meant to).
    error_expected = not set(exp.codes) & _NORMAL_CODES
    if out.peer_close is None:
        if out.eof and error_expected:
            return NON_STRICT, "peer dropped TCP without a close frame (expected close %s)" % want
        if out.eof:
            return FAILED, "peer ended TCP without a closing handshake"
        if not out.harness_close_sent:
            return FAILED, "timed out before the case could close the connection"
        return FAILED, "no close frame in answer to ours"
    if out.peer_closed_first:
        return FAILED, "peer closed the connection itself (code %s)" % code
    if code is None:
        if error_expected:
            return NON_STRICT, "peer answered with an empty close frame, expected %s" % want
        return OK, ""
    if code in exp.codes:
        return OK, ""
    return (FAILED if exp.strict_code and code not in exp.lenient else NON_STRICT), \
        "peer answered close with code %d, expected %s" % (code, want)


def judge(plan, out):
    """Returns (verdict, reason)."""
    findings = []
    if out.violations:
        findings.append((FAILED, out.violations[0]))
    findings.extend((NON_STRICT, lapse) for lapse in out.lapses)
    close = _close(plan, out)
    if plan.informational:
        if findings or close[0] == FAILED:
            findings.append(close)
        else:
            echoed = sum(1 for e in out.events if e[0] in ("text", "binary"))
            note = ("messages echoed before the close" if out.events == plan.ok
                    else "close processed first, %d of %d messages echoed" % (echoed, len(plan.ok)))
            return INFO, note
    else:
        findings.append(_events(plan, out.events))
        findings.append(close)
    if out.server_closed_tcp is False:
        findings.append((NON_STRICT, "server did not close TCP after the closing handshake"))
    verdict = max((v for v, _ in findings), key=_RANK.get, default=OK)
    reasons = [r for v, r in findings if v == verdict and r]
    return verdict, "; ".join(reasons)


def unsupported(out, why):
    """Verdict for a case that ran without the extension it needs: just opened
    and closed with 1000.  Anything wrong with that is still FAILED."""
    verdict, reason = judge(Plan([]), out)
    if verdict == FAILED:
        return FAILED, "%s (%s)" % (reason, why)
    return UNSUPPORTED, why


def worse(a, b):
    return a if _RANK[a] >= _RANK[b] else b
