"""Review API latency: claim-next and call-detail at 32 concurrent clients over HTTP, against a real `callqa serve`
on a store seeded with 10,000 scored calls. Target: claim-next p99 ≤ 100 ms on PostgreSQL.

The load is driven by wrk (`apt-get install wrk`; script `bench/api_load.lua`): 32 connections, each a closed loop
(the next request as soon as the answer arrives), the API keys of 32 supervisors in turn. One run claims calls,
one reads random calls in full. Latency is measured at the client; the server's CPU per request beside it, as the
machine may be shared. Run from the repository root:

    .venv/bin/python -m bench.api [--url postgresql+psycopg://…] [--calls 10000] [--clients 32] [--workers N]

Without --url a fresh SQLite file is used; with one, the database must be empty (it is migrated and seeded), or,
with --reuse, hold an earlier run's seed: its leases are handed back and new keys made, so that runs before and
after a change are measured on the same data without seeding again (seeding 10,000 calls takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

import phrasebooks
from api.cli.local_server import local_server
from api.ingest import CallMetadata
from api.services.calls import claim_call, record_result, register_file
from api.services.users import add_user, create_api_key
from api.services.versions import Versions
from api.store import make_engine, make_sessionmaker, upgrade
from api.store.models import Call, Review, ReviewState, User, UserRole
from scoring import Scorecard, load_phrasebooks, score
from tests.scoring.factory import call as transcript_of
from tests.store.stand_ins import TURNS

WRK = "wrk"
LUA = Path(__file__).with_name("api_load.lua")
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
        _hand_back(session)
        keys = []
        for number in range(clients):
            name = f"bench{number}"
            if session.scalar(select(User.id).where(User.name == name)) is None:
                add_user(session, name=name, role=UserRole.SUPERVISOR, password=None)
            keys.append(create_api_key(session, user_name=name).key)
    print(f"reusing {calls} calls")
    engine.dispose()
    return keys


def _hand_back(session: Session) -> None:
    """Bench-only and unaudited: earlier claims go back to the queue. Supervisors review what they claim, so the
    claimed rows at the head of the queue are a few per supervisor; a bench that only claims would pile up
    thousands there for every later claim to step over."""
    session.execute(
        update(Review)
        .where(Review.state == ReviewState.CLAIMED)
        .values(state=ReviewState.QUEUED, lease_holder=None, lease_until=None)
    )


def _server_env(url: str, workers: int) -> dict[str, str]:
    env = {**os.environ, "CALLQA_DATABASE_URL": url, "CALLQA_SECRET_KEY": "b" * 40}
    if workers > 1:  # several HTTP processes hand uploads to Celery (none are made here)
        env.setdefault("CALLQA_BROKER_URL", "redis://127.0.0.1:6379/14")
    return env


def _wrk(
    base: str, keys: list[str], mode: str, clients: int, seconds: int, max_id: int, think_ms: int
) -> dict[str, float]:
    """One closed-loop run of `mode` requests by `clients` connections for `seconds`: wrk (C) drives the load, so
    the clients' own CPU does not crowd the server's two cores the way 32 Python client threads did."""
    env = {**os.environ, "CALLQA_BENCH_KEYS": ",".join(keys), "CALLQA_BENCH_MODE": mode}
    env["CALLQA_BENCH_MAX_ID"], env["CALLQA_BENCH_THINK_MS"] = str(max_id), str(think_ms)
    command = [WRK, "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(LUA), base]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    summary: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return summary


def _cpu_seconds(server: psutil.Process) -> float:
    """User + system CPU of the server and its worker processes (wrk has exited when this is read)."""
    total = 0.0
    for process in server.children(recursive=True):
        times = process.cpu_times()
        total += times.user + times.system
    return total


def _line(name: str, run: dict[str, float], cpu: float) -> str:
    requests = int(run["requests"])
    problems = f"  {int(run['bad_status'])} bad status, {int(run['socket_errors'])} socket errors"
    return (
        f"{name:<12} n={requests:6d} ({requests / run['seconds']:6.1f}/s)  p50 {run['p50_ms']:7.1f} ms  "
        f"p90 {run['p90_ms']:7.1f} ms  p99 {run['p99_ms']:7.1f} ms  server CPU {cpu * 1000 / max(1, requests):5.2f} ms"
        f"/request{problems if run['bad_status'] or run['socket_errors'] else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=1, help="`callqa serve --workers`")
    parser.add_argument(
        "--think-ms",
        type=int,
        nargs="+",
        default=[0],
        help="mean pause of each client between an answer and its next request; 0: back to back (saturation)",
    )
    parser.add_argument("--reuse", action="store_true", help="the database holds an earlier run's seed")
    args = parser.parse_args()
    if shutil.which(WRK) is None:
        raise SystemExit("bench.api drives the load with wrk: apt-get install wrk")
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='callqa-bench-')}/bench.db"
    keys = reuse(url, args.clients) if args.reuse else seed(url, args.calls, args.clients)
    log = Path(tempfile.mkdtemp(prefix="callqa-bench-")) / "server.log"
    serve_args = [f"--workers={args.workers}"] if args.workers > 1 else []
    with local_server(_server_env(url, args.workers), log, args=serve_args) as base:
        started = time.perf_counter()
        httpx.get(f"{base}/api/queue", headers={"X-API-Key": keys[0]}, timeout=600)  # first read queues the calls
        print(f"first queue read (review rows for {args.calls} calls): {time.perf_counter() - started:.1f} s")
        engine = make_engine(url)
        open_before = _open_reviews(engine)
        server = psutil.Process()  # this process: its children are the server (and its workers) alone
        print(
            f"{engine.dialect.name}, {args.clients} clients, {len(os.sched_getaffinity(0))} cores, "
            f"{args.workers} server process(es)"
        )
        # Latency on a shared machine depends on everyone's load; the server's own CPU per request much less.
        for think_ms in args.think_ms:
            print(f"each client pausing {think_ms} ms on average between requests:")
            for name, mode in (("claim-next", "claim"), ("call detail", "detail")):
                if mode == "claim":
                    with make_sessionmaker(engine).begin() as session:
                        _hand_back(session)
                cpu_before = _cpu_seconds(server)
                run = _wrk(base, keys, mode, args.clients, args.seconds, args.calls, think_ms)
                print(_line(name, run, _cpu_seconds(server) - cpu_before), flush=True)
                if mode == "claim" and run["requests"] >= open_before:
                    print(f"  the queue ran out ({open_before} open calls): later claims were 204s")


def _open_reviews(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Review).where(Review.state == ReviewState.QUEUED))
    return int(count or 0)


if __name__ == "__main__":
    main()
