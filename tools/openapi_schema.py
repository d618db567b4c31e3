#!/usr/bin/env python3
"""Write the API's OpenAPI document, as the app builds it, to a file.

    make client                                   # this, then the TypeScript types from it
    python tools/openapi_schema.py OUTPUT.json

The frontend's types (frontend/src/lib/api/schema.d.ts) are generated from this document, and
`make lint` fails when the committed copy differs from what the code produces. The schema is
built without a database (no lifespan runs) and whether /openapi.json is served
(API_DOCS_ENABLED) does not matter: `app.openapi()` is what that route would answer. Settings
that reach the document are fixed here so that the output does not depend on the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

from app.core.settings import Settings  # noqa: E402
from app.main import create_app  # noqa: E402


def openapi_document() -> str:
    settings = Settings(
        _env_file=None,
        environment="development",
        database_url="postgresql://unused/db",
        log_level="ERROR",
        git_sha="v1",
    )
    return json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the JSON document")
    args = parser.parse_args()
    args.output.write_text(openapi_document(), encoding="utf-8")


if __name__ == "__main__":
    main()
