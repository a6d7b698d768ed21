"""Load test: the real server under uvicorn, a mixed workload, throughput and p50/p99.

Starts ``audience serve`` as a subprocess on a free loopback port (embedded store, a small demo
world), then runs ``--clients`` concurrent httpx clients for ``--seconds`` seconds sending a mix
of event mutations, ``mySegment``, ``creatorAudience`` and ``segmentRecommendations``. Bounded
in time and count, loopback only; stops the server at the end.

Run: ``.venv/bin/python bench/load.py [--seconds 20] [--clients 16]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint_token

SECRET = "load-secret-load-secret-load-secret-load"
ROOT = Path(__file__).resolve().parent.parent
CREATORS, VIEWERS = 60, 600
MIX = [("event", 40), ("mySegment", 30), ("creatorAudience", 15),
       ("segmentRecommendations", 15)]
MAX_REQUESTS = 200_000  # a hard bound besides the time limit

MY_SEGMENT = """query($c: ID!) { mySegment(creatorId: $c) {
  budget intent proximity passion { loyalFollower sharedInterests } } }"""
CREATOR_AUDIENCE = """query($c: ID!) { creatorAudience(creatorId: $c) {
  overview { totalAudience payingAudience topSegmentDescription }
  breakdown { budget { key label percentage } intent { key label percentage } } } }"""
RECOMMENDATIONS = "{ segmentRecommendations(limit: 20) { creatorId matchScore } }"
EVENT = """mutation($input: ChatCompletedInput!) { chatCompleted(input: $input) {
  eventId duplicate } }"""


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(ROOT / ".venv/bin/audience"), "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def creator(i: int) -> str:
    return f"creator-{i:03d}"


def viewer(i: int) -> str:
    return f"viewer-{i:04d}"


class Workload:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids = itertools.count()
        self.tokens: dict[tuple[str, str], str] = {}

    def token(self, sub: str, role: str) -> str:
        key = (sub, role)
        if key not in self.tokens:
            self.tokens[key] = mint_token(SECRET, sub, [role])
        return self.tokens[key]

    def request(self, kind: str) -> tuple[dict[str, Any], str]:
        rng = self.rng
        c = creator(rng.randint(1, CREATORS))
        v = viewer(rng.randint(1, VIEWERS))
        if kind == "event":
            n = next(self.ids)
            body = {"query": EVENT, "variables": {"input": {
                "eventId": f"load-{os.getpid()}-{n}", "chatId": f"lc{n}", "viewerId": v,
                "creatorId": c, "tokens": rng.randint(1, 200),
                "messageCount": rng.randint(1, 30)}}}
            return body, self.token("load-service", "service")
        if kind == "mySegment":
            return {"query": MY_SEGMENT, "variables": {"c": c}}, self.token(v, "viewer")
        if kind == "creatorAudience":
            return {"query": CREATOR_AUDIENCE, "variables": {"c": c}}, self.token(c, "creator")
        return {"query": RECOMMENDATIONS}, self.token(v, "viewer")


async def client_loop(base: str, workload: Workload, deadline: float,
                      samples: dict[str, list[float]], errors: dict[str, int],
                      budget: list[int]) -> None:
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            kind = workload.rng.choices(kinds, weights)[0]
            body, token = workload.request(kind)
            started = time.perf_counter()
            response = await http.post("/graphql", json=body,
                                       headers={"Authorization": f"Bearer {token}"})
            samples[kind].append(time.perf_counter() - started)
            payload = response.json() if response.status_code == 200 else {"errors": [1]}
            if response.status_code != 200 or payload.get("errors"):
                errors[kind] += 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


async def run(seconds: float, clients: int) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "AUDIENCE_DEMO": "1",
           "AUDIENCE_DEMO_CREATORS": str(CREATORS), "AUDIENCE_DEMO_VIEWERS": str(VIEWERS),
           "AUDIENCE_JWT_SECRET": SECRET, "AUDIENCE_LOG_LEVEL": "WARNING",
           "AUDIENCE_RATE_LIMIT_COST_PER_MINUTE": str(10**9)}
    env.pop("MONGODB_URL", None)
    server = await asyncio.to_thread(start_server, env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(600):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("server did not become ready")
        samples: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        budget = [MAX_REQUESTS]
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*[client_loop(base, Workload(i), deadline, samples, errors,
                                           budget) for i in range(clients)])
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    total = sum(len(v) for v in samples.values())
    print(f"{clients} clients, {elapsed:.1f} s, {total} requests, "
          f"{total / elapsed:.0f} req/s overall (one uvicorn process, embedded store)")
    print(f"{'operation':<24}{'count':>7}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for kind, _ in MIX:
        values = samples[kind]
        if values:
            p50 = statistics.median(values) * 1e3
            print(f"{kind:<24}{len(values):>7}{errors[kind]:>8}{p50:>9.1f}"
                  f"{pct(values, 0.99):>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if args.seconds > 600 or args.clients > 256:
        sys.exit("bounded: at most 600 s and 256 clients")
    asyncio.run(run(args.seconds, args.clients))


if __name__ == "__main__":
    main()
