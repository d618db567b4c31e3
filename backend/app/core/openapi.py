"""OpenAPI metadata shared by the routers."""

from __future__ import annotations

from typing import Any

# Every error leaves as {"error": {"code", "message", "request_id"}} (app.core.errors).
ERROR_RESPONSE: dict[str, Any] = {
    "description": "Error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message", "request_id"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "request_id": {"type": "string"},
                            "details": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                },
            }
        }
    },
}
