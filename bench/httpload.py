"""A load generator for a second process: keep-alive HTTP/1.1 POSTs on raw asyncio streams.

`closed`: N clients, each sending its next request when the last one answered, for D seconds;
prints one JSON line (counts and latency percentiles in ms).
`open`: a fixed arrival rate for D seconds (requests spread over a connection pool); prints
`<ticket id> <unix time of the 201>` per created ticket as it is answered, then a JSON line.
Raw streams instead of an HTTP library so the generator costs little of the shared CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from urllib.parse import urlsplit

import orjson

from .stats import summarize


def build_request(path: str, host: str, token: str, body: bytes) -> bytes:
    """The bytes of one POST request with a JSON body and a bearer token."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: bytes) -> tuple[int, bytes]:
    """Send one request on a keep-alive connection; return status and body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def closed_loop(url: str, token: str, body: bytes, clients: int, duration: float) -> dict:
    """N clients back to back for `duration` seconds; counts and latencies."""
    parts = urlsplit(url)
    request = build_request(parts.path, parts.netloc, token, body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + duration

    async def client() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, _ = await exchange(reader, writer, request)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "statuses": statuses, **summarize(latencies).as_dict()}


async def open_loop(url: str, token: str, body: bytes, rate: float, duration: float,
                    connections: int, grace: float = 15.0) -> dict:
    """`rate` requests/s for `duration` s; prints each created id with its answer time.

    Requests not answered `grace` s after the last was due are abandoned (and counted).
    """
    parts = urlsplit(url)
    request = build_request(parts.path, parts.netloc, token, body)
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(parts.hostname, parts.port))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    behind = 0
    out = sys.stdout

    async def one(scheduled: float) -> None:
        nonlocal behind
        conn = await pool.get()
        try:
            try:
                status, answer = await exchange(*conn, request)
            except (asyncio.IncompleteReadError, ConnectionError):
                # uvicorn closes keep-alive connections idle for 5 s: reconnect once.
                conn[1].close()
                conn = await asyncio.open_connection(parts.hostname, parts.port)
                status, answer = await exchange(*conn, request)
        finally:
            pool.put_nowait(conn)
        done = time.time()
        latencies.append((time.perf_counter() - scheduled) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 201:
            out.write(f"{orjson.loads(answer)['id']} {done:.6f}\n")

    tasks = []
    start = time.perf_counter()
    total = int(rate * duration)
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            behind += 1
        tasks.append(asyncio.create_task(one(due)))
        if i % 50 == 0:
            out.flush()
    # A saturated service would queue requests for minutes: give up on what is left.
    if not tasks:
        return {"elapsed_s": 0.0, "statuses": {}, "sent_late": 0, "abandoned": 0}
    done, left = await asyncio.wait(tasks, timeout=max(0.1, start + duration + grace - time.perf_counter()))
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)
    out.flush()
    elapsed = time.perf_counter() - start
    return {"elapsed_s": elapsed, "statuses": statuses, "sent_late": behind,
            "abandoned": len(left), "offered_rate": rate, **summarize(latencies).as_dict()}


def main() -> None:
    """CLI of the generator process."""
    parser = argparse.ArgumentParser(prog="python -m bench.httpload")
    parser.add_argument("mode", choices=["closed", "open"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--body", required=True, help="JSON request body")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    body = args.body.encode()
    if args.mode == "closed":
        result = asyncio.run(closed_loop(args.url, args.token, body, args.clients, args.duration))
    else:
        result = asyncio.run(open_loop(args.url, args.token, body, args.rate, args.duration,
                                       args.clients))
    sys.stdout.write("BENCH_JSON " + orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
