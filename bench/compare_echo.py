#!/usr/bin/env python3
"""Echo throughput of WebSocket servers side by side, on this machine, now.

Each server runs pinned to one core and the load generator (`duplex bench`)
to another; servers take turns (A B A B ...) so drift in the machine's load
hits them alike. For every round the script reads the server's CPU time from
/proc, and reports messages per second, server CPU use, and messages per
server-CPU-second, with medians and ratios against the first server.

  bench/compare_echo.py --duplex build/release/apps/duplex \\
      --server "node-ws=node bench/node_echo_server.mjs {port}" --rounds 5

A server command must print "listening on ws://HOST:PORT" (or just listen on
{port}) and echo every message. Duplex itself is always the first server.
"""
import argparse
import json
import shlex
import signal
import statistics
import subprocess
import sys

from benchlib import cpu_seconds, free_port, wait_listening


def run_round(name, command, args):
    port = free_port()
    argv = ["taskset", "-c", args.server_cpu] + shlex.split(command.replace("{port}", str(port)))
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, server)
        scheme = "wss" if args.tls_ca else "ws"
        tls = ["--cacert", args.tls_ca] if args.tls_ca else []
        bench = subprocess.Popen(
            ["taskset", "-c", args.client_cpu, args.duplex, "bench", f"{scheme}://localhost:{port}/", *tls,
             "-c", str(args.connections), "-s", str(args.size), "-k", str(args.in_flight),
             "-d", str(args.duration), "-w", str(args.warmup), "--json", "--mark-window"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The bench says when its measured window opens and closes: sample
        # the server's CPU over exactly that.
        if bench.stderr.readline().strip() != "measuring":
            raise RuntimeError(f"bench failed against {name}: {bench.stderr.read().strip()}")
        cpu0 = cpu_seconds(server.pid)
        bench.stderr.readline()  # "measured"
        cpu1 = cpu_seconds(server.pid)
        out, err = bench.communicate(timeout=120)
        if bench.returncode != 0:
            raise RuntimeError(f"bench failed against {name}: {err.strip()}")
        result = json.loads(out)
        rate = result["rate"]
        cpu = (cpu1 - cpu0) / args.duration
        return {"rate": rate, "cpu": cpu, "per_cpu_second": rate / cpu if cpu > 0 else 0.0,
                "p50_us": result["p50_us"], "p99_us": result["p99_us"]}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duplex", required=True, help="path of the duplex binary (server and load generator)")
    p.add_argument("--server", action="append", default=[], help="NAME=COMMAND with {port}")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--size", type=int, default=20)
    p.add_argument("--in-flight", type=int, default=1)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--json", help="also write the medians here")
    p.add_argument("--tls-cert", help="serve wss:// with this certificate (duplex: --tls-cert; others: {cert})")
    p.add_argument("--tls-key", help="and this key ({key})")
    p.add_argument("--tls-ca", help="the load generator trusts this CA (needed with --tls-cert)")
    args = p.parse_args()

    if bool(args.tls_cert) != bool(args.tls_ca):
        p.error("--tls-cert goes with --tls-key and --tls-ca")
    tls = f" --tls-cert {args.tls_cert} --tls-key {args.tls_key}" if args.tls_cert else ""
    servers = [("duplex", f"{args.duplex} serve --echo --port {{port}} --threads 1 --ping-interval 0 --idle-timeout 0" + tls)]
    for spec in args.server:
        name, _, command = spec.partition("=")
        if not command:
            p.error(f"--server expects NAME=COMMAND, got {spec!r}")
        servers.append((name, command.replace("{cert}", args.tls_cert or "").replace("{key}", args.tls_key or "")))

    results = {name: [] for name, _ in servers}
    for r in range(args.rounds):
        for name, command in servers:
            res = run_round(name, command, args)
            results[name].append(res)
            print(f"round {r + 1} {name:>10}: {res['rate']:10.0f} msg/s  cpu {res['cpu'] * 100:5.1f}%  "
                  f"{res['per_cpu_second']:10.0f} msg/cpu-s", flush=True)

    print(f"\n{args.connections} connections, {args.size}-byte messages, {args.in_flight} in flight, "
          f"median of {args.rounds} rounds")
    base = statistics.median(x["per_cpu_second"] for x in results[servers[0][0]])
    base_rate = statistics.median(x["rate"] for x in results[servers[0][0]])
    summary = {}
    for name, _ in servers:
        rate = statistics.median(x["rate"] for x in results[name])
        per = statistics.median(x["per_cpu_second"] for x in results[name])
        cpu = statistics.median(x["cpu"] for x in results[name])
        p99 = statistics.median(x["p99_us"] for x in results[name])
        summary[name] = {"rate": rate, "per_cpu_second": per, "cpu": cpu, "p99_us": p99}
        print(f"{name:>10}: {rate:10.0f} msg/s  cpu {cpu * 100:5.1f}%  {per:10.0f} msg/cpu-s  p99 {p99 / 1000:.2f} ms"
              f"   duplex/{name}: {base_rate / rate:.2f}x msg/s, {base / per:.2f}x msg/cpu-s" if per else "")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
