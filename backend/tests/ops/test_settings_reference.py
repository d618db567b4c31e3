"""The settings reference (docs/settings.md) is generated from the code and current, and every
variable that .env.example, the deploy blueprints and the docs set is one the code reads."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from app.core.settings import Settings
from app.search.config import SearchSettings

REPO = Path(__file__).resolve().parents[3]
GENERATOR = REPO / "tools" / "settings_reference.py"
# Read by the entrypoint, a library or the platform, not by the Settings classes.
NOT_SETTINGS = {
    "MIGRATE_ON_START",  # entrypoint.sh
    "GRACEFUL_TIMEOUT_S",  # entrypoint.sh
    "HF_HUB_OFFLINE",  # huggingface_hub: never reach a model hub
}


def _setting_names() -> set[str]:
    names = {name.upper() for name in Settings.model_fields}
    return names | {f"SEARCH_{name.upper()}" for name in SearchSettings.model_fields}


def test_settings_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, (
        f"{result.stderr.strip()} (docs/settings.md is generated from the settings classes "
        "and .env.example: run `make docs-settings` and commit the result)"
    )


def test_every_setting_is_documented_in_the_reference() -> None:
    reference = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert "(undocumented)" not in reference, (
        "a setting has no description: add a comment above it in .env.example, then "
        "`make docs-settings`"
    )
    for name in _setting_names():
        assert f"`{name}`" in reference


def _render_variables() -> set[str]:
    blueprint = yaml.safe_load((REPO / "render.yaml").read_text(encoding="utf-8"))
    names = {
        variable["key"]
        for service in blueprint["services"]
        for variable in service.get("envVars", [])
        if "key" in variable
    }
    for group in blueprint.get("envVarGroups", []):
        names |= {variable["key"] for variable in group.get("envVars", [])}
    return names


def _fly_variables() -> set[str]:
    config = tomllib.loads((REPO / "fly.toml").read_text(encoding="utf-8"))
    return set(config.get("env", {}))


def _compose_variables() -> set[str]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    names: set[str] = set()
    for service in compose["services"].values():
        if not str(service.get("image", "")).startswith("docchat-api"):
            continue  # the database and the static frontend have their own variables
        environment = service.get("environment", {})
        names |= set(environment if isinstance(environment, dict) else [])
    return names


def _doc_table_variables(doc: str) -> set[str]:
    """Backend variables named in the first column of the docs' tables."""
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", text, re.MULTILINE))


def test_every_blueprint_variable_is_read_by_the_code() -> None:
    known = _setting_names() | NOT_SETTINGS
    for source, names in (
        ("render.yaml", _render_variables()),
        ("fly.toml", _fly_variables()),
        ("docker-compose.yml", _compose_variables()),
        ("docs/deploy.md", _doc_table_variables("deploy.md")),
    ):
        assert names, source
        unknown = sorted(names - known)
        assert unknown == [], f"{source} sets variables no code reads: {unknown}"


def test_the_check_catches_a_stale_reference(tmp_path: Path) -> None:
    """The staleness check is not vacuous: a reference missing a setting is refused."""
    current = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    stale = tmp_path / "settings.md"
    stale.write_text(current.replace("| `S3_PREFIX` |", "| `S3_OLD_PREFIX` |"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "--output", str(stale)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "make docs-settings" in result.stderr
