"""Review API latency: claim-next and call-detail at 32 concurrent clients over HTTP, against a real `callqa serve`
(uvicorn, one process) on a store seeded with 10,000 scored calls. Target: claim-next p99 ≤ 100 ms on PostgreSQL.

Every client is a supervisor with an API key; each claims a call, then reads it in full, again and again. Latency
is measured at the client (connection reused, as a browser does). Run from the repository root:

    .venv/bin/python -m bench.api [--url postgresql+psycopg://…] [--calls 10000] [--clients 32] [--rounds 50]

Without --url a fresh SQLite file is used; with one, the database must be empty (it is migrated and seeded), or,
with --reuse, hold an earlier run's seed: its leases are handed back and new keys made, so that runs before and
after a change are measured on the same data without seeding again (seeding 10,000 calls takes minutes).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

import phrasebooks
from api.ingest import CallMetadata
from api.services.calls import claim_call, record_result, register_file
from api.services.users import add_user, create_api_key
from api.services.versions import Versions
from api.store import make_engine, make_sessionmaker, upgrade
from api.store.models import Call, Review, ReviewState, User, UserRole
from scoring import Scorecard, load_phrasebooks, score
from tests.scoring.factory import call as transcript_of
from tests.store.stand_ins import TURNS

CALLQA = str(Path(sys.executable).parent / "callqa")
SEED_CHUNK = 500


def _cards() -> list[Scorecard]:
    """Real scorecards of three kinds of call (clean, no greeting, a forbidden phrase), scored by the bundled
    phrasebooks: the queue holds what the batch would have put there."""
    book = load_phrasebooks(phrasebooks.DIRECTORY)
    variants = [TURNS, TURNS[1:], ((TURNS[0]), ("client", "利率多少?"), ("agent", "这个我不知道。"), TURNS[2])]
    return [score(transcript_of(*turns), book, hangup_by="client") for turns in variants]


def seed(url: str, calls: int, clients: int) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    rng = random.Random(7)
    cards = _cards()
    print("scorecards:", [(c.score, c.passed, c.needs_review) for c in cards])
    transcript = transcript_of(*TURNS)
    versions = Versions("bench-t", "bench-p")
    started = time.perf_counter()
    for first in range(0, calls, SEED_CHUNK):
        with sessions.begin() as session:
            for number in range(first, min(calls, first + SEED_CHUNK)):
                metadata = CallMetadata(agent_id=str(number % 200), branch=f"b{number % 10}")
                sha = f"{number:064x}"
                call_id = register_file(
                    session, path=f"/recordings/{number}.wav", sha256=sha, size=1, metadata=metadata, cti=None
                )
                claim_call(session, call_id=call_id, worker="bench")
                record_result(
                    session,
                    call_id=call_id,
                    worker="bench",
                    versions=versions,
                    card=rng.choice(cards),
                    transcript=transcript,
                )
    with sessions.begin() as session:
        keys = []
        for number in range(clients):
            add_user(session, name=f"bench{number}", role=UserRole.SUPERVISOR, password=None)
            keys.append(create_api_key(session, user_name=f"bench{number}").key)
    print(f"seeded {calls} scored calls in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return keys


def reuse(url: str, clients: int) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        calls = session.scalar(select(func.count()).select_from(Call))
        if not calls:
            raise SystemExit(f"--reuse: {url} holds no calls; run once without --reuse to seed it")
        # Bench-only and unaudited: the previous run's claims go back to the queue.
        session.execute(
            update(Review)
            .where(Review.state == ReviewState.CLAIMED)
            .values(state=ReviewState.QUEUED, lease_holder=None, lease_until=None)
        )
        keys = []
        for number in range(clients):
            name = f"bench{number}"
            if session.scalar(select(User.id).where(User.name == name)) is None:
                add_user(session, name=name, role=UserRole.SUPERVISOR, password=None)
            keys.append(create_api_key(session, user_name=name).key)
    print(f"reusing {calls} calls")
    engine.dispose()
    return keys


def _serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CALLQA_DATABASE_URL": url, "CALLQA_SECRET_KEY": "b" * 40}
    process = subprocess.Popen(
        [CALLQA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def _client(base: str, key: str, rounds: int) -> tuple[list[float], list[float]]:
    claims, details = [], []
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as http:
        for _ in range(rounds):
            started = time.perf_counter()
            response = http.post("/api/queue/claim")
            claims.append(time.perf_counter() - started)
            if response.status_code != 200:  # 204: the queue is empty; anything else is a finding of the run
                print(f"claim: {response.status_code} {response.text[:200]}", flush=True)
                break
            started = time.perf_counter()
            assert http.get(f"/api/calls/{response.json()['call_id']}").status_code == 200
            details.append(time.perf_counter() - started)
    return claims, details


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _line(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{name:<12} n={len(ms):5d}  p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="the database holds an earlier run's seed")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='callqa-bench-')}/bench.db"
    keys = reuse(url, args.clients) if args.reuse else seed(url, args.calls, args.clients)
    process, base = _serve(url)
    try:
        started = time.perf_counter()
        httpx.get(f"{base}/api/queue", headers={"X-API-Key": keys[0]}, timeout=600)  # first read queues the calls
        print(f"first queue read (review rows for {args.calls} calls): {time.perf_counter() - started:.1f} s")
        print(f"server pid {process.pid}", flush=True)
        cpu_before = _cpu_seconds(process.pid)
        with ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(lambda key: _client(base, key, args.rounds), keys))
        cpu = _cpu_seconds(process.pid) - cpu_before
        print(f"{make_engine(url).dialect.name}, {args.clients} clients, {len(os.sched_getaffinity(0))} cores")
        print(_line("claim-next", [s for claims, _ in results for s in claims]))
        print(_line("call detail", [s for _, details in results for s in details]))
        pairs = sum(len(details) for _, details in results)
        # Latency on a shared machine depends on everyone's load; the server's own CPU per request much less.
        print(f"server CPU   {cpu * 1000 / max(1, pairs):.1f} ms per claim + detail pair (callqa serve process)")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
