"""Load test: N simulated users against the real stack on loopback.

    python bench/load.py [--users 50] [--duration 60] [--max-requests 20000] [--think-ms 1000]
                         [--ingest-docs 0]

Starts `docchat serve` (uvicorn, embedded PostgreSQL in a temporary DATA_DIR, in-process
worker, extractive answers, no API keys) on 127.0.0.1, gives every simulated user an account
(own email, own X-Forwarded-For address, read with TRUSTED_PROXY_HOPS=1 as behind one proxy, so
the per-address and per-account limits apply as in production) and one seeded document, then runs
every user as an asyncio task (httpx) doing a realistic mix with think time:

    sign in, then 25-50 steps of: list documents, search, ask a question in a chat (consuming
    the SSE stream to the end), list chats, upload a small text file, refresh the access token;
    then sign out and start the next session with a new sign-in (about 1.5 sign-ins per user
    per minute: the per-account-and-address limit of 5/minute is for people, not for this loop).

With --ingest-docs N, one more account uploads N small Markdown documents (one SciFact
abstract each, 20 files a request, its upload limit raised) after the warm-up, so the
in-process worker ingests them while the users work; `background_ingest` reports how many
became ready during the run.

After a warm-up round (every user does each operation once) it runs for --duration seconds or
--max-requests requests. Per operation: requests, errors (HTTP >= 400 or transport errors),
p50/p95/p99 latency in ms (the chat figure is the whole streamed answer; `chat_ttfb` the
first byte). Also the server process's RSS at start, after warm-up and at the end (psutil).
The LAST line printed is one JSON object with all figures. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "bench" / "scifact" / "corpus.jsonl"
API = "/api/v1"
PASSWORD = "load-test-password-1"

# Operation mix (relative weights) within a signed-in session.
MIX = {
    "list_documents": 25,
    "search": 40,
    "chat": 15,
    "list_chats": 10,
    "upload": 5,
    "refresh": 5,
}
SESSION_STEPS = (25, 50)
QUESTIONS = [
    "What is the effect of vitamin D on bone density?",
    "How do T cells respond to infection?",
    "Which genes are linked to cancer risk?",
    "What causes insulin resistance?",
    "How does smoking affect the lungs?",
    "What is known about antibiotic resistance?",
]


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: dict[str, list[str]] = defaultdict(list)
        self.count = 0
        self.recording = False

    def add(self, op: str, ms: float, error: str | None = None) -> None:
        if not self.recording:
            return
        self.count += 1
        self.latencies[op].append(ms)
        if error is not None:
            self.errors[op] += 1
            if len(self.error_samples[op]) < 3:
                self.error_samples[op].append(error[:200])

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for op in sorted(self.latencies):
            values = sorted(self.latencies[op])
            cuts = (
                statistics.quantiles(values, n=100, method="inclusive")
                if len(values) > 1
                else values * 99
            )
            out[op] = {
                "requests": len(values),
                "errors": self.errors[op],
                "p50_ms": round(cuts[49], 1),
                "p95_ms": round(cuts[94], 1),
                "p99_ms": round(cuts[98], 1),
            }
        return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_texts(count: int) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    if SCIFACT.exists():
        with SCIFACT.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                texts.append((str(row.get("title") or "Untitled"), str(row.get("text") or "")))
                if len(texts) >= count:
                    break
    while len(texts) < count:
        n = len(texts)
        texts.append(
            (f"Synthetic note {n}", f"Vitamin D and bone density, T cells and infection, {n}.")
        )
    return texts


def seed_document(index: int, texts: list[tuple[str, str]]) -> bytes:
    parts = [f"# Reading list {index}\n"]
    for title, text in texts:
        parts.append(f"## {title}\n\n{text}\n")
    return "\n".join(parts).encode()


class User:
    def __init__(self, index: int, client: httpx.AsyncClient, stats: Stats) -> None:
        self.index = index
        self.email = f"load-{index}-{secrets.token_hex(3)}@example.com"
        self.ip = f"10.{index // 250 % 250}.{index % 250}.{1 + index // 62500}"
        self.client = client
        self.stats = stats
        self.headers: dict[str, str] = {"X-Forwarded-For": self.ip}
        self.refresh_token: str | None = None
        self.chat_id: str | None = None
        self.uploads = 0

    async def timed(self, op: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, headers=self.headers, **kwargs)
        except httpx.HTTPError as exc:
            self.stats.add(op, (time.perf_counter() - started) * 1000, repr(exc))
            return None
        ms = (time.perf_counter() - started) * 1000
        error = (
            f"{response.status_code} {response.text[:150]}" if response.status_code >= 400 else None
        )
        self.stats.add(op, ms, error)
        return response

    async def register(self) -> None:
        body = {"email": self.email, "password": PASSWORD, "full_name": f"Load {self.index}"}
        response = await self.client.post(f"{API}/auth/register", json=body, headers=self.headers)
        response.raise_for_status()

    async def login(self, op: str = "login") -> None:
        response = await self.timed(
            op, "POST", f"{API}/auth/login", json={"email": self.email, "password": PASSWORD}
        )
        self._take_tokens(response)

    def _take_tokens(self, response: httpx.Response | None) -> None:
        if response is not None and response.status_code == 200:
            tokens = response.json()
            self.refresh_token = tokens["refresh_token"]
            self.headers = {
                "X-Forwarded-For": self.ip,
                "Authorization": f"Bearer {tokens['access_token']}",
            }

    async def refresh(self) -> None:
        response = await self.timed(
            "refresh", "POST", f"{API}/auth/refresh", json={"refresh_token": self.refresh_token}
        )
        self._take_tokens(response)

    async def logout(self) -> None:
        await self.timed(
            "logout", "POST", f"{API}/auth/logout", json={"refresh_token": self.refresh_token}
        )
        self.headers = {"X-Forwarded-For": self.ip}

    async def chat(self) -> None:
        if self.chat_id is None:
            response = await self.timed("create_chat", "POST", f"{API}/chats", json={})
            if response is None or response.status_code != 201:
                return
            self.chat_id = response.json()["id"]
        started = time.perf_counter()
        first_byte: float | None = None
        error: str | None = None
        try:
            async with self.client.stream(
                "POST",
                f"{API}/chats/{self.chat_id}/messages",
                headers=self.headers,
                json={"content": random.choice(QUESTIONS)},
            ) as response:
                if response.status_code != 200:
                    error = f"{response.status_code} {(await response.aread())[:150]!r}"
                else:
                    tail = b""
                    async for chunk in response.aiter_bytes():
                        if first_byte is None:
                            first_byte = time.perf_counter()
                        tail = (tail + chunk)[-400:]
                    if b'"type":"error"' in tail or b"[DONE]" not in tail:
                        error = f"stream ended badly: {tail[-150:]!r}"
        except httpx.HTTPError as exc:
            error = repr(exc)
        end = time.perf_counter()
        self.stats.add("chat", (end - started) * 1000, error)
        if first_byte is not None:
            self.stats.add("chat_ttfb", (first_byte - started) * 1000)

    async def upload(self) -> None:
        self.uploads += 1
        data = (
            f"Field note {self.index}-{self.uploads}-{secrets.token_hex(4)}: the river gauge "
            "read two metres after the spring rain, and the ferry ran late.\n"
        ).encode()
        await self.timed(
            "upload",
            "POST",
            f"{API}/documents",
            files=[("files", (f"note-{self.uploads}.txt", data, "text/plain"))],
        )

    async def step(self, op: str) -> None:
        if op == "refresh":
            await self.refresh()
        elif op == "list_documents":
            await self.timed(op, "GET", f"{API}/documents")
        elif op == "list_chats":
            await self.timed(op, "GET", f"{API}/chats")
        elif op == "search":
            await self.timed(
                op, "POST", f"{API}/search", json={"query": random.choice(QUESTIONS), "k": 10}
            )
        elif op == "chat":
            await self.chat()
        elif op == "upload":
            await self.upload()


class Server:
    def __init__(self, data_dir: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.log = data_dir / "server.log"
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir / "data"),
            "ENVIRONMENT": "development",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "TRUSTED_PROXY_HOPS": "1",
            "LOG_LEVEL": "WARNING",
            "LLM_PROVIDER": "extractive",
            "RUN_WORKER": "true",
            "FRONTEND_DIST": str(data_dir / "no-frontend"),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            **(env or {}),
        }
        for name in ("DATABASE_URL", "DATABASE_DIRECT_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT / "backend",
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.process.pid)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        """The server and its children (the embedding process), PostgreSQL not included."""
        total = self.ps.memory_info().rss
        for child in self.ps.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return round(total / 2**20, 1)

    def postgres_rss_mb(self) -> float:
        total = 0
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                cmdline = " ".join(proc.info["cmdline"] or [])
                if "postgres" in (proc.info["name"] or "") and str(self.log.parent) in cmdline:
                    total += proc.memory_info().rss
                    total += sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                continue
        return round(total / 2**20, 1)

    async def wait_ready(self, limit_s: float = 180) -> None:
        deadline = time.monotonic() + limit_s
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while True:
                if self.process.poll() is not None:
                    raise SystemExit(f"the server exited; see {self.log}")
                try:
                    if (await client.get("/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"the server did not become ready; see {self.log}")
                await asyncio.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def wait_documents_ready(users: list[User], limit_s: float = 600) -> None:
    deadline = time.monotonic() + limit_s
    pending = list(users)
    while pending:
        still = []
        for user in pending:
            docs = (await user.client.get(f"{API}/documents", headers=user.headers)).json()
            if not docs or any(d["status"] in ("queued", "processing") for d in docs):
                still.append(user)
            elif any(d["status"] == "failed" for d in docs):
                raise SystemExit(f"a seed document failed: {docs}")
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(pending)} seed documents not ready in time")
            await asyncio.sleep(1)


IMPORT_FILES_PER_REQUEST = 20


async def ready_count(user: User) -> int:
    """The user's ready documents (pages of 500)."""
    ready, offset = 0, 0
    while True:
        response = await user.client.get(
            f"{API}/documents", headers=user.headers, params={"limit": 500, "offset": offset}
        )
        response.raise_for_status()
        page = response.json()
        ready += sum(document["status"] == "ready" for document in page)
        if len(page) < 500:
            return ready
        offset += 500


async def run(args: argparse.Namespace) -> dict[str, Any]:
    random.seed(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="docchat-load-"))
    os.chmod(tmp, 0o755)  # the embedded server runs as another OS user when we are root
    # The importer uploads its files in a burst before the run: its uploads are not the mix's.
    env = {"UPLOAD_RATE_LIMIT": "10000/minute"} if args.ingest_docs else None
    server = Server(tmp, args.port or free_port(), env)
    stats = Stats()
    result: dict[str, Any] = {}
    try:
        await server.wait_ready()
        rss_start = server.rss_mb()
        limits = httpx.Limits(max_connections=args.users * 2, max_keepalive_connections=args.users)
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=120, limits=limits
        ) as client:
            users = [User(i, client, stats) for i in range(args.users)]
            texts = load_texts(args.users * 3)
            seed_started = time.monotonic()
            gate = asyncio.Semaphore(8)  # seeding is not measured: don't hammer Argon2

            async def seed(user: User) -> None:
                async with gate:
                    await user.register()
                    await user.login("seed_login")
                    data = seed_document(user.index, texts[user.index * 3 : user.index * 3 + 3])
                    response = await client.post(
                        f"{API}/documents",
                        headers=user.headers,
                        files=[("files", (f"reading-{user.index}.md", data, "text/markdown"))],
                    )
                    response.raise_for_status()

            await asyncio.gather(*(seed(u) for u in users))
            await wait_documents_ready(users)
            seed_s = time.monotonic() - seed_started

            # Warm-up: every user does each operation once (loads the model, fills pools).
            for op in ("list_documents", "search", "chat", "list_chats"):
                await asyncio.gather(*(u.step(op) for u in users))
            rss_warm = server.rss_mb()

            importer = User(args.users, client, Stats())  # its requests are not measured
            if args.ingest_docs:
                await importer.register()
                await importer.login("seed_login")
                library = load_texts(args.users * 3 + args.ingest_docs)[args.users * 3 :]
                for start in range(0, len(library), IMPORT_FILES_PER_REQUEST):
                    files = [
                        (
                            "files",
                            (f"import-{start + n}.md", f"# {title}\n\n{text}\n", "text/markdown"),
                        )
                        for n, (title, text) in enumerate(
                            library[start : start + IMPORT_FILES_PER_REQUEST]
                        )
                    ]
                    response = await client.post(
                        f"{API}/documents", headers=importer.headers, files=files
                    )
                    response.raise_for_status()
            imported_before = await ready_count(importer) if args.ingest_docs else 0

            stats.recording = True
            stats.count = 0
            started = time.monotonic()
            stop_at = started + args.duration
            ops, weights = zip(*MIX.items(), strict=True)

            def running() -> bool:
                return time.monotonic() < stop_at and stats.count < args.max_requests

            async def think() -> None:
                await asyncio.sleep(random.uniform(0.5, 1.5) * args.think_ms / 1000)

            async def sessions(user: User) -> None:
                await asyncio.sleep(random.uniform(0, 2 * args.think_ms / 1000))
                while running():
                    await user.login()
                    for _ in range(random.randint(*SESSION_STEPS)):
                        await think()
                        if not running():
                            return
                        await user.step(random.choices(ops, weights)[0])
                    await think()
                    await user.logout()

            rss_samples: list[float] = []

            async def sample_rss() -> None:
                while time.monotonic() < stop_at:
                    rss_samples.append(server.rss_mb())
                    await asyncio.sleep(1)

            await asyncio.gather(sample_rss(), *(sessions(u) for u in users))
            elapsed = time.monotonic() - started
            rss_end = server.rss_mb()
            stats.recording = False
            imported = await ready_count(importer) - imported_before if args.ingest_docs else 0

            # Not part of the mix: every user signing in at the very same instant.
            burst = Stats()
            burst.recording = True
            for user in users:
                user.stats = burst
            await asyncio.gather(*(u.login("login_burst") for u in users))
        total_requests = sum(len(v) for k, v in stats.latencies.items() if k != "chat_ttfb")
        result = {
            "users": args.users,
            "duration_s": round(elapsed, 1),
            "think_ms": args.think_ms,
            "requests": total_requests,
            "requests_per_s": round(total_requests / elapsed, 1),
            "errors": sum(stats.errors.values()),
            "operations": stats.summary(),
            "seed_s": round(seed_s, 1),
            "background_ingest": {
                "queued": args.ingest_docs,
                "ready_during_run": imported,
                "docs_per_s": round(imported / elapsed, 2),
            },
            "login_burst": {**burst.summary()["login_burst"], "samples": burst.error_samples},
            "rss_mb": {
                "start": rss_start,
                "after_warmup": rss_warm,
                "peak": max(rss_samples or [rss_end]),
                "end": rss_end,
                "growth_after_warmup_pct": round(100 * (rss_end - rss_warm) / rss_warm, 1),
            },
            "postgres_rss_mb_end": server.postgres_rss_mb(),
            "error_samples": dict(stats.error_samples),
            "machine": {
                "cpus": os.cpu_count(),
                "load_avg_1m_end": round(os.getloadavg()[0], 2),
                "python": sys.version.split()[0],
            },
        }
    finally:
        server.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # kept after a failure: it holds the server's log
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, after warm-up")
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--think-ms", type=float, default=1000.0, help="mean pause between steps")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--ingest-docs",
        type=int,
        default=0,
        help="small documents a further user uploads just before the run, so the worker "
        "ingests while the users work (issue #19: 100 users with the worker ingesting)",
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    for op, figures in result["operations"].items():
        print(
            f"{op:15} n={figures['requests']:6} err={figures['errors']:4} "
            f"p50={figures['p50_ms']:8.1f} p95={figures['p95_ms']:8.1f} p99={figures['p99_ms']:8.1f}",
            file=sys.stderr,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
