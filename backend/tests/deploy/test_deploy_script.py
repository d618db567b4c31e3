"""scripts/deploy.sh (what CI's deploy and rollback jobs run) against a local server playing
Render's deploy hooks and the API's /health over real HTTP: the image goes out by digest as a
second query parameter of the hook URL, and the script waits for /health to report the
commit it deployed."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "deploy.sh"
NEW_SHA = "a" * 40
OLD_SHA = "b" * 40
IMAGE = "ghcr.io/example/docchat@sha256:" + "c" * 64


class FakePlatform:
    """Deploy hooks that record their calls; /health serves the old commit until the API's
    hook has been called (when `goes_live`)."""

    def __init__(self, *, goes_live: bool) -> None:
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        self.goes_live = goes_live
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                platform.calls.append((parts.path, parse_qs(parts.query)))
                self._answer(202, {"deploy": "queued"})

            def do_GET(self) -> None:
                live = platform.goes_live and any(p == "/deploy/srv-api" for p, _ in platform.calls)
                self._answer(200, {"status": "ok", "version": NEW_SHA if live else OLD_SHA})

            def _answer(self, status: int, body: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def platform(request: pytest.FixtureRequest) -> Iterator[FakePlatform]:
    fake = FakePlatform(goes_live=getattr(request, "param", True))
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _deploy(platform: FakePlatform, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    variables.update(
        DEPLOY_SHA=NEW_SHA,
        IMAGE_REF=IMAGE,
        RENDER_DEPLOY_HOOK_URL=f"{platform.url}/deploy/srv-api?key=api-secret",
        RENDER_WORKER_DEPLOY_HOOK_URL=f"{platform.url}/deploy/srv-worker?key=worker-secret",
        API_URL=platform.url + "/",
        HEALTH_POLL_S="0.1",
        HEALTH_TIMEOUT_S="20",
    )
    variables.update(env)
    return subprocess.run(
        ["bash", str(SCRIPT)], env=variables, capture_output=True, text=True, timeout=60
    )


def test_deploys_the_image_by_digest_and_waits_for_its_commit(platform: FakePlatform) -> None:
    result = _deploy(platform)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path for path, _ in platform.calls] == ["/deploy/srv-api", "/deploy/srv-worker"]
    for (_, query), key in zip(platform.calls, ("api-secret", "worker-secret"), strict=True):
        # `&imgURL=`: the hook's own ?key= survives, and the image arrives whole.
        assert query == {"key": [key], "imgURL": [IMAGE]}
    assert f"live: {NEW_SHA}" in result.stdout


@pytest.mark.parametrize("platform", [False], indirect=True)
def test_fails_when_health_never_reports_the_commit(platform: FakePlatform) -> None:
    result = _deploy(platform, HEALTH_TIMEOUT_S="1")
    assert result.returncode == 1
    assert f"reports {OLD_SHA}, not {NEW_SHA}" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("IMAGE_REF", "ghcr.io/example/docchat:main", "by digest"),
        ("IMAGE_REF", "ghcr.io/example/docchat:" + NEW_SHA, "by digest"),
        ("DEPLOY_SHA", "main", "full commit SHA"),
    ],
)
def test_refuses_a_movable_reference(
    platform: FakePlatform, variable: str, value: str, message: str
) -> None:
    result = _deploy(platform, **{variable: value})
    assert result.returncode == 1
    assert message in result.stderr
    assert platform.calls == []  # nothing was deployed


def test_without_a_platform_it_warns_and_deploys_nothing(platform: FakePlatform) -> None:
    result = _deploy(platform, RENDER_DEPLOY_HOOK_URL="", API_URL="")
    assert result.returncode == 0
    assert "nothing deployed" in result.stdout
    assert platform.calls == []
