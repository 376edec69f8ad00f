#!/usr/bin/env python3
"""Push fan-out: duplex serve's push server against Socket.IO, side by side.

N subscribers of one channel (Duplex: Centrifugo's protocol on
/connection/websocket, channel "bench"; Socket.IO: Engine.IO 4 over
WebSocket, room "bench"); the first subscriber publishes with K messages in
flight and every message goes to all N. Each server is pinned to one core,
`duplex bench --fanout` to the other; the servers take turns round after
round. Reported per server: deliveries per second and per server-CPU-
second, publish-to-delivery latency (p50, p99, p99.9 of every delivery),
and memory per subscriber; then medians and Duplex's ratios.

  bench/compare_push.py --duplex build/release/apps/duplex --subscribers 10000

Socket.IO comes from tests/interop's pinned npm packages (scripts/bootstrap.sh
test installs them). Centrifugo itself is not packaged for Debian and cannot
be fetched here, so it is not in the comparison.
"""
import argparse
import json
import os
import statistics
import sys

from compare_fanout import run_round

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duplex", required=True)
    p.add_argument("--node", default="node")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--subscribers", type=int, default=10000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--in-flight", type=int, default=2)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--json", help="also write the medians here")
    args = p.parse_args()

    servers = [
        ("duplex", f"{args.duplex} serve --no-demo --port {{port}} --threads 1 --idle-timeout 0",
         "/connection/websocket", "centrifuge"),
        ("socket.io", f"{args.node} {HERE}/socketio_fanout_server.mjs {{port}}",
         "/socket.io/?EIO=4&transport=websocket", "socketio"),
    ]
    keys = ("rate", "per_cpu_second", "cpu", "delivery_p50_us", "delivery_p99_us",
            "delivery_p999_us", "bytes_per_subscriber")
    results = {name: [] for name, *_ in servers}
    for r in range(args.rounds):
        for name, command, path, protocol in servers:
            res = run_round(name, command, args, path=path, protocol=protocol)
            results[name].append(res)
            print(f"round {r + 1} {name:>9}: {res['rate']:9.0f} deliveries/s  cpu {res['cpu'] * 100:5.1f}%  "
                  f"{res['per_cpu_second']:9.0f} per cpu-s  delivery p50/p99/p99.9 "
                  f"{res['delivery_p50_us'] / 1000:.1f}/{res['delivery_p99_us'] / 1000:.1f}/"
                  f"{res['delivery_p999_us'] / 1000:.1f} ms  {res['bytes_per_subscriber']:.0f} B/subscriber",
                  flush=True)

    summary = {name: {k: statistics.median(x[k] for x in results[name]) for k in keys}
               for name in results}
    d, s = summary["duplex"], summary["socket.io"]
    print(f"\n{args.subscribers} subscribers, {args.size}-byte messages, {args.in_flight} in flight, "
          f"median of {args.rounds} rounds")
    for name, m in summary.items():
        print(f"{name:>9}: {m['rate']:9.0f} deliveries/s  {m['per_cpu_second']:9.0f} per cpu-s  "
              f"p50/p99/p99.9 {m['delivery_p50_us'] / 1000:.1f}/{m['delivery_p99_us'] / 1000:.1f}/"
              f"{m['delivery_p999_us'] / 1000:.1f} ms  {m['bytes_per_subscriber']:.0f} B/subscriber")
    print(f"duplex/socket.io: {d['rate'] / s['rate']:.2f}x deliveries/s, "
          f"{d['per_cpu_second'] / s['per_cpu_second']:.2f}x per cpu-s, "
          f"{s['delivery_p50_us'] / max(d['delivery_p50_us'], 1):.2f}x lower p50, "
          f"{s['delivery_p99_us'] / max(d['delivery_p99_us'], 1):.2f}x lower p99, "
          f"{s['bytes_per_subscriber'] / max(d['bytes_per_subscriber'], 1):.2f}x less memory")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
