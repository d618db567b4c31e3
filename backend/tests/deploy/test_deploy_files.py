"""Assertions on the deploy files: Dockerfile, .dockerignore, entrypoint, compose, platform
blueprints and the CI workflow. Each test guards a property that breaks production (or the
supply chain) when lost, so the files cannot silently drift from what the docs promise."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "backend" / "Dockerfile"
ENTRYPOINT = REPO / "backend" / "entrypoint.sh"
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"

SECRET_NAMES = ("DATABASE_URL", "DATABASE_DIRECT_URL", "OPENAI_API_KEY", "SENTRY_DSN")
SECRET_WORD = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|DSN|PRIVATE", re.IGNORECASE)
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


# --------------------------------------------------------------------------- helpers


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        buffer = ""
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def _dockerignore_patterns() -> list[tuple[str, bool]]:
    patterns = []
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            patterns.append((line.lstrip("!").rstrip("/"), negate))
    return patterns


def _dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern also excludes everything
    below a matching directory. `**` matches any number of path segments."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern, negate in _dockerignore_patterns():
        candidates = {pattern}
        if pattern.startswith("**/"):
            candidates.add(pattern[3:])
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not negate
    return excluded


def _workflow() -> dict[str, Any]:
    data: dict[Any, Any] = _load_yaml(WORKFLOW)
    # YAML 1.1 reads the bare key `on` as boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def _entrypoint_roles() -> set[str]:
    text = ENTRYPOINT.read_text(encoding="utf-8")
    return set(re.findall(r"^\s+([a-z][a-z-]*)\)\s*$", text, re.MULTILINE))


# --------------------------------------------------------------------------- Dockerfile


def test_base_image_is_python_311_slim_pinned_by_tag_and_digest() -> None:
    froms = [args for kw, args in _dockerfile_instructions() if kw == "FROM"]
    assert len(froms) >= 2, "expected a multi-stage build (builder + runtime)"
    for args in froms:
        image = args.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}", image), image
    assert len({args.split()[0] for args in froms}) == 1, "builder and runtime must match"


def test_final_stage_runs_as_non_root_before_entrypoint() -> None:
    stage = _final_stage()
    users = [(i, args) for i, (kw, args) in enumerate(stage) if kw == "USER"]
    assert users, "the runtime stage has no USER"
    index, user = users[-1]
    assert user.split(":")[0] not in {"root", "0"}
    entry = next(i for i, (kw, _) in enumerate(stage) if kw == "ENTRYPOINT")
    assert index < entry


def test_healthcheck_probes_health_without_curl() -> None:
    checks = [args for kw, args in _final_stage() if kw == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/health" in checks[0]
    assert "/ready" not in checks[0]
    assert "curl" not in checks[0]
    assert "urllib" in checks[0]
    assert "PORT" in checks[0], "the probe must follow $PORT"


def test_git_sha_is_build_arg_env_and_oci_label() -> None:
    stage = _final_stage()
    assert any(kw == "ARG" and args.split("=")[0] == "GIT_SHA" for kw, args in stage)
    assert any(kw == "ENV" and re.search(r"\bGIT_SHA=\$\{?GIT_SHA\}?", args) for kw, args in stage)
    labels = " ".join(args for kw, args in stage if kw == "LABEL")
    assert re.search(r"org\.opencontainers\.image\.revision=\"?\$\{?GIT_SHA\}?", labels)


def test_runtime_env_is_offline_and_listens_on_port_8000() -> None:
    env = " ".join(args for kw, args in _final_stage() if kw == "ENV")
    assert re.search(r"\bHF_HUB_OFFLINE=1\b", env)
    assert re.search(r"\bPORT=8000\b", env)
    assert any(kw == "EXPOSE" and args == "8000" for kw, args in _final_stage())


def test_torch_is_the_cpu_build_pinned_to_the_project_version() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "download.pytorch.org/whl/cpu" in text
    assert re.search(r"pip install --index-url \S+ torch==2\.13\.0", text)
    pyproject = (REPO / "backend" / "pyproject.toml").read_text(encoding="utf-8")
    assert '"torch==2.13.0"' in pyproject, "Dockerfile and pyproject disagree on torch"


def test_no_secrets_in_build_args_env_or_copied_files() -> None:
    for kw, args in _dockerfile_instructions():
        if kw in {"ARG", "ENV"}:
            names = re.findall(r"(?:^|\s)([A-Z_][A-Z0-9_]*)=", args) or [args.split("=")[0]]
            for name in names:
                assert not SECRET_WORD.search(name), f"{kw} {name} would bake a secret in"
        if kw in {"COPY", "ADD"}:
            assert ".env" not in args
            assert "id_rsa" not in args


def test_copied_sources_exist_and_are_not_dockerignored() -> None:
    for kw, args in _dockerfile_instructions():
        if kw != "COPY" or "--from=" in args:
            continue
        sources = shlex.split(args)[:-1]
        for source in (s for s in sources if not s.startswith("--")):
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            assert not _dockerignored(source), f"COPY {source}: excluded by .dockerignore"


def test_entrypoint_is_the_repo_script_in_exec_form() -> None:
    stage = _final_stage()
    copies = [args for kw, args in stage if kw == "COPY" and "backend/entrypoint.sh" in args]
    assert copies, "backend/entrypoint.sh is not copied into the runtime stage"
    target = shlex.split(copies[0])[-1]
    entry = next(args for kw, args in stage if kw == "ENTRYPOINT")
    assert json.loads(entry) in ([target], [Path(target).name])
    cmd = next(args for kw, args in stage if kw == "CMD")
    assert json.loads(cmd) == ["web"]


# --------------------------------------------------------------------------- .dockerignore


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "frontend/node_modules/next/package.json",
        "tools/node_modules/x/index.js",
        ".git/HEAD",
        ".docchat/pgdata/PG_VERSION",
        "test-results/report.json",
        "frontend/test-results/a.png",
        ".env",
        ".env.production",
        "backend/.env",
        "backend/app/__pycache__/main.cpython-311.pyc",
    ],
)
def test_dockerignore_excludes_local_state_and_secrets(path: str) -> None:
    assert _dockerignored(path), path


@pytest.mark.parametrize(
    "path", ["backend/app/main.py", "backend/pyproject.toml", "frontend/package.json"]
)
def test_dockerignore_keeps_build_inputs(path: str) -> None:
    assert not _dockerignored(path), path


# --------------------------------------------------------------------------- entrypoint


def test_entrypoint_is_strict_executable_bash() -> None:
    text = ENTRYPOINT.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(ENTRYPOINT, os.X_OK), "chmod +x backend/entrypoint.sh"
    result = subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


def test_entrypoint_web_role_leaves_proxy_headers_to_the_app_and_has_no_access_log() -> None:
    text = ENTRYPOINT.read_text(encoding="utf-8")
    web = text[text.index("  web)") : text.index(";;", text.index("  web)"))]
    assert web.index("docchat migrate") < web.index("exec uvicorn app.main:app")
    for flag in ("--host 0.0.0.0", "--no-proxy-headers", "--no-access-log"):
        assert flag in web
    assert '--port "${PORT' in web
    # uvicorn with FORWARDED_ALLOW_IPS="*" takes the client-written left-most X-Forwarded-For.
    assert "forwarded-allow-ips" not in web
    assert "--proxy-headers" not in web.replace("--no-proxy-headers", "")
    assert {"web", "worker", "migrate"} <= _entrypoint_roles()


# --------------------------------------------------------------------------- compose


def _compose() -> dict[str, Any]:
    return dict(_load_yaml(REPO / "docker-compose.yml"))


def test_compose_db_is_pgvector_with_healthcheck_and_volume() -> None:
    db = _compose()["services"]["db"]
    assert db["image"] == "pgvector/pgvector:pg17"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])


def test_compose_api_and_worker_share_the_image_and_wait_for_the_db() -> None:
    services = _compose()["services"]
    api, worker = services["api"], services["worker"]
    for svc in (api, worker):
        assert svc["build"]["dockerfile"] == "backend/Dockerfile"
        assert svc["build"]["context"] == "."
        assert svc["depends_on"]["db"]["condition"] == "service_healthy"
        assert any(e == ".env" or e.get("path") == ".env" for e in svc["env_file"])
        assert "@db:5432/" in svc["environment"]["DATABASE_URL"]
    assert api["image"] == worker["image"]
    assert api["environment"]["RUN_WORKER"] == "false"
    assert worker["command"] == ["worker"]
    assert api["command"] == ["web"]


def test_compose_has_no_hardcoded_jwt_secret() -> None:
    for name, svc in _compose()["services"].items():
        value = (svc.get("environment") or {}).get("JWT_SECRET")
        if value is not None:
            assert re.fullmatch(r"\$\{JWT_SECRET:\?[^}]+\}", value), f"{name}: {value}"


def test_compose_roles_exist_in_entrypoint() -> None:
    roles = _entrypoint_roles()
    for name, svc in _compose()["services"].items():
        if svc.get("build", {}).get("dockerfile") == "backend/Dockerfile":
            assert svc["command"][0] in roles, name


# --------------------------------------------------------------------------- platforms


def _render_services() -> dict[str, dict[str, Any]]:
    data = _load_yaml(REPO / "render.yaml")
    return {svc["type"]: svc for svc in data["services"]}


def _render_env(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's variables, those of its environment groups included."""
    groups = {
        group["name"]: group["envVars"]
        for group in _load_yaml(REPO / "render.yaml").get("envVarGroups", [])
    }
    env: dict[str, dict[str, Any]] = {}
    for entry in service["envVars"]:
        if "fromGroup" in entry:
            env.update({e["key"]: e for e in groups[entry["fromGroup"]]})
        else:
            env[entry["key"]] = entry
    return env


def test_render_runs_the_ci_image_and_migrates_before_deploy() -> None:
    """Image-backed services: Render never builds the repository, so the only way code gets
    there is the tested image CI deploys by digest (scripts/deploy.sh)."""
    for service in _render_services().values():
        assert service["runtime"] == "image"
        assert re.fullmatch(r"ghcr\.io/[\w.-]+/[\w.-]+:main", service["image"]["url"])
        assert "dockerfilePath" not in service
        assert service["preDeployCommand"] == "docchat migrate"
    assert _render_services()["web"]["healthCheckPath"] == "/health"


def test_render_secrets_are_not_synced_and_jwt_secret_is_generated() -> None:
    env = _render_env(_render_services()["web"])
    for key in (*SECRET_NAMES, "FRONTEND_ORIGIN"):
        assert env[key].get("sync") is False, f"{key} must be `sync: false`"
        assert "value" not in env[key]
    assert env["JWT_SECRET"].get("generateValue") is True
    for key, entry in env.items():
        if SECRET_WORD.search(key):
            assert "value" not in entry, f"{key} has a literal value in render.yaml"


def test_render_worker_runs_the_worker_role_with_the_web_secrets() -> None:
    worker = _render_services()["worker"]
    assert worker["dockerCommand"] in _entrypoint_roles()
    assert worker["dockerCommand"] == "worker"
    env = _render_env(worker)
    for key in ("DATABASE_URL", "DATABASE_DIRECT_URL"):
        assert "value" not in env[key]
        assert env[key]["fromService"]["envVarKey"] == key
    # Not read by the worker, but a rollback to a release that required them needs them.
    for key in ("JWT_SECRET", "FRONTEND_ORIGIN"):
        assert env[key]["fromService"]["envVarKey"] == key
    assert _render_services()["web"]["dockerCommand"] in _entrypoint_roles()


def test_render_api_and_worker_share_one_definition_of_the_embedding_settings() -> None:
    """Search filters by embedding model: the two services take it from one group, and
    neither overrides it."""
    services = _render_services()
    for service in services.values():
        assert {"fromGroup": "docchat-shared"} in service["envVars"]
        own = {e.get("key") for e in service["envVars"]}
        assert not own & {"EMBEDDING_PROVIDER", "EMBEDDING_MODEL", "ORIGINALS_STORAGE"}
    shared = _render_env(services["web"])
    assert shared["EMBEDDING_PROVIDER"] == _render_env(services["worker"])["EMBEDDING_PROVIDER"]


def test_fly_release_command_migrates_and_checks_health() -> None:
    fly = tomllib.loads((REPO / "fly.toml").read_text(encoding="utf-8"))
    assert fly["deploy"]["release_command"] == "docchat migrate"
    assert (REPO / fly["build"]["dockerfile"]).is_file()
    assert set(fly["processes"]) == {"web", "worker"}
    assert set(fly["processes"].values()) <= _entrypoint_roles()
    assert fly["http_service"]["processes"] == ["web"]
    assert [c["path"] for c in fly["http_service"]["checks"]] == ["/health"]


@pytest.mark.parametrize("path", ["railway.json", "tools/railway/worker.json"])
def test_railway_configs_build_the_dockerfile(path: str) -> None:
    data = json.loads((REPO / path).read_text(encoding="utf-8"))
    assert data["build"]["builder"] == "DOCKERFILE"
    assert (REPO / data["build"]["dockerfilePath"]).is_file()
    deploy = data["deploy"]
    assert deploy["preDeployCommand"] == ["docchat migrate"]
    role = shlex.split(deploy["startCommand"])
    assert role[0] == "docchat-entrypoint"
    assert role[1] in _entrypoint_roles()
    if role[1] == "web":
        assert deploy["healthcheckPath"] == "/health"


# --------------------------------------------------------------------------- CI workflow


def test_workflow_triggers_and_top_level_permissions() -> None:
    wf = _workflow()
    assert wf["on"]["push"]["branches"] == ["main"]
    assert "pull_request" in wf["on"]
    assert "pull_request_target" not in wf["on"], "never run PR code with secrets"
    assert wf["permissions"] == {"contents": "read"}
    cancel = wf["concurrency"]["cancel-in-progress"]
    assert "pull_request" in str(cancel), "cancel superseded runs for PRs only"


def test_jobs_form_the_lint_test_build_deploy_chain() -> None:
    jobs = _workflow()["jobs"]
    assert "needs" not in jobs["lint"]
    assert jobs["test"]["needs"] in ("lint", ["lint"])
    assert jobs["build"]["needs"] in ("test", ["test"])
    assert jobs["deploy"]["needs"] in ("build", ["build"])


def test_every_job_has_a_timeout() -> None:
    for name, job in _workflow()["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), name
        assert 0 < job["timeout-minutes"] <= 60, name


def test_deploy_runs_only_on_push_to_main_and_never_on_pull_requests() -> None:
    jobs = _workflow()["jobs"]
    for name, event in (("deploy", "push"), ("rollback", "workflow_dispatch")):
        condition = jobs[name]["if"].replace(" ", "")
        assert "github.ref=='refs/heads/main'" in condition
        assert f"github.event_name=='{event}'" in condition
        assert "&&" in condition
        assert "||" not in condition
        assert "pull_request" not in condition
        assert jobs[name]["environment"] == "production"
        steps = _steps(jobs[name])
        script = " ".join(step.get("run", "") for step in steps)
        env = {k: v for step in steps for k, v in step.get("env", {}).items()}
        assert env["RENDER_DEPLOY_HOOK_URL"] == "${{ secrets.RENDER_DEPLOY_HOOK_URL }}"
        assert "bash scripts/deploy.sh" in script
        assert "${{" not in script, "no expressions inside run: (template injection)"
    # The checks and the image build run for pushes and pull requests, not for a rollback.
    assert "workflow_dispatch" in jobs["lint"]["if"]


def test_deploys_name_the_tested_image_by_digest() -> None:
    jobs = _workflow()["jobs"]
    assert jobs["build"]["outputs"]["digest"] == "${{ steps.push.outputs.digest }}"
    deploy_env = {k: v for step in _steps(jobs["deploy"]) for k, v in step.get("env", {}).items()}
    assert deploy_env["IMAGE_REF"].endswith("@${{ needs.build.outputs.digest }}")
    assert deploy_env["DEPLOY_SHA"] == "${{ github.sha }}"
    rollback_env = {
        k: v for step in _steps(jobs["rollback"]) for k, v in step.get("env", {}).items()
    }
    assert rollback_env["DEPLOY_SHA"] == "${{ inputs.sha }}"
    assert "imagetools inspect" in " ".join(s.get("run", "") for s in _steps(jobs["rollback"]))
    inputs = _workflow()["on"]["workflow_dispatch"]["inputs"]
    assert inputs["sha"]["required"] is True


def test_image_builds_reuse_the_layer_cache() -> None:
    build = _workflow()["jobs"]["build"]
    step = next(s for s in _steps(build) if "build-push-action" in str(s.get("uses")))
    assert step["with"]["cache-from"] == "type=gha"
    assert step["with"]["cache-to"].startswith("type=gha")


def test_only_the_build_job_may_write_packages() -> None:
    for name, job in _workflow()["jobs"].items():
        perms = job.get("permissions", {})
        if name == "build":
            assert perms == {"contents": "read", "packages": "write"}
        else:
            assert perms.get("packages") in (None, "read"), name
            assert "write" not in perms.values(), name


def test_every_action_is_pinned_to_a_commit_sha_with_a_version_comment() -> None:
    lines = WORKFLOW.read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"^\s*(-\s+)?uses:", line)]
    assert len(uses) >= 6
    for line in uses:
        ref, _, comment = line.split("uses:", 1)[1].partition("#")
        assert SHA_PIN.match(ref.strip()), line
        assert re.fullmatch(r"\s*v\d+\.\d+\.\d+\s*", comment), f"no `# vX.Y.Z`: {line}"


def test_checkouts_do_not_persist_credentials() -> None:
    for name, job in _workflow()["jobs"].items():
        for step in _steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_image_is_tagged_with_the_commit_and_never_latest_alone() -> None:
    build = _workflow()["jobs"]["build"]
    step = next(s for s in _steps(build) if "build-push-action" in str(s.get("uses")))
    tags = [t.strip() for t in step["with"]["tags"].splitlines() if t.strip()]
    assert any(t.endswith(":${{ github.sha }}") for t in tags)
    assert not any(t.endswith(":latest") for t in tags)
    assert "GIT_SHA=${{ github.sha }}" in step["with"]["build-args"]
    assert step["with"]["file"] == "backend/Dockerfile"
    assert step["with"]["context"] == "."
    assert "push" in str(step["with"]["push"]), "pull requests must not push"


def test_test_job_uses_pgvector_service_and_test_database_url() -> None:
    test = _workflow()["jobs"]["test"]
    pg = test["services"]["postgres"]
    assert pg["image"] == "pgvector/pgvector:pg17"
    assert "pg_isready" in pg["options"]
    assert test["env"]["TEST_DATABASE_URL"].startswith("postgresql://")
    runs = " ".join(step.get("run", "") for step in _steps(test))
    assert "docchat migrate" in runs
    assert "make test" in runs
    assert "chromium" in runs


def test_python_installs_take_cpu_torch_first() -> None:
    """PyPI's default Linux torch is the CUDA build (GBs): CI installs the CPU wheel before
    the project, whose `torch==2.13.0` pin it then satisfies."""
    jobs = _workflow()["jobs"]
    for name in ("lint", "test"):
        runs = [s.get("run", "") for s in _steps(jobs[name])]
        install = next(r for r in runs if "backend-install" in r)
        assert '--index-url "$TORCH_INDEX_URL" torch==2.13.0' in install, name
        assert install.index("torch==2.13.0") < install.index("backend-install"), name
    assert _workflow()["env"]["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def _make_recipes() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in [REPO / "Makefile", *sorted(REPO.glob("mk/*.mk"))]
    )


def test_lint_job_runs_every_linter() -> None:
    lint = _workflow()["jobs"]["lint"]
    runs = " ".join(step.get("run", "") for step in _steps(lint))
    for target in ("backend-lint", "frontend-lint", "deploy-lint"):
        assert f"make {target}" in runs, target
    recipes = _make_recipes()
    for target in ("backend-lint:", "frontend-lint:", "deploy-lint:"):
        assert re.search(rf"^{target}", recipes, re.MULTILINE), f"no make target {target}"
    for tool in (
        "ruff check",
        "ruff format --check",
        "mypy",
        "eslint",
        "tsc --noEmit",
        "hadolint",
        "shellcheck",
        "lint-workflows.mjs",
        "shellcheck_workflows.py",
        "zizmor --offline",
        "vendor.github-workflows",
        "check_migrations.py",
    ):
        assert tool in recipes, tool


# --------------------------------------------------------------------------- docs


def test_deploy_doc_covers_every_render_env_var() -> None:
    doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    keys = {key for svc in _render_services().values() for key in _render_env(svc)}
    missing = sorted(k for k in keys if k not in doc)
    assert missing == []
