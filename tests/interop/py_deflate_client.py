#!/usr/bin/env python3
"""Python `websockets` clients with permessage-deflate against Duplex servers
started with --deflate. For each server and each ClientPerMessageDeflateFactory
parameter set below: the offer sent, the answer in the 101 judged against
RFC 7692 and the server's configuration (peer_deflate.py), then every message
of deflate_messages() echoed byte for byte, with the RSV1 bit and compressed
size of every message that came back. Prints one "ok"/"FAIL" line per case;
exit 1 if any failed.

  py_deflate_client.py --servers JSON

JSON: [{"name": ..., "url": "ws://127.0.0.1:P", "config": {server_context_takeover,
client_context_takeover, server_max_window_bits, client_max_window_bits}}]"""

import argparse
import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.legacy.client import WebSocketClientProtocol

from peer_common import MAX_MESSAGE, difference
from peer_deflate import (
    RecordingDeflate,
    arrival_problem,
    canonical,
    deflate_messages,
    new_arrivals,
    parse_header_values,
    response_problems,
)

CASE_LIMIT = 120.0
STEP_LIMIT = 10.0
ECHO_LIMIT = 60.0

# Keyword arguments of ClientPerMessageDeflateFactory, one list per offer
# (in the order sent). websockets' defaults offer client_max_window_bits
# without a value.
CASES = [
    ("defaults", [{}]),
    ("server_no_context_takeover", [dict(server_no_context_takeover=True)]),
    ("client_no_context_takeover", [dict(client_no_context_takeover=True)]),
    (
        "both no_context_takeover",
        [dict(server_no_context_takeover=True, client_no_context_takeover=True)],
    ),
    ("server_max_window_bits=9", [dict(server_max_window_bits=9)]),
    ("server_max_window_bits=12", [dict(server_max_window_bits=12)]),
    ("server_max_window_bits=15", [dict(server_max_window_bits=15)]),
    ("client_max_window_bits=9", [dict(client_max_window_bits=9)]),
    ("client_max_window_bits=12", [dict(client_max_window_bits=12)]),
    # No client_max_window_bits in the offer: the answer must not have one.
    ("no client_max_window_bits", [dict(client_max_window_bits=None)]),
    # Duplex declines it: zlib cannot compress with a 256-byte window.
    ("server_max_window_bits=8", [dict(server_max_window_bits=8)]),
    # Two offers: the first cannot be taken, the second must be.
    (
        "offers server_max_window_bits=8, then 12",
        [dict(server_max_window_bits=8), dict(server_max_window_bits=12)],
    ),
    (
        "everything at 10",
        [
            dict(
                server_no_context_takeover=True,
                client_no_context_takeover=True,
                server_max_window_bits=10,
                client_max_window_bits=10,
            )
        ],
    ),
]


class CheckFailed(Exception):
    pass


class RecordingClientFactory(ClientPerMessageDeflateFactory):
    """Negotiates as its parent does; the extension it returns records each
    message received in `arrivals`."""

    def __init__(self, arrivals, **kwargs):
        super().__init__(**kwargs)
        self.arrivals = arrivals

    def process_response_params(self, params, accepted_extensions):
        inner = super().process_response_params(params, accepted_extensions)
        return RecordingDeflate(inner, self.arrivals)


async def run_case(server, offers):
    arrivals = new_arrivals()
    factories = [RecordingClientFactory(arrivals, **kwargs) for kwargs in offers]
    offered = [factory.get_request_params() for factory in factories]
    connect = websockets.connect(
        f"{server['url']}/echo",
        create_protocol=WebSocketClientProtocol,
        extensions=factories,
        compression=None,
        max_size=MAX_MESSAGE,
        ping_interval=None,
        open_timeout=STEP_LIMIT,
        close_timeout=STEP_LIMIT,
    )
    try:
        ws = await connect
    except websockets.InvalidHandshake as e:
        # websockets refuses an answer it cannot accept; which answer, it says.
        raise CheckFailed(f"websockets refused the handshake: {e}") from e
    try:
        answered = ws.response_headers.get_all("Sec-WebSocket-Extensions")
        answer = parse_header_values(answered)
        problems = response_problems(offered, server["config"], answer)
        sent_offer = ", ".join(ws.request_headers.get_all("Sec-WebSocket-Extensions"))
        if problems:
            raise CheckFailed(
                f"offered {sent_offer!r}, answered {', '.join(answered)!r}: {'; '.join(problems)}"
            )
        negotiated = bool(answer)
        if bool(ws.extensions) != negotiated:
            raise CheckFailed(f"extensions in use {ws.extensions} after the answer {answered}")
        takes_over = negotiated and all(
            name != "server_no_context_takeover" for name, _ in answer[0][1]
        )
        messages = deflate_messages()
        for label, sent in messages:
            try:
                await ws.send(sent)
                got = await asyncio.wait_for(ws.recv(), ECHO_LIMIT)
            except (websockets.ConnectionClosed, asyncio.TimeoutError) as e:
                raise CheckFailed(f"{label}: {str(e) or type(e).__name__}") from e
            why = difference(sent, got)
            if why:
                raise CheckFailed(f"{label}: echo: {why}")
            if negotiated:
                if not arrivals:
                    raise CheckFailed(f"{label}: the echo left no record")
                arrival = arrivals.popleft()
                problem = arrival_problem(label, sent, arrival, takes_over)
                if problem:
                    raise CheckFailed(problem)
        await ws.close(1000)
        if ws.close_code != 1000:
            raise CheckFailed(f"closed with 1000, server answered {ws.close_code}")
        return f"{canonical(answer)}; {len(messages)} echoes identical"
    finally:
        await ws.close()


async def run_cases(servers):
    failed = 0
    for server in servers:
        for name, offers in CASES:
            check = f"python deflate {server['name']} server, {name}"
            try:
                summary = await asyncio.wait_for(run_case(server, offers), CASE_LIMIT)
                print(f"ok   {check}: {summary}", flush=True)
            except Exception as e:  # every failure, whatever raised it, is a result
                failed += 1
                print(f"FAIL {check}: {str(e) or type(e).__name__}", flush=True)
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", required=True, help="JSON list of servers")
    args = parser.parse_args()
    failed = asyncio.run(run_cases(json.loads(args.servers)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
