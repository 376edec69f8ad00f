#!/usr/bin/env bash
# The soak test: `duplex serve` (the push server with its demo, /echo and
# the HTTP API) under tests/soak/soak_driver: thousands of connections with
# mixed traffic, every delivery sequence-checked, the server's memory and
# descriptors sampled after warm-up and at the end. Prints the driver's
# figures and PASS or FAIL; exit status 0 only if the driver passed and the
# server then stopped cleanly (exit status 0: under ASan, no leaks).
#
#   scripts/soak.sh                      # the long form: 5,000 connections, 10 minutes,
#                                        # server on CPU 0, driver on CPU 1
#   scripts/soak.sh --connections 300 --duration 25 --threads 2 --no-pin   # short
#
# Options: --duplex BIN, --driver BIN (default: build/release), --connections N,
# --duration S, --threads N (server loops; default 1), --no-pin, --log FILE
# (the server's and the driver's progress; default: a file under build/);
# anything after -- goes to the driver (see soak_driver's usage).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duplex=$root/build/release/apps/duplex
driver=$root/build/release/tests/soak/duplex_soak_driver
connections=5000
duration=600
threads=1
pin=1
log=
extra=()
while (($#)); do
  case $1 in
    --duplex) duplex=$2; shift 2 ;;
    --driver) driver=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --no-pin) pin=0; shift ;;
    --log) log=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
log=${log:-$work/soak.log}
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Each connection is a descriptor in both processes.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < connections + 200)); then
  echo "soak.sh: ulimit -n is $(ulimit -n); $connections connections need more" >&2
  exit 2
fi
server_cpu=() driver_cpu=()
if ((pin)) && command -v taskset >/dev/null && (($(nproc) >= 2)); then
  server_cpu=(taskset -c 0) driver_cpu=(taskset -c 1)
fi
# ASan keeps freed memory in a quarantine (256 MiB by default), which would
# show as growth in the memory figures: a small one measures the server.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"

# Made before the server starts, so that reading it cannot race the redirect.
: >"$work/serve.out"
"${server_cpu[@]}" "$duplex" serve --port 0 --threads "$threads" --api-insecure \
  --history-size 64 --history-ttl 300 >"$work/serve.out" 2>>"$log" &
server_pid=$!
port=
for _ in $(seq 300); do  # up to 30 s for the listening line
  port=$(sed -n 's/^listening on ws:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.out")
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $port ]]; then
  echo "soak.sh: the server did not start" >&2
  cat "$work/serve.out" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "soak.sh: duplex serve (pid $server_pid) on port $port; $connections connections for ${duration}s"
sed -n 's/^io: /server_io: /p' "$work/serve.out"

status=0
"${driver_cpu[@]}" "$driver" --port "$port" --server-pid "$server_pid" \
  --connections "$connections" --duration "$duration" "${extra[@]}" 2>>"$log" || status=$?

# The server's own count of the clients it closed as slow.
if command -v curl >/dev/null; then
  curl -s --max-time 10 "http://127.0.0.1:$port/metrics" |
    sed -n 's/^duplex_slow_consumers_closed_total \([0-9]*\)$/server_slow_consumers_closed: \1/p' || true
fi

# A graceful stop within a bound; its exit status counts (ASan: leaks).
kill -TERM "$server_pid"
for _ in $(seq 300); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
server_status=0
if kill -0 "$server_pid" 2>/dev/null; then
  echo "soak.sh: the server did not stop within 30 s of SIGTERM" >&2
  server_status=1
else
  wait "$server_pid" || server_status=$?
fi
server_pid=
if ((server_status != 0)); then
  echo "soak.sh: the server exited with status $server_status" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
if ((status != 0)); then
  tail -n 20 "$log" >&2
fi
exit "$status"
