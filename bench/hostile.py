"""Hostile uploads: the memory attacks of issue #12 replayed against the real stack.

    python bench/hostile.py [--embed-seconds 20]

For each attack, a fresh `docchat serve` (uvicorn, its in-process worker, embedded
PostgreSQL in a temporary DATA_DIR, default PARSE_* limits) on 127.0.0.1: one user signs up
and ingests a small document (so the embedding and parse processes are running), then, after
a few idle seconds that set the baseline, the attack:

* ``one_line_49mb``: ``"lorem ipsum dolor sit amet " * n``, 49 MB on one line: uploaded,
  parsed and chunked (``parse_s``), embedded for ``--embed-seconds``, then deleted (its
  75,000 chunks would take an hour to embed on 2 cores); ``abort_s`` is delete → job over.
* ``one_line_5mb``: the same at 5 MB.
* ``prose_5mb``: 5 MB of SciFact abstracts as plain text, likewise.
* ``lying_docx_500mb`` / ``lying_docx_2gb``: a DOCX whose ``word/document.xml`` declares
  4 kB and inflates to 500 MB / 2 GB (510 kB / 2 MB files).
* ``delete_mid_parse``: 20 MB of prose, deleted 3 s into its parse; ``abort_s`` as above,
  ``parse_process_killed`` whether the parse process it ran in is gone.

Memory is the whole process tree: the server, its children (embedding and parse processes)
and the embedded PostgreSQL's processes, sampled every 100 ms, as the sum of RSS (what the
issue measured) and of PSS (shared pages counted once: PostgreSQL's shared buffers appear in
the RSS of every backend that touched them). `/health` is requested every 100 ms throughout.
Targets: RSS growth <= 600 MB for every attack, `/health` p95 <= 200 ms overall.
The LAST line printed is one JSON object. Not a test: it takes about ten minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from load import API, Server, free_port  # noqa: E402

from tests.hostile_files import lying_docx, one_line_text  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact" / "corpus.jsonl"
MB = 1024 * 1024
TARGET_RSS_GROWTH_MB = 600
TARGET_HEALTH_P95_MS = 200
HEALTH_INTERVAL_S = 0.1
HEALTH_TIMEOUT_S = 10.0
MEMORY_INTERVAL_S = 0.1
IDLE_BEFORE_ATTACK_S = 5.0
PASSWORD = "hostile-bench-password-1"


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def prose(size_bytes: int) -> bytes:
    abstracts = [json.loads(line)["text"] for line in SCIFACT.open(encoding="utf-8")]
    parts: list[str] = []
    size = 0
    while size < size_bytes:
        text = abstracts[len(parts) % len(abstracts)]
        parts.append(text)
        size += len(text.encode()) + 2
    return "\n\n".join(parts).encode()


class TreeMemory:
    """RSS and PSS of the server's process tree and of PostgreSQL, sampled in a thread; RSS
    also per group (the server, its parse and embedding processes, PostgreSQL)."""

    def __init__(self, server_pid: int, pgdata: Path) -> None:
        self._server = psutil.Process(server_pid)
        self._pgdata = pgdata
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()
        self.current = self.peak = (0, 0)
        self.group_baseline: dict[str, int] = {}
        self.group_peak: dict[str, int] = {}

    def processes(self) -> list[psutil.Process]:
        found = [self._server, *self._server.children(recursive=True)]
        postmaster_pid = (self._pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        postmaster = psutil.Process(int(postmaster_pid))
        return [*found, postmaster, *postmaster.children(recursive=True)]

    def sample(self) -> tuple[int, int, dict[str, int]]:
        rss = pss = 0
        groups: dict[str, int] = {}
        for process in self.processes():
            try:
                process_rss = process.memory_info().rss
                pss += _pss(process.pid)
                group = self._group(process)
            except (psutil.Error, OSError):
                continue
            rss += process_rss
            groups[group] = groups.get(group, 0) + process_rss
        return rss, pss, groups

    def _group(self, process: psutil.Process) -> str:
        if process.pid == self._server.pid:
            return "server"
        command = " ".join(process.cmdline())
        for name in ("parse", "embedding"):
            if f"{name}_process" in command:
                return name
        return "postgres"

    def reset(self) -> tuple[int, int]:
        rss, pss, groups = self.sample()
        with self._lock:
            self.current = self.peak = (rss, pss)
            self.group_baseline, self.group_peak = dict(groups), dict(groups)
            return self.current

    def group_growth_mb(self) -> dict[str, float]:
        with self._lock:
            return {
                group: round((peak - self.group_baseline.get(group, 0)) / MB, 1)
                for group, peak in self.group_peak.items()
            }

    def _run(self) -> None:
        while not self._stop.wait(MEMORY_INTERVAL_S):
            rss, pss, groups = self.sample()
            with self._lock:
                self.current = (rss, pss)
                self.peak = (max(self.peak[0], rss), max(self.peak[1], pss))
                for group, value in groups.items():
                    self.group_peak[group] = max(self.group_peak.get(group, 0), value)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


class HealthProbe:
    """GET /health every 100 ms on its own connection; latencies labelled by attack."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self.label = "idle"
        self.samples: list[tuple[str, float]] = []
        self.errors = 0

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self._base_url, timeout=HEALTH_TIMEOUT_S) as client:
            while True:
                started = time.perf_counter()
                try:
                    response = await client.get("/health")
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed_ms = (time.perf_counter() - started) * 1000
                self.samples.append((self.label, elapsed_ms))
                self.errors += not ok
                await asyncio.sleep(max(0.0, HEALTH_INTERVAL_S - elapsed_ms / 1000))

    def summary(self, label: str | None = None) -> dict[str, float]:
        return self.summarise([ms for name, ms in self.samples if label is None or name == label])

    @staticmethod
    def summarise(samples: list[float]) -> dict[str, float]:
        values = sorted(samples)
        if not values:
            return {"n": 0}

        def cut(q: float) -> float:
            return round(values[min(len(values) - 1, int(q * len(values)))], 1)

        return {
            "p50_ms": cut(0.5),
            "p95_ms": cut(0.95),
            "p99_ms": cut(0.99),
            "max_ms": round(values[-1], 1),
            "n": len(values),
        }


class Bench:
    def __init__(
        self,
        client: httpx.AsyncClient,
        database_url: str,
        memory: TreeMemory,
        health: HealthProbe,
        embed_seconds: float,
    ) -> None:
        self.embed_seconds = embed_seconds
        self.client = client
        self.database_url = database_url
        self.memory = memory
        self.health = health
        self.headers: dict[str, str] = {}

    async def sign_up(self) -> None:
        email = "hostile@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": "Hostile bench"}
        (await self.client.post(f"{API}/auth/register", json=body)).raise_for_status()
        response = await self.client.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def upload(self, name: str, data: bytes) -> str:
        response = await self.client.post(
            f"{API}/documents",
            headers=self.headers,
            files=[("files", (name, data, "application/octet-stream"))],
        )
        response.raise_for_status()
        return str(response.json()[0]["id"])

    async def document(self, document_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{API}/documents/{document_id}", headers=self.headers)
        response.raise_for_status()
        return dict(response.json())

    async def wait_until(
        self, document_id: str, done: Callable[[dict[str, Any]], bool], limit_s: float = 1800
    ) -> dict[str, Any]:
        deadline = time.monotonic() + limit_s
        while True:
            body = await self.document(document_id)
            if done(body):
                return body
            if body["status"] in ("ready", "failed") or time.monotonic() > deadline:
                raise RuntimeError(f"unexpected document state: {body}")
            await asyncio.sleep(0.2)

    async def settled(self, document_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 1800
        while True:
            body = await self.document(document_id)
            if body["status"] in ("ready", "failed"):
                return body
            if time.monotonic() > deadline:
                raise RuntimeError(f"never settled: {body}")
            await asyncio.sleep(0.5)

    async def delete_and_time_abort(self, document_id: str) -> float:
        """Delete the document; seconds until its job is no longer running."""
        started = time.monotonic()
        response = await self.client.delete(f"{API}/documents/{document_id}", headers=self.headers)
        assert response.status_code == 204, response.text
        while self.job_running(document_id):
            if time.monotonic() - started > 600:
                raise RuntimeError("the job kept running 10 minutes after the delete")
            await asyncio.sleep(0.1)
        return round(time.monotonic() - started, 2)

    def job_running(self, document_id: str) -> bool:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE lock = %s AND status = 'doing'",
                (f"document:{document_id}",),
            ).fetchone()
        return bool(row and row[0])

    def chunk_rows(self, document_id: str) -> int:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM chunks WHERE document_id = %s", (document_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    async def attack(
        self, name: str, run: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        await asyncio.sleep(IDLE_BEFORE_ATTACK_S)
        base_rss, base_pss = self.memory.reset()
        self.health.label = name
        log(f"{name}: baseline RSS {base_rss / MB:.0f} MB")
        started = time.monotonic()
        details = await run()
        elapsed = time.monotonic() - started
        self.health.label = "idle"
        peak_rss, peak_pss = self.memory.peak
        result = {
            "rss_growth_mb": round((peak_rss - base_rss) / MB, 1),
            "pss_growth_mb": round((peak_pss - base_pss) / MB, 1),
            "peak_rss_mb": round(peak_rss / MB, 1),
            "rss_growth_by_process_mb": self.memory.group_growth_mb(),
            "seconds": round(elapsed, 1),
            "health_p95_ms": self.health.summary(name).get("p95_ms"),
            **details,
        }
        log(f"{name}: {result}")
        return result

    async def parse_then_delete(self, name: str, data: bytes) -> dict[str, Any]:
        """Upload, wait until parsed and chunked, embed for a while, delete."""
        started = time.monotonic()
        document_id = await self.upload(name, data)
        uploaded = time.monotonic()
        await self.wait_until(
            document_id, lambda body: body["status"] == "processing" and body["stage"] == "embed"
        )
        parsed = time.monotonic()
        await asyncio.sleep(self.embed_seconds)
        abort_s = await self.delete_and_time_abort(document_id)
        return {
            "upload_s": round(uploaded - started, 1),
            "parse_s": round(parsed - uploaded, 1),
            "abort_s": abort_s,
            "chunks_left": self.chunk_rows(document_id),
        }

    async def expect_failure(self, name: str, data: bytes) -> dict[str, Any]:
        started = time.monotonic()
        document_id = await self.upload(name, data)
        body = await self.settled(document_id)
        return {
            "outcome": body["status"],
            "error": body["error"],
            "file_kb": round(len(data) / 1024),
            "settled_s": round(time.monotonic() - started, 1),
        }

    async def delete_mid_parse(self, name: str, data: bytes) -> dict[str, Any]:
        document_id = await self.upload(name, data)
        await self.wait_until(
            document_id,
            lambda body: body["status"] == "processing" and body["stage"] in ("parse", "chunk"),
        )
        await asyncio.sleep(3)
        parse_processes = self._parse_processes()
        abort_s = await self.delete_and_time_abort(document_id)
        await asyncio.sleep(1)
        return {
            "abort_s": abort_s,
            "parse_process_killed": all(not p.is_running() for p in parse_processes),
            "chunks_left": self.chunk_rows(document_id),
        }

    def _parse_processes(self) -> list[psutil.Process]:
        return [
            process
            for process in self.memory.processes()
            if "app.documents.parse_process" in " ".join(process.cmdline())
        ]


ATTACKS: dict[str, Callable[[Bench, bytes], Awaitable[dict[str, Any]]]] = {
    "one_line_49mb": lambda bench, data: bench.parse_then_delete("line.txt", data),
    "one_line_5mb": lambda bench, data: bench.parse_then_delete("line.txt", data),
    "prose_5mb": lambda bench, data: bench.parse_then_delete("prose.txt", data),
    "lying_docx_500mb": lambda bench, data: bench.expect_failure("bomb.docx", data),
    "lying_docx_2gb": lambda bench, data: bench.expect_failure("bomb.docx", data),
    "delete_mid_parse": lambda bench, data: bench.delete_mid_parse("prose-20mb.txt", data),
}


def hostile_file(name: str) -> bytes:
    builders: dict[str, Callable[[], bytes]] = {
        "one_line_49mb": lambda: one_line_text(49 * 1000 * 1000),
        "one_line_5mb": lambda: one_line_text(5 * 1000 * 1000),
        "prose_5mb": lambda: prose(5 * 1000 * 1000),
        "lying_docx_500mb": lambda: lying_docx(500_000_000),
        "lying_docx_2gb": lambda: lying_docx(2_000_000_000),
        "delete_mid_parse": lambda: prose(20 * 1000 * 1000),
    }
    return builders[name]()


async def run_attack(
    name: str, tmp: Path, health_samples: list[float], args: argparse.Namespace
) -> dict[str, Any]:
    """One attack on a fresh server: memory retained from an earlier attack (freed, but kept
    by the allocator) would otherwise hide part of the next one's growth."""
    data = hostile_file(name)
    (tmp / name).mkdir(mode=0o755)
    server = Server(tmp / name, free_port(), env={"RATE_LIMIT_ENABLED": "false"})
    memory: TreeMemory | None = None
    health = HealthProbe(server.base_url)
    health_task: asyncio.Task[None] | None = None
    try:
        await server.wait_ready()
        pgdata = tmp / name / "data" / "pg"
        memory = TreeMemory(server.process.pid, pgdata)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=600) as client:
            bench = Bench(
                client,
                f"postgresql://postgres:@/docchat?host={pgdata}",
                memory,
                health,
                args.embed_seconds,
            )
            await bench.sign_up()
            warm = await bench.upload("warm-up.md", b"# Warm-up\n\nThe canal opens at dawn.")
            assert (await bench.settled(warm))["status"] == "ready"
            memory.start()
            health_task = asyncio.create_task(health.run())
            result = await bench.attack(name, lambda: ATTACKS[name](bench, data))
        health_samples.extend(ms for _, ms in health.samples)
        return {**result, "health_errors": health.errors}
    except BaseException:
        log(f"{name} failed; the server log ends with:")
        print(server.log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        if health_task is not None:
            health_task.cancel()
        if memory is not None:
            memory.stop()
        server.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="docchat-hostile-"))
    os.chmod(tmp, 0o755)  # the embedded server runs as another OS user when we are root
    load_start = os.getloadavg()[0]
    health_samples: list[float] = []
    attacks: dict[str, dict[str, Any]] = {}
    try:
        for name in args.attacks or ATTACKS:
            attacks[name] = await run_attack(name, tmp, health_samples, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    overall = HealthProbe.summarise(health_samples)
    max_rss = max(attack["rss_growth_mb"] for attack in attacks.values())
    max_pss = max(attack["pss_growth_mb"] for attack in attacks.values())
    return {
        "attacks": attacks,
        "health": overall,
        "max_rss_growth_mb": max_rss,
        "max_pss_growth_mb": max_pss,
        "targets": {"rss_growth_mb": TARGET_RSS_GROWTH_MB, "health_p95_ms": TARGET_HEALTH_P95_MS},
        "targets_met": max_rss <= TARGET_RSS_GROWTH_MB
        and overall.get("p95_ms", float("inf")) <= TARGET_HEALTH_P95_MS,
        "embed_seconds": args.embed_seconds,
        "cpu_count": os.cpu_count(),
        "loadavg_1m_start": round(load_start, 2),
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--embed-seconds",
        type=float,
        default=20.0,
        help="how long a parsed text document embeds before it is deleted",
    )
    parser.add_argument("attacks", nargs="*", help=f"a subset of {', '.join(ATTACKS)}")
    args = parser.parse_args()
    if unknown := set(args.attacks) - set(ATTACKS):
        parser.error(f"unknown attacks: {', '.join(sorted(unknown))}")
    result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
