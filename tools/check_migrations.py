#!/usr/bin/env python3
"""Static safety check for Alembic migrations (expand/contract discipline).

Every migration must stay compatible with the application version that is still running
while it is applied (rolling deploys, rollback by redeploying the previous image). So a
migration may only *expand* the schema, unless the module declares itself a contract step:

    contract_step = True   # and its docstring says why the old code no longer needs it

Rules (file, line and rule name are printed for each finding):

  drop              upgrade() drops a table or column (op.drop_table, op.drop_column,
                    or DROP TABLE / DROP COLUMN in raw SQL)
  rename            upgrade() renames a table or column (op.rename_table,
                    op.alter_column(new_column_name=...), or RENAME in raw SQL)
  not-null-add      upgrade() adds a NOT NULL column without a server_default to a table
                    that this migration did not create
  set-not-null      upgrade() makes an existing column NOT NULL
                    (op.alter_column(nullable=False) or SET NOT NULL in raw SQL)
  type-change       upgrade() changes a column type (op.alter_column(type_=...) or
                    ALTER COLUMN ... TYPE in raw SQL)
  lock-timeout      upgrade() or downgrade() does not start with
                    op.execute("SET LOCAL lock_timeout = '5s'") (a function whose body is
                    only a docstring, `pass` or `raise`, such as a merge revision or an
                    irreversible downgrade, takes no locks and is exempt)
  contract-doc      a module with contract_step = True has no docstring saying why
                    (it must mention "contract")
  syntax            the file does not parse

Warnings (printed, never fail): create_index on an existing table without
postgresql_concurrently=True (it blocks writes for the whole build).

Only upgrade() is checked for destructive operations: a downgrade() naturally undoes an
expand step. Calls are matched by method name on any receiver, so `batch_op.drop_column`
inside `with op.batch_alter_table(...)` counts too.

Usage: python tools/check_migrations.py [DIR_OR_FILE ...]
(default: backend/app/migrations/versions next to this repository's tools/ folder).
Exit status: 0 clean, 1 findings, 2 usage error.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VERSIONS_DIR = REPO_ROOT / "backend" / "app" / "migrations" / "versions"

LOCK_TIMEOUT_RE = re.compile(r"^\s*SET\s+LOCAL\s+lock_timeout\s*(=|TO)\s*\S+", re.IGNORECASE)
SQL_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("drop", re.compile(r"\bDROP\s+TABLE\b", re.IGNORECASE), "raw SQL drops a table"),
    ("drop", re.compile(r"\bDROP\s+COLUMN\b", re.IGNORECASE), "raw SQL drops a column"),
    ("rename", re.compile(r"\bRENAME\b", re.IGNORECASE), "raw SQL renames a table or column"),
    (
        "type-change",
        re.compile(r"\bALTER\s+(COLUMN\s+)?\S+\s+(SET\s+DATA\s+)?TYPE\b", re.IGNORECASE),
        "raw SQL changes a column type",
    ),
    (
        "set-not-null",
        re.compile(r"\bSET\s+NOT\s+NULL\b", re.IGNORECASE),
        "raw SQL makes an existing column NOT NULL",
    ),
)
SQL_CALLS = {"execute", "exec_driver_sql", "text"}
HINT = (
    "expand/contract: keep the old schema working for the previous release; "
    "if this really is a contract step, set `contract_step = True` and say why in the "
    "module docstring (see docs/migrations.md)"
)


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    rule: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        level = "warning" if self.warning else "error"
        return f"{self.path}:{self.line}: {level} [{self.rule}] {self.message}"


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _literal_str(node: ast.expr | None) -> str | None:
    """The text of a string literal, an f-string's literal parts, or text("...")."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_str(node.left), _literal_str(node.right)
        if left is not None or right is not None:
            return (left or "") + " " + (right or "")
    if isinstance(node, ast.Call) and _call_name(node) == "text" and node.args:
        return _literal_str(node.args[0])
    return None


def _first_arg_str(call: ast.Call, kw_name: str) -> str | None:
    if call.args:
        return _literal_str(call.args[0])
    return _literal_str(_kw(call, kw_name))


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in {"upgrade", "downgrade"}
    }


def _is_contract_step(tree: ast.Module) -> bool:
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "contract_step":
                return _is_const(value, True)
    return False


def _is_noop_body(body: list[ast.stmt]) -> bool:
    for stmt in body:
        if isinstance(stmt, ast.Pass | ast.Raise):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring or `...`
        return False
    return True


def _sets_lock_timeout_first(func: ast.FunctionDef) -> bool:
    body = list(func.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if not body:
        return False
    first = body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)):
        return False
    call = first.value
    if _call_name(call) not in {"execute", "exec_driver_sql"}:
        return False
    sql = _first_arg_str(call, "sqltext")
    return sql is not None and LOCK_TIMEOUT_RE.match(sql) is not None


def _batch_tables(func: ast.FunctionDef) -> dict[str, str]:
    """Map `with op.batch_alter_table("t") as batch_op` aliases to their table names."""
    aliases: dict[str, str] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                ctx = item.context_expr
                if (
                    isinstance(ctx, ast.Call)
                    and _call_name(ctx) == "batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    table = _first_arg_str(ctx, "table_name")
                    if table:
                        aliases[item.optional_vars.id] = table
    return aliases


def _receiver(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return call.func.value.id
    return None


def _target_table(call: ast.Call, aliases: dict[str, str]) -> str | None:
    receiver = _receiver(call)
    if receiver in aliases:
        return aliases[receiver]
    return _first_arg_str(call, "table_name")


def _column_call(call: ast.Call, receiver_is_batch: bool) -> ast.Call | None:
    """The sa.Column(...) passed to add_column (second arg for op, first for batch_op)."""
    candidates: list[ast.expr] = list(call.args) + [
        kw.value for kw in call.keywords if kw.arg == "column"
    ]
    index = 0 if receiver_is_batch else 1
    ordered = candidates[index:] + candidates[:index]
    for node in ordered:
        if isinstance(node, ast.Call) and _call_name(node) == "Column":
            return node
    return None


def _column_is_not_null(column: ast.Call) -> bool:
    nullable = _kw(column, "nullable")
    if nullable is not None:
        return _is_const(nullable, False)
    return _is_const(_kw(column, "primary_key"), True)


def _check_upgrade(path: Path, func: ast.FunctionDef) -> Iterator[Finding]:
    aliases = _batch_tables(func)
    created: set[str] = set()
    calls = sorted(
        (n for n in ast.walk(func) if isinstance(n, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for call in calls:
        if _call_name(call) == "create_table":
            table = _first_arg_str(call, "table_name")
            if table:
                created.add(table)

    for call in calls:
        name = _call_name(call)
        line = call.lineno
        if name == "drop_table":
            table = _first_arg_str(call, "table_name") or "?"
            yield Finding(path, line, "drop", f"drops table {table!r}; {HINT}")
        elif name == "drop_column":
            col_index = 0 if _receiver(call) in aliases else 1
            col_node = call.args[col_index] if len(call.args) > col_index else None
            col = _literal_str(col_node) or _literal_str(_kw(call, "column_name")) or "?"
            table = _target_table(call, aliases) or "?"
            yield Finding(path, line, "drop", f"drops column {table}.{col}; {HINT}")
        elif name == "rename_table":
            yield Finding(path, line, "rename", f"renames a table; {HINT}")
        elif name == "alter_column":
            table = _target_table(call, aliases) or "?"
            if _kw(call, "new_column_name") is not None:
                yield Finding(
                    path, line, "rename", f"renames a column of {table!r} (new_column_name); {HINT}"
                )
            if _kw(call, "type_") is not None:
                yield Finding(
                    path, line, "type-change", f"changes a column type on {table!r} (type_); {HINT}"
                )
            if _is_const(_kw(call, "nullable"), False) and table not in created:
                yield Finding(
                    path,
                    line,
                    "set-not-null",
                    f"makes a column of {table!r} NOT NULL (nullable=False); "
                    f"old code may still write NULLs; {HINT}",
                )
        elif name == "add_column":
            table = _target_table(call, aliases)
            column = _column_call(call, _receiver(call) in aliases)
            if column is None or table in created:
                continue
            if _column_is_not_null(column) and _kw(column, "server_default") is None:
                col = _first_arg_str(column, "name") or "?"
                yield Finding(
                    path,
                    line,
                    "not-null-add",
                    f"adds NOT NULL column {table}.{col} without a server_default: "
                    f"inserts by the running release fail; add server_default=... or add it "
                    f"nullable and backfill; {HINT}",
                )
        elif name == "create_index":
            table = _literal_str(call.args[1]) if len(call.args) > 1 else None
            table = table or _literal_str(_kw(call, "table_name"))
            if (
                table
                and table not in created
                and not _is_const(_kw(call, "postgresql_concurrently"), True)
            ):
                yield Finding(
                    path,
                    line,
                    "index-lock",
                    f"create_index on existing table {table!r} without "
                    "postgresql_concurrently=True blocks writes while it builds "
                    "(see docs/migrations.md)",
                    warning=True,
                )
        if name in SQL_CALLS and name != "text":
            sql = _first_arg_str(call, "sqltext" if name == "execute" else "statement")
            if sql is None:
                continue
            for rule, pattern, message in SQL_RULES:
                if pattern.search(sql):
                    yield Finding(path, line, rule, f"{message}: {sql.strip()[:80]!r}; {HINT}")


def check_file(path: Path) -> list[Finding]:
    """All findings (errors and warnings) for one migration file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        return [Finding(path, exc.lineno or 1, "syntax", f"does not parse: {exc.msg}")]

    findings: list[Finding] = []
    functions = _functions(tree)
    for fname in ("upgrade", "downgrade"):
        func = functions.get(fname)
        if func is None:
            findings.append(Finding(path, 1, "lock-timeout", f"no module-level {fname}() found"))
            continue
        if _is_noop_body(func.body):
            continue  # e.g. a merge revision or an irreversible downgrade: takes no locks
        if not _sets_lock_timeout_first(func):
            findings.append(
                Finding(
                    path,
                    func.lineno,
                    "lock-timeout",
                    f"{fname}() must start with "
                    "op.execute(\"SET LOCAL lock_timeout = '5s'\") so a blocked ALTER "
                    "fails fast instead of queueing every query behind it",
                )
            )

    contract = _is_contract_step(tree)
    if contract:
        doc = ast.get_docstring(tree) or ""
        if "contract" not in doc.lower():
            findings.append(
                Finding(
                    path,
                    1,
                    "contract-doc",
                    "contract_step = True but the module docstring does not say why "
                    "(mention the contract step and which release stopped using the old schema)",
                )
            )
    if "upgrade" in functions:
        for finding in _check_upgrade(path, functions["upgrade"]):
            if contract and not finding.warning:
                continue
            findings.append(finding)
    return sorted(findings, key=lambda f: (f.line, f.rule))


def migration_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.py") if p.name != "__init__.py"))
        else:
            files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if any(a in {"-h", "--help"} for a in args):
        print(__doc__)
        return 0
    paths = [Path(a) for a in args] or [DEFAULT_VERSIONS_DIR]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"check_migrations: no such file or directory: {missing[0]}", file=sys.stderr)
        return 2
    files = migration_files(paths)
    errors = warnings = 0
    for file in files:
        for finding in check_file(file):
            print(finding)
            if finding.warning:
                warnings += 1
            else:
                errors += 1
    print(
        f"check_migrations: {len(files)} migration(s), {errors} error(s), {warnings} warning(s)",
        file=sys.stderr,
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
