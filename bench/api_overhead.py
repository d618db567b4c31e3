"""API overhead: /health throughput vs. bare Starlette, and chat time-to-first-token.

    python bench/api_overhead.py [--duration 15] [--connections 64] [--messages 120]

1. Throughput. In a fresh embedded PostgreSQL (temporary directory) the real app runs as in
   production, `docchat serve` (uvicorn, 1 process, LOG_LEVEL=INFO: one JSON access line per
   request to stdout except the quiet /health and /metrics, redirected to a file; in-process
   job worker on), and next to it
   `hello_app` below, a bare Starlette app answering the same JSON, under uvicorn with the
   same options (access_log off, proxy headers, default loop/http), and a prototype of the fix
   (`health_fast_route_app`: /health as a plain Starlette route; worker off). All are driven by the
   same load generator, `wrk -t1 -c64 -d15s` (Debian's wrk 4.1; an asyncio httpx generator
   when wrk is missing), alternating real/bare/real/bare; rps is the mean of the rounds.
2. Time to first token. The real app (same process as above) is configured with
   OPENAI_BASE_URL pointing at tests/fakes/openai_server.py run as its own process (answers
   at once, no delay), LLM_PROVIDER=openai, local embeddings. One user uploads 30 SciFact
   abstracts as Markdown (ingested by the in-process worker). Each message is the first of
   a new chat (chat creation not timed); the time runs from sending POST
   /api/v1/chats/{id}/messages to the first `text-delta` SSE event: auth, storing the
   question, query embedding, hybrid retrieval, prompt build, the stub's first token.
   The same questions through /api/v1/search and the embedder's own time per query
   (measured in this process, same model) give a breakdown. A smaller pass measures
   follow-up messages (second message of a chat: follow-up rewriting by the LLM). The same
   first messages are then timed on a second copy of the real app started with
   OMP_NUM_THREADS=1 (torch on one thread; no worker), and the embedder is timed with the
   default thread count and with one thread, interleaved, in this process.

Between the two, authenticated throughput: GET /api/v1/auth/me with a bearer token (/health
never authenticates; /auth/me does the token check and the one user-and-session query every
authenticated route does), same load generator.

The last line is one JSON object: health_rps, starlette_rps, ratio, auth_me_rps, ttft_p50_ms,
ttft_p95_ms (as deployed), prototype_*, ttft_omp_num_threads_1, embed_query* and the rest of
the breakdown. Not a test: the machine's other load affects every number.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def _hello(request: Any) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": "dev"})


hello_app = Starlette(routes=[Route("/health", _hello)])


def health_fast_route_app() -> Any:
    """Prototype of the proposed fix: the real app, with /health answered by a plain Starlette
    route placed first (no FastAPI dependency solving / response validation); all middleware
    (request id, metrics, security headers, CORS) still runs. Served with --factory."""
    from app.main import create_app

    app = create_app()
    version = app.state.settings.git_sha

    async def fast_health(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": version})

    app.router.routes.insert(0, Route("/health", fast_health, methods=["GET"]))
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def run_wrk(
    url: str, duration: int, connections: int, headers: dict[str, str] | None = None
) -> float:
    header_args = [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")]
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *header_args, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")
    assert match, out
    return float(match.group(1))


async def _httpx_load(
    url: str, duration: int, connections: int, headers: dict[str, str] | None = None
) -> float:
    import httpx

    done = 0
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:

        async def one() -> None:
            nonlocal done
            while time.monotonic() < stop:
                (await client.get(url)).raise_for_status()
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(connections)))
        return done / (time.monotonic() - started)


def load(url: str, duration: int, connections: int, headers: dict[str, str] | None = None) -> float:
    if shutil.which("wrk"):
        return run_wrk(url, duration, connections, headers)
    return asyncio.run(_httpx_load(url, duration, connections, headers))


def sse_ttft(client: Any, url: str, body: dict[str, Any], headers: dict[str, str]) -> float:
    """Seconds from sending the request to the first text-delta event; reads to the end."""
    started = time.perf_counter()
    first = None
    with client.stream("POST", url, json=body, headers=headers) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and line.startswith("data: ") and '"text-delta"' in line:
                first = time.perf_counter() - started
    if first is None:
        raise SystemExit("no text-delta event in the answer stream")
    return first


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--followups", type=int, default=30)
    parser.add_argument("--documents", type=int, default=30)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import common
    import httpx
    from common import log, summary_ms

    from app.core import migrate
    from app.core.embedded_pg import start_embedded

    work = Path(tempfile.mkdtemp(prefix="docchat-api-"))
    # registered before the server starts, so it runs after the server's own exit hook
    atexit.register(shutil.rmtree, work, True)
    url = start_embedded(work, cleanup_mode="stop")
    migrate.upgrade(url)
    procs: list[subprocess.Popen[bytes]] = []
    venv_bin = Path(sys.executable).parent
    try:
        stub_port, app_port, hello_port = free_port(), free_port(), free_port()
        stub = subprocess.Popen(
            [
                sys.executable,
                str(common.ROOT / "backend" / "tests" / "fakes" / "openai_server.py"),
                "--port",
                str(stub_port),
                "--delay",
                "0",
                "--reply",
                "Biomaterials can be engineered to direct cell fate [1]. Evidence is mixed [2].",
            ],
            cwd=common.ROOT / "backend",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(stub)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "JWT_SECRET": common.BENCH_JWT_SECRET,
            "LOG_LEVEL": "INFO",
            "ENVIRONMENT": "development",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{stub_port}/v1",
            "OPENAI_API_KEY": "sk-bench-0000000000",
            "LLM_PROVIDER": "openai",
            "LLM_MODEL": "gpt-fake",
            "EMBEDDING_PROVIDER": "local",
            "DATA_DIR": str(work),
            # One user sends hundreds of messages and searches in a row: far past the limits
            # meant for people, which stay on (their check is part of every request's cost).
            "CHAT_RATE_LIMIT": "100000/minute",
            "SEARCH_RATE_LIMIT": "100000/minute",
        }
        app_log = (work / "app.log").open("wb")
        real = subprocess.Popen(
            [str(venv_bin / "docchat"), "serve", "--host", "127.0.0.1", "--port", str(app_port)],
            cwd=common.ROOT / "backend",
            env=env,
            stdout=app_log,
            stderr=subprocess.STDOUT,
        )
        procs.append(real)
        hello = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api_overhead:hello_app",
                "--app-dir",
                str(Path(__file__).resolve().parent),
                "--host",
                "127.0.0.1",
                "--port",
                str(hello_port),
                "--no-access-log",
                "--proxy-headers",
                "--log-level",
                "info",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(hello)
        fast_port = free_port()
        fast = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api_overhead:health_fast_route_app",
                "--factory",
                "--app-dir",
                str(Path(__file__).resolve().parent),
                "--host",
                "127.0.0.1",
                "--port",
                str(fast_port),
                "--no-access-log",
                "--proxy-headers",
                "--log-level",
                "info",
            ],
            cwd=common.ROOT / "backend",
            env={**env, "RUN_WORKER": "false"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(fast)
        fast_url = f"http://127.0.0.1:{fast_port}"
        omp1_port = free_port()
        omp1 = subprocess.Popen(
            [
                str(venv_bin / "docchat"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(omp1_port),
                "--no-worker",
            ],
            cwd=common.ROOT / "backend",
            env={**env, "OMP_NUM_THREADS": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(omp1)
        omp1_url = f"http://127.0.0.1:{omp1_port}"
        real_url, hello_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}"
        wait_http(real_url + "/health")
        wait_http(hello_url + "/health")
        wait_http(fast_url + "/health")
        wait_http(omp1_url + "/health")
        wait_http(f"http://127.0.0.1:{stub_port}/v1/models")
        log("servers up")

        # ---------------------------------------------------------------- throughput
        rps: dict[str, list[float]] = {"app": [], "starlette": [], "app_fast_health_route": []}
        load(real_url + "/health", 3, args.connections)  # warm-up
        load(hello_url + "/health", 3, args.connections)
        for _ in range(args.rounds):
            rps["app"].append(load(real_url + "/health", args.duration, args.connections))
            rps["starlette"].append(load(hello_url + "/health", args.duration, args.connections))
            rps["app_fast_health_route"].append(
                load(fast_url + "/health", args.duration, args.connections)
            )
            log("rps", rps)
        health_rps = sum(rps["app"]) / len(rps["app"])
        starlette_rps = sum(rps["starlette"]) / len(rps["starlette"])

        # ---------------------------------------------------------------- time to first token
        client = httpx.Client(base_url=real_url, timeout=60)
        email, password = "bench@example.com", "correct horse battery staple 42"
        client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "full_name": "Bench"},
        ).raise_for_status()
        tokens = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        tokens.raise_for_status()
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        # /health never authenticates: GET /auth/me is the cheapest route that does (token,
        # user and session check in one query), so it shows what auth costs per request.
        load(real_url + "/api/v1/auth/me", 3, args.connections, headers)  # warm-up
        me_rps = [
            load(real_url + "/api/v1/auth/me", args.duration, args.connections, headers)
            for _ in range(args.rounds)
        ]
        log("auth/me rps", me_rps)
        abstracts = common.scifact_abstracts()[: args.documents]
        files = [
            (
                "files",
                (
                    f"paper-{a['_id']}.md",
                    f"# {a['title']}\n\n{a['text']}\n".encode(),
                    "text/markdown",
                ),
            )
            for a in abstracts
        ]
        for start in range(0, len(files), 20):  # MAX_FILES_PER_REQUEST
            client.post(
                "/api/v1/documents", files=files[start : start + 20], headers=headers
            ).raise_for_status()
        deadline = time.monotonic() + 600
        while True:
            docs = client.get("/api/v1/documents", headers=headers).json()
            states = [d["status"] for d in (docs["items"] if isinstance(docs, dict) else docs)]
            if all(s in ("ready", "failed") for s in states):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"ingestion did not finish: {states}")
            time.sleep(1)
        log("documents", {s: states.count(s) for s in set(states)})

        queries = common.scifact_queries()

        def chat_pass(client: Any, followups: int) -> tuple[list[float], list[float]]:
            ttft: list[float] = []
            followup: list[float] = []
            for n in range(args.messages + 5):
                chat = client.post("/api/v1/chats", json={"title": f"q{n}"}, headers=headers)
                chat.raise_for_status()
                chat_id = chat.json()["id"]
                q = queries[n % len(queries)]
                elapsed = sse_ttft(
                    client, f"/api/v1/chats/{chat_id}/messages", {"content": q}, headers
                )
                if n >= 5:
                    ttft.append(elapsed)
                if n < followups:
                    followup.append(
                        sse_ttft(
                            client,
                            f"/api/v1/chats/{chat_id}/messages",
                            {"content": "and what about the second one?"},
                            headers,
                        )
                    )
            return ttft, followup

        ttft, followup = chat_pass(client, args.followups)
        with httpx.Client(base_url=omp1_url, timeout=60) as omp1_client:
            ttft_omp1, _ = chat_pass(omp1_client, 0)
        search: list[float] = []
        for n in range(5, args.messages + 5):
            t = time.perf_counter()
            client.post(
                "/api/v1/search", json={"query": queries[n % len(queries)], "k": 6}, headers=headers
            ).raise_for_status()
            search.append(time.perf_counter() - t)
        import torch

        from app.ai.embeddings import LocalEmbedder

        embedder = LocalEmbedder()
        embedder.embed_query("warm up")
        embed: list[float] = []
        embed_1: list[float] = []
        default_threads = torch.get_num_threads()
        for n in range(5, args.messages + 5):  # interleaved: default threads, then 1 thread
            torch.set_num_threads(default_threads)
            t = time.perf_counter()
            embedder.embed_query(queries[n % len(queries)])
            embed.append(time.perf_counter() - t)
            torch.set_num_threads(1)
            t = time.perf_counter()
            embedder.embed_query(queries[n % len(queries)])
            embed_1.append(time.perf_counter() - t)
        client.close()
        ttft_s, search_s, embed_s = summary_ms(ttft), summary_ms(search), summary_ms(embed)
        follow_s = summary_ms(followup[1:])
        ttft_omp1_s, embed_1_s = summary_ms(ttft_omp1), summary_ms(embed_1)
        log("ttft OMP_NUM_THREADS=1", ttft_omp1_s, "embed 1 thread", embed_1_s)
        log("ttft", ttft_s, "search", search_s, "embed", embed_s, "followup", follow_s)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    result = {
        "health_rps": round(health_rps, 1),
        "starlette_rps": round(starlette_rps, 1),
        "ratio": round(health_rps / starlette_rps, 3),
        "auth_me_rps": round(sum(me_rps) / len(me_rps), 1),
        "ttft_p50_ms": ttft_s["p50_ms"],
        "ttft_p95_ms": ttft_s["p95_ms"],
        "rps_rounds": rps,
        "prototype_fast_health_route_rps": round(
            sum(rps["app_fast_health_route"]) / args.rounds, 1
        ),
        "prototype_ratio": round(
            sum(rps["app_fast_health_route"]) / args.rounds / starlette_rps, 3
        ),
        "load_generator": f"wrk -t1 -c{args.connections} -d{args.duration}s"
        if shutil.which("wrk")
        else "httpx",
        "ttft": ttft_s,
        "followup_ttft": follow_s,
        "search_api_k6": search_s,
        "embed_query": {**embed_s, "torch_threads": default_threads},
        "ttft_omp_num_threads_1": ttft_omp1_s,
        "embed_query_1_thread": embed_1_s,
    }
    (work / "result.json").write_text(json.dumps(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
