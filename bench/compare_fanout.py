#!/usr/bin/env python3
"""Fan-out of one message to many subscribers, servers side by side.

Each server runs pinned to one core, the load generator (`duplex bench
--fanout`: N subscribers, the first of them publishing with K messages in
flight) to the other; servers take turns round after round. Reported per
server: deliveries per second, server CPU use, deliveries per server-CPU-
second, how long a message takes to reach its last subscriber, and the
server's memory per subscriber (growth of its anonymous resident memory once
the subscribers are connected); then medians and Duplex's ratios.

  bench/compare_fanout.py --duplex build/release/apps/duplex \\
      --server "node-ws=node bench/node_broadcast_server.mjs {port}" --subscribers 10000
"""
import argparse
import json
import shlex
import signal
import statistics
import subprocess
import sys
import time

from benchlib import anon_rss, cpu_seconds, free_port, raise_fd_limit, wait_listening


def run_round(name, command, args, path="/", protocol="raw"):
    """One server, one bench run against it: its rates, latencies, memory.
    `path` and `protocol` say what `duplex bench --fanout` speaks to it."""
    port = free_port()
    argv = ["taskset", "-c", args.server_cpu] + shlex.split(command.replace("{port}", str(port)))
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=raise_fd_limit(args.subscribers + 1000))
    try:
        wait_listening(port, server)
        time.sleep(0.5)
        base_rss = anon_rss(server.pid)
        bench = subprocess.Popen(
            ["taskset", "-c", args.client_cpu, args.duplex, "bench", "--fanout",
             f"ws://127.0.0.1:{port}{path}", "--protocol", protocol,
             "-c", str(args.subscribers), "-s", str(args.size), "-k", str(args.in_flight),
             "-d", str(args.duration), "-w", str(args.warmup), "--json", "--mark-window"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=raise_fd_limit(args.subscribers + 1000))
        # The bench says when its measured window opens and closes: sample
        # the server's CPU over exactly that, and its memory once every
        # subscriber is connected.
        if bench.stderr.readline().strip() != "measuring":
            raise RuntimeError(f"bench failed against {name}: {bench.stderr.read().strip()}")
        rss = anon_rss(server.pid)
        cpu0 = cpu_seconds(server.pid)
        bench.stderr.readline()  # "measured"
        cpu1 = cpu_seconds(server.pid)
        out, err = bench.communicate(timeout=120)
        if bench.returncode != 0:
            raise RuntimeError(f"bench failed against {name}: {err.strip()} {out.strip()}")
        result = json.loads(out)
        cpu = (cpu1 - cpu0) / args.duration
        rate = result["deliveries_per_second"]
        return {"rate": rate, "cpu": cpu, "per_cpu_second": rate / cpu if cpu > 0 else 0.0,
                "p50_us": result["p50_us"], "p99_us": result["p99_us"],
                "delivery_p50_us": result["delivery_p50_us"],
                "delivery_p99_us": result["delivery_p99_us"],
                "delivery_p999_us": result["delivery_p999_us"],
                "bytes_per_subscriber": (rss - base_rss) / args.subscribers}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duplex", required=True)
    p.add_argument("--server", action="append", default=[], help="NAME=COMMAND with {port}")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--subscribers", type=int, default=10000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--in-flight", type=int, default=4)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--json", help="also write the medians here")
    args = p.parse_args()

    servers = [("duplex", f"{args.duplex} serve --broadcast --port {{port}} --threads 1 "
                          "--ping-interval 0 --idle-timeout 0")]
    for spec in args.server:
        name, _, command = spec.partition("=")
        if not command:
            p.error(f"--server expects NAME=COMMAND, got {spec!r}")
        servers.append((name, command))

    results = {name: [] for name, _ in servers}
    for r in range(args.rounds):
        for name, command in servers:
            res = run_round(name, command, args)
            results[name].append(res)
            print(f"round {r + 1} {name:>10}: {res['rate']:10.0f} deliveries/s  cpu {res['cpu'] * 100:5.1f}%  "
                  f"{res['per_cpu_second']:10.0f} per cpu-s  last-subscriber p50 {res['p50_us'] / 1000:.1f} ms  "
                  f"{res['bytes_per_subscriber']:.0f} B/subscriber", flush=True)

    print(f"\n{args.subscribers} subscribers, {args.size}-byte messages, {args.in_flight} in flight, "
          f"median of {args.rounds} rounds")
    med = lambda name, key: statistics.median(x[key] for x in results[name])
    base = servers[0][0]
    summary = {}
    for name, _ in servers:
        summary[name] = {k: med(name, k) for k in ("rate", "per_cpu_second", "cpu", "p50_us", "p99_us",
                                                    "bytes_per_subscriber")}
        line = (f"{name:>10}: {summary[name]['rate']:10.0f} deliveries/s  cpu {summary[name]['cpu'] * 100:5.1f}%  "
                f"{summary[name]['per_cpu_second']:10.0f} per cpu-s  p50 {summary[name]['p50_us'] / 1000:.1f} ms  "
                f"{summary[name]['bytes_per_subscriber']:.0f} B/subscriber")
        if name != base:
            line += (f"   duplex/{name}: {summary[base]['rate'] / summary[name]['rate']:.2f}x deliveries/s, "
                     f"{summary[base]['per_cpu_second'] / summary[name]['per_cpu_second']:.2f}x per cpu-s, "
                     f"{summary[name]['bytes_per_subscriber'] / max(summary[base]['bytes_per_subscriber'], 1):.2f}x "
                     "less memory")
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
