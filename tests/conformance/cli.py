"""Command-line options shared by the two runners."""

import argparse
import sys
import time

import cases as case_table
import cases_deflate


def parse_options(argv, prog, description, command_help, default_log, add_arguments=None):
    """Splits `[options] -- COMMAND...`; returns (options, command).

    `add_arguments(parser)` adds the runner's own options (TLS)."""
    if "--" in argv:
        split = argv.index("--")
        opts, command = argv[:split], argv[split + 1:]
    else:
        opts, command = argv, []
    p = argparse.ArgumentParser(prog=prog, description=description,
                                usage="%(prog)s [options] -- " + command_help)
    p.add_argument("--cases", default="",
                   help="comma-separated case ids, prefixes or globs, e.g. 1,2.*,6.4.3,!9")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds per case (large category 9 cases get more); default 10")
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("--log", metavar="FILE", default=default_log,
                   help="where the output of the program under test goes; default %(default)s")
    p.add_argument("--allow-non-strict", action="store_true",
                   help="exit 0 even if some cases are NON-STRICT")
    p.add_argument("--budget", type=float, default=500.0, metavar="SECONDS",
                   help="start no new case after this many seconds, so a peer that hangs "
                        "in every case still ends within a ctest timeout of 600 s; default 500")
    p.add_argument("--list", action="store_true", help="list the selected cases and exit")
    p.add_argument("--max-message", type=int, default=cases_deflate.SETTINGS["max_message"],
                   metavar="BYTES",
                   help="the largest message the peer accepts, for the decompression-bomb "
                        "cases 14.3.x; default %(default)s")
    p.add_argument("--fail-unsupported", action="store_true",
                   help="UNSUPPORTED cases (permessage-deflate declined or not offered as the "
                        "case needs) fail the run")
    if add_arguments is not None:
        add_arguments(p)
    args = p.parse_args(opts)
    if args.max_message < 1:
        p.error("--max-message must be positive")
    cases_deflate.SETTINGS["max_message"] = args.max_message
    args.selected = case_table.select([s.strip() for s in args.cases.split(",") if s.strip()])
    if args.list:
        for c in args.selected:
            print("%-9s %s" % (c.id, c.description))
        sys.exit(0)
    if not args.selected:
        p.error("no case matches --cases %r" % args.cases)
    if not command:
        p.error("missing '-- COMMAND...'")
    return args, command


def case_timeout(case, base):
    # Roughly 2 s per MiB on top of the base: generous for loopback, but a
    # peer that stalls still cannot hold the run for long.
    return base + 2.0 * case.weight_mib + case.extra_seconds


def over_budget(reporter, args, started, index):
    """True (and reported) once the run has used up its time budget."""
    if time.monotonic() - started <= args.budget:
        return False
    reporter.problem("time budget of %g s used up; %d cases not run"
                     % (args.budget, len(args.selected) - index))
    return True
