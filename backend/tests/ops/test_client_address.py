"""The client address behind proxies: never the client-written left part of X-Forwarded-For.

The attack (issue #12): with FORWARDED_ALLOW_IPS="*" (fly.toml, render.yaml), uvicorn took the
left-most X-Forwarded-For entry, so logins sent with `X-Forwarded-For: 198.51.100.<i>, …` never
reached the per-address limit. The live tests start the real entrypoint (bash, uvicorn, the
app) with the proxy settings each deploy file sets, and send what that platform's proxies
deliver for a client who writes its own X-Forwarded-For."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from app.core.client_address import resolve_client
from tests.ops.test_entrypoint import Entrypoint, Launcher
from tests.ops.test_faults import module_database

REPO = Path(__file__).resolve().parents[3]
PROXY_SETTINGS = ("FORWARDED_ALLOW_IPS", "CLIENT_IP_HEADER", "TRUSTED_PROXY_HOPS")
REAL_CLIENT = "192.0.2.10"
OTHER_CLIENT = "192.0.2.77"


def _headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").lower().encode(), v.encode()) for name, v in values.items()]


@pytest.mark.parametrize(
    ("headers", "header", "hops", "expected"),
    [
        # No proxy configured: the peer, whatever the client wrote.
        (_headers(X_Forwarded_For="198.51.100.1, 203.0.113.9"), None, 0, "10.0.0.2"),
        # One proxy appends the client: the right-most entry.
        (_headers(X_Forwarded_For="198.51.100.1, 203.0.113.9"), None, 1, "203.0.113.9"),
        # Two (CDN + load balancer): second from the right.
        (_headers(X_Forwarded_For="198.51.100.1, 203.0.113.9, 104.16.0.1"), None, 2, "203.0.113.9"),
        # Fewer entries than hops: the request entered behind the outer proxy.
        (_headers(X_Forwarded_For="203.0.113.9"), None, 2, "203.0.113.9"),
        # Several header lines form one list; ports and IPv6 brackets are dropped.
        (
            [(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-for", b"203.0.113.9:4711")],
            None,
            1,
            "203.0.113.9",
        ),
        (_headers(X_Forwarded_For="[2001:db8::7]:443"), None, 1, "2001:db8::7"),
        # Garbage where the trusted proxy's entry should be: the peer, not the garbage.
        (_headers(X_Forwarded_For="198.51.100.1, not-an-ip"), None, 1, "10.0.0.2"),
        # The platform's own header wins over X-Forwarded-For ...
        (
            _headers(Fly_Client_IP="203.0.113.9", X_Forwarded_For="198.51.100.1"),
            b"fly-client-ip",
            1,
            "203.0.113.9",
        ),
        # ... and when it is missing (a health check inside the platform), the hops decide.
        (_headers(X_Forwarded_For="198.51.100.1"), b"fly-client-ip", 0, "10.0.0.2"),
    ],
)
def test_resolve_client(
    headers: list[tuple[bytes, bytes]], header: bytes | None, hops: int, expected: str
) -> None:
    assert (
        resolve_client(headers, "10.0.0.2", client_ip_header=header, trusted_proxy_hops=hops)
        == expected
    )


# --------------------------------------------------------------------------- live, per platform


def _render_env() -> dict[str, str]:
    services = yaml.safe_load((REPO / "render.yaml").read_text(encoding="utf-8"))["services"]
    web = next(s for s in services if s["type"] == "web")
    return {e["key"]: str(e["value"]) for e in web["envVars"] if "value" in e}


def _fly_env() -> dict[str, str]:
    fly = tomllib.loads((REPO / "fly.toml").read_text(encoding="utf-8"))
    return {k: str(v) for k, v in fly["env"].items()}


def _compose_env() -> dict[str, str]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    env = compose["services"]["api"]["environment"]
    # ${VAR:-default} as compose would resolve it with VAR unset.
    return {
        k: str(v).split(":-", 1)[1].rstrip("}") if ":-" in str(v) else str(v)
        for k, v in env.items()
    }


@dataclass(frozen=True)
class Platform:
    name: str
    env: dict[str, str]

    def delivered(self, client: str, written_by_client: str) -> dict[str, str]:
        """The headers that reach the app when `client` sends X-Forwarded-For itself."""
        if self.name == "render":  # Cloudflare, then Render's proxy
            return {
                "True-Client-IP": client,
                "X-Forwarded-For": f"{written_by_client}, {client}, 104.16.0.1",
                "X-Forwarded-Proto": "https",
            }
        if self.name == "fly":  # Fly's proxy, which also appends the app's own address
            return {
                "Fly-Client-IP": client,
                "X-Forwarded-For": f"{written_by_client}, {client}, 66.241.124.1",
                "X-Forwarded-Proto": "https",
            }
        return {"X-Forwarded-For": written_by_client}  # compose: no proxy, the peer is the client


PLATFORMS = [
    Platform("render", _render_env()),
    Platform("fly", _fly_env()),
    Platform("compose", _compose_env()),
]


@pytest.fixture(scope="module")
def servers(
    pg_admin_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Entrypoint]]:
    launch = Launcher(tmp_path_factory.mktemp("client-address"))
    databases = [module_database(pg_admin_url, f"addr{i}") for i in range(len(PLATFORMS))]
    try:
        started = {}
        for platform, database in zip(PLATFORMS, databases, strict=True):
            proxy_env = {k: v for k, v in platform.env.items() if k in PROXY_SETTINGS}
            started[platform.name] = launch(
                next(database),
                "web",
                **proxy_env,
                MIGRATE_ON_START="false",
                RUN_WORKER="false",
                LOGIN_RATE_LIMIT_PER_IP="5/minute",
                REGISTER_RATE_LIMIT_PER_IP="3/hour",
            )
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        launch.close()
        for database in databases:
            next(database, None)


def _login(base_url: str, headers: dict[str, str], i: int) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"email": f"guess{i}@example.com", "password": "wrong-password"},
        headers=headers,
        timeout=10,
    )


@pytest.mark.parametrize("platform", PLATFORMS, ids=[p.name for p in PLATFORMS])
def test_forged_forwarded_for_does_not_escape_the_per_address_limit(
    servers: dict[str, Entrypoint], platform: Platform
) -> None:
    base_url = f"http://127.0.0.1:{servers[platform.name].port}"
    statuses = [
        _login(base_url, platform.delivered(REAL_CLIENT, f"198.51.100.{i}, 203.0.113.9"), i)
        for i in range(8)
    ]
    codes = [r.status_code for r in statuses]
    assert codes == [401] * 5 + [429] * 3, (platform.env, codes)
    assert statuses[-1].json()["error"]["code"] == "rate_limited"
    if platform.name != "compose":
        # The limit belongs to the real client, not to the proxy every request comes through.
        other = _login(base_url, platform.delivered(OTHER_CLIENT, "198.51.100.1"), 99)
        assert other.status_code == 401, other.text


@pytest.mark.parametrize("platform", PLATFORMS, ids=[p.name for p in PLATFORMS])
def test_sign_up_probing_stays_limited_whatever_x_forwarded_for_says(
    servers: dict[str, Entrypoint], platform: Platform
) -> None:
    """A 409 tells that an address has an account (docs/architecture.md): the per-address
    sign-up limit is what bounds that probing, so it must not be escapable either."""
    base_url = f"http://127.0.0.1:{servers[platform.name].port}"
    codes = [
        httpx.post(
            f"{base_url}/api/v1/auth/register",
            json={
                "email": f"probe{i}@example.com",
                "password": "correct-horse-1",
                "full_name": "P",
            },
            headers=platform.delivered(REAL_CLIENT, f"198.51.100.{i}, 203.0.113.9"),
            timeout=10,
        ).status_code
        for i in range(5)
    ]
    assert codes == [201] * 3 + [429] * 2, (platform.name, codes)


def test_no_deploy_file_lets_uvicorn_trust_forwarded_headers() -> None:
    for platform in PLATFORMS:
        assert "FORWARDED_ALLOW_IPS" not in platform.env, platform.name


def test_forwarded_allow_ips_is_refused_at_startup() -> None:
    from app.core.settings import ConfigError, Settings

    settings = Settings(_env_file=None, forwarded_allow_ips=["*"])
    with pytest.raises(ConfigError, match="^FORWARDED_ALLOW_IPS .*TRUSTED_PROXY_HOPS"):
        settings.validate_for_startup()
