#!/usr/bin/env python3
"""Write docs/settings.md from the settings classes (app.core.settings.Settings and
app.search.config.SearchSettings), so the reference cannot drift from the code.

    make docs-settings            # regenerate after adding or changing a setting
    python tools/settings_reference.py --check   # exit 1 when docs/settings.md is stale

Names, types and defaults come from the classes; each description from the comment above the
variable in `.env.example` (the file people copy), so a setting is documented once. A setting
without one shows "(undocumented)", which backend/tests/ops/test_settings_reference.py refuses.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

from app.core.settings import Settings  # noqa: E402
from app.search.config import SearchSettings  # noqa: E402
from pydantic.fields import FieldInfo  # noqa: E402
from pydantic_core import PydanticUndefined  # noqa: E402

OUTPUT = REPO / "docs" / "settings.md"
ENV_EXAMPLE = REPO / ".env.example"
ENTRYPOINT = REPO / "backend" / "entrypoint.sh"
UNDOCUMENTED = "(undocumented)"
HEADER = """# Settings reference

GENERATED from the settings classes by `tools/settings_reference.py`: do not edit by hand.
Regenerate with `make docs-settings`; `backend/tests/ops/test_settings_reference.py` fails when
this file is stale.

Every setting is an environment variable (or a line in a `.env` file next to where the
backend starts). Names are case-insensitive; an empty value means the default. Lists are
comma-separated. How to deploy with them: [deploy.md](deploy.md).
"""


ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def example_descriptions() -> dict[str, str]:
    """Each variable's description in .env.example: the comment lines right above it, plus
    the text after `=` of a commented-out example (`# SEARCH_FUSION=   linear | rrf`)."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    descriptions: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = ASSIGNMENT.match(line)
        if not match:
            continue
        block: list[str] = []
        above = index - 1
        while (
            above >= 0
            and lines[above].startswith("#")
            and not ASSIGNMENT.match(lines[above])
            and not lines[above].startswith("# ---")
        ):
            block.insert(0, lines[above].lstrip("#").strip())
            above -= 1
        if match.group(1):
            block.append(match.group(3).strip())
        descriptions[match.group(2)] = " ".join(part for part in block if part)
    return descriptions


def entrypoint_variables() -> list[tuple[str, str]]:
    """The `Environment:` block of the image's entrypoint header: `#   NAME   meaning`."""
    variables: list[tuple[str, str]] = []
    in_block = False
    for line in ENTRYPOINT.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Environment:"):
            in_block = True
            continue
        if not in_block:
            continue
        if not line.startswith("#"):
            break
        match = re.match(r"^#\s{2,3}([A-Z][A-Z0-9_]*)\s+(.*)$", line)
        if match:
            variables.append((match.group(1), match.group(2).strip()))
        elif variables and line.strip("# "):
            name, text = variables[-1]
            variables[-1] = (name, f"{text} {line.strip('# ').strip()}")
    return variables


def default_text(name: str, field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None or value == [] or value == "":
        return "empty"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, Path):
        return f"`{value}`"
    return f"`{value}`"


def type_text(field: FieldInfo) -> str:
    annotation = field.annotation
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = text.replace("typing.", "").replace("pathlib.", "")
    if str(annotation).startswith("typing.Literal") or "Literal[" in str(annotation):
        args = getattr(annotation, "__args__", ())
        return " \\| ".join(f"`{arg}`" for arg in args)
    return text.replace("|", "\\|")


def rows(cls: type, prefix: str, descriptions: dict[str, str]) -> list[str]:
    out = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, field in cls.model_fields.items():  # type: ignore[attr-defined]
        meaning = descriptions.get(f"{prefix}{name.upper()}") or UNDOCUMENTED
        meaning = meaning.replace("|", "\\|")
        out.append(
            f"| `{prefix}{name.upper()}` | {type_text(field)} | {default_text(name, field)} "
            f"| {meaning} |"
        )
    return out


def render() -> str:
    descriptions = example_descriptions()
    parts = [
        HEADER,
        "## Application (`app.core.settings.Settings`)",
        "",
        *rows(Settings, "", descriptions),
        "",
        "## Retrieval tuning (`app.search.config.SearchSettings`)",
        "",
        "Defaults tuned on BEIR SciFact train (docs/benchmarks.md).",
        "",
        *rows(SearchSettings, "SEARCH_", descriptions),
        "",
        "## Container entrypoint (`backend/entrypoint.sh`)",
        "",
        "Read by the image's entrypoint, not by the application.",
        "",
        "| variable | meaning |",
        "|---|---|",
        *(f"| `{name}` | {text} |" for name, text in entrypoint_variables()),
        "",
    ]
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run `make docs-settings`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
