#!/usr/bin/env python3
"""Checks that Duplex's layers include only downwards (docs/ARCHITECTURE.md).

Every header and source file of the library (src/, include/) belongs to one
layer, given by the table below. A file may include files of its own layer and
of the layers ranked below it; two layers of the same rank (the server and
the client) may not include each other. The command-line tool, the demo and
the examples sit on top and may include only public headers (include/), never
the library's internals (src/); tests, fuzz targets and benchmarks may.

  scripts/check_layers.py [ROOT]    # exit status 1 and one line per violation
"""
import pathlib
import re
import sys

# (layer, rank, path prefixes relative to the root). Longest prefix wins.
LAYERS = [
    ("protocol", 0, ["include/duplex/protocol/", "src/protocol/",
                     "include/duplex/close_code.hpp", "include/duplex/status.hpp"]),
    ("transport", 1, ["src/transport/", "include/duplex/transport_error.hpp",
                      "include/duplex/loop.hpp", "include/duplex/io_backend.hpp"]),
    ("session", 2, ["src/session/", "include/duplex/websocket.hpp", "include/duplex/log.hpp",
                    "include/duplex/handlers.hpp", "include/duplex/upgrade.hpp",
                    "include/duplex/detail/"]),
    ("server", 3, ["src/server/", "include/duplex/server.hpp"]),
    ("client", 3, ["src/client/", "include/duplex/client.hpp", "include/duplex/url.hpp",
                   "include/duplex/client_error.hpp"]),
    ("api", 4, ["include/duplex/error.hpp", "include/duplex/duplex.hpp"]),
    ("push", 5, ["src/push/", "include/duplex/push/"]),
]

# Code on top of the library, as users write it: public headers only. (Tests,
# fuzz targets and micro-benchmarks may reach internals on purpose.)
TOP = ["apps/", "examples/"]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)
SOURCE_SUFFIXES = {".hpp", ".h", ".cpp", ".cc", ".ipp"}


def layer_of(rel):
    best = None
    for name, rank, prefixes in LAYERS:
        for prefix in prefixes:
            if (rel == prefix or (prefix.endswith("/") and rel.startswith(prefix))) and (
                    best is None or len(prefix) > best[2]):
                best = (name, rank, len(prefix))
    return best


def resolve(root, including, quote, target):
    """The path (relative to root) an include names, or None for a system header."""
    if quote == '"':
        candidate = (including.parent / target).resolve()
        if candidate.exists():
            return candidate.relative_to(root).as_posix()
    if target.startswith("duplex/"):
        return "include/" + target
    return None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent).resolve()
    problems = []
    library = [p for d in ("src", "include") for p in (root / d).rglob("*") if p.suffix in SOURCE_SUFFIXES]
    for path in sorted(library):
        rel = path.relative_to(root).as_posix()
        own = layer_of(rel)
        if own is None:
            problems.append(f"{rel}: belongs to no layer (add it to scripts/check_layers.py)")
            continue
        for quote, target in INCLUDE.findall(path.read_text()):
            dep = resolve(root, path, quote, target)
            if dep is None:
                continue
            theirs = layer_of(dep)
            if theirs is None:
                problems.append(f"{rel}: includes {target}, which belongs to no layer")
            elif theirs[0] != own[0] and theirs[1] >= own[1]:
                problems.append(f"{rel} ({own[0]}) includes {target} ({theirs[0]}): "
                                f"a layer may include only the ones below it")
    for top in TOP:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or "node_modules" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            for quote, target in INCLUDE.findall(path.read_text()):
                dep = resolve(root, path, quote, target)
                if dep and dep.startswith("src/"):
                    problems.append(f"{rel} includes {target}: code on top of the library uses "
                                    f"public headers only")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering violation(s)")
        return 1
    print(f"layers: {len(library)} library files checked, no upward include")
    return 0


if __name__ == "__main__":
    sys.exit(main())
