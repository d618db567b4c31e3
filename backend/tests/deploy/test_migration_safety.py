"""The migration safety checker (tools/check_migrations.py) on the real migrations and on
synthetic bad ones: every rule must fire, and a declared contract step must pass."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
CHECKER = REPO / "tools" / "check_migrations.py"
VERSIONS = REPO / "backend" / "app" / "migrations" / "versions"

LOCK = "op.execute(\"SET LOCAL lock_timeout = '5s'\")"


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_migrations", CHECKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_migrations"] = module
    spec.loader.exec_module(module)
    return module


cm = _load_checker()


def _migration(upgrade: str, *, downgrade: str = "pass", header: str = "") -> str:
    """A complete migration module whose upgrade()/downgrade() start with the lock timeout."""
    up = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    down = textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
    return (
        f'"""synthetic migration\n\nRevision ID: x\n"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        f"{textwrap.dedent(header)}\n"
        'revision = "x"\n'
        "down_revision = None\n\n\n"
        f"def upgrade() -> None:\n    {LOCK}\n{up}\n\n\n"
        f"def downgrade() -> None:\n    {LOCK}\n{down}\n"
    )


def _rules(tmp_path: Path, source: str, name: str = "0099_synthetic.py") -> list[tuple[str, int]]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return [(f.rule, f.line) for f in cm.check_file(path) if not f.warning]


def test_real_migrations_pass() -> None:
    files = cm.migration_files([VERSIONS])
    assert files, f"no migrations found in {VERSIONS}"
    errors = [str(f) for file in files for f in cm.check_file(file) if not f.warning]
    assert errors == []


def test_cli_on_real_migrations_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, str(CHECKER)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stderr


def test_clean_expand_migration_passes(tmp_path: Path) -> None:
    source = _migration(
        """
        op.create_table(
            "notes",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("body", sa.Text(), nullable=False),
        )
        op.add_column("notes", sa.Column("pinned", sa.Boolean(), nullable=False))
        op.add_column("users", sa.Column("nickname", sa.String(50), nullable=True))
        op.add_column(
            "users",
            sa.Column("plan", sa.String(20), nullable=False, server_default="free"),
        )
        op.execute("UPDATE users SET nickname = full_name WHERE nickname IS NULL")
        """,
        downgrade="""
        op.drop_column("users", "plan")
        op.drop_column("users", "nickname")
        op.drop_table("notes")
        """,
    )
    assert _rules(tmp_path, source) == []


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ('op.drop_column("users", "full_name")', "drop"),
        ('op.drop_table("users")', "drop"),
        ('op.execute("ALTER TABLE users DROP COLUMN full_name")', "drop"),
        ('op.execute(sa.text("DROP TABLE IF EXISTS users"))', "drop"),
        (
            'with op.batch_alter_table("users") as batch_op:\n    batch_op.drop_column("name")',
            "drop",
        ),
        ('op.alter_column("users", "name", new_column_name="full_name")', "rename"),
        ('op.rename_table("users", "accounts")', "rename"),
        ('op.execute("ALTER TABLE users RENAME COLUMN name TO full_name")', "rename"),
        ('op.execute("ALTER TABLE users RENAME TO accounts")', "rename"),
        (
            'op.add_column("users", sa.Column("tier", sa.String(10), nullable=False))',
            "not-null-add",
        ),
        (
            'with op.batch_alter_table("users") as b:\n'
            '    b.add_column(sa.Column("tier", sa.String(10), nullable=False))',
            "not-null-add",
        ),
        ('op.alter_column("users", "email", type_=sa.Text())', "type-change"),
        ('op.execute("ALTER TABLE users ALTER COLUMN email TYPE text")', "type-change"),
        (
            'op.execute("ALTER TABLE users ALTER COLUMN email SET DATA TYPE varchar(400)")',
            "type-change",
        ),
        ('op.alter_column("users", "nickname", nullable=False)', "set-not-null"),
        ('op.execute("ALTER TABLE users ALTER COLUMN nickname SET NOT NULL")', "set-not-null"),
    ],
)
def test_each_rule_fires(tmp_path: Path, body: str, rule: str) -> None:
    source = _migration(body)
    findings = _rules(tmp_path, source)
    assert [r for r, _ in findings] == [rule]
    # the reported line is the offending call's line in the file
    line = findings[0][1]
    offending = source.splitlines()[line - 1]
    first_word = body.splitlines()[-1].strip().split("(")[0]
    assert first_word.split(".")[-1] in offending


def test_message_names_file_line_and_rule(tmp_path: Path) -> None:
    path = tmp_path / "0042_drop.py"
    path.write_text(_migration('op.drop_column("users", "name")'), encoding="utf-8")
    (finding,) = cm.check_file(path)
    text = str(finding)
    assert text.startswith(f"{path}:{finding.line}: error [drop]")
    assert "users.name" in text
    assert "contract_step" in text


def test_contract_step_allows_destructive_ops(tmp_path: Path) -> None:
    source = _migration(
        """
        op.drop_column("users", "name")
        op.alter_column("users", "email", type_=sa.Text())
        op.execute("ALTER TABLE users RENAME TO accounts")
        """,
        header="contract_step = True\n",
    ).replace(
        "synthetic migration",
        "Contract step: drop users.name; every release since 0.4 reads full_name only.",
    )
    assert _rules(tmp_path, source) == []


def test_contract_step_still_needs_lock_timeout_and_a_reason(tmp_path: Path) -> None:
    source = _migration('op.drop_column("users", "name")', header="contract_step = True\n")
    source = source.replace(f"    {LOCK}\n    op.drop_column", "    op.drop_column")
    rules = sorted(r for r, _ in _rules(tmp_path, source))
    assert rules == ["contract-doc", "lock-timeout"]


def test_contract_step_false_does_not_exempt(tmp_path: Path) -> None:
    source = _migration('op.drop_table("users")', header="contract_step = False\n")
    assert [r for r, _ in _rules(tmp_path, source)] == ["drop"]


def test_destructive_ops_in_downgrade_are_allowed(tmp_path: Path) -> None:
    source = _migration(
        'op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))',
        downgrade='op.drop_column("users", "nickname")',
    )
    assert _rules(tmp_path, source) == []


@pytest.mark.parametrize("which", ["upgrade", "downgrade"])
def test_missing_lock_timeout_fires(tmp_path: Path, which: str) -> None:
    source = _migration(
        'op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))',
        downgrade='op.drop_column("users", "nickname")',
    )
    marker = f"def {which}() -> None:\n    {LOCK}\n"
    assert marker in source
    source = source.replace(marker, f"def {which}() -> None:\n")
    findings = _rules(tmp_path, source)
    assert [r for r, _ in findings] == ["lock-timeout"]
    assert source.splitlines()[findings[0][1] - 1].startswith(f"def {which}()")


def test_lock_timeout_must_come_first(tmp_path: Path) -> None:
    source = _migration("pass").replace(
        f"def upgrade() -> None:\n    {LOCK}\n",
        f'def upgrade() -> None:\n    op.create_index("ix_users_x", "users", ["x"])\n    {LOCK}\n',
    )
    assert "lock-timeout" in [r for r, _ in _rules(tmp_path, source)]


def test_plain_set_is_not_enough(tmp_path: Path) -> None:
    """SET without LOCAL would leak into the rest of the migration connection."""
    source = _migration("pass").replace("SET LOCAL lock_timeout", "SET lock_timeout")
    assert [r for r, _ in _rules(tmp_path, source)] == ["lock-timeout", "lock-timeout"]


def test_noop_functions_are_exempt(tmp_path: Path) -> None:
    source = textwrap.dedent(
        '''\
        """merge heads"""
        revision = "m"
        down_revision = ("a", "b")


        def upgrade() -> None:
            pass


        def downgrade() -> None:
            raise NotImplementedError("irreversible")
        '''
    )
    assert _rules(tmp_path, source) == []


def test_missing_functions_and_syntax_errors(tmp_path: Path) -> None:
    assert [r for r, _ in _rules(tmp_path, '"""empty"""\nrevision = "e"\n')] == [
        "lock-timeout",
        "lock-timeout",
    ]
    assert [r for r, _ in _rules(tmp_path, "def upgrade(:\n")] == ["syntax"]


def test_index_on_existing_table_is_only_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "0050_index.py"
    path.write_text(
        _migration('op.create_index("ix_users_nick", "users", ["nickname"])'), encoding="utf-8"
    )
    findings = cm.check_file(path)
    assert [(f.rule, f.warning) for f in findings] == [("index-lock", True)]
    concurrent = _migration(
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix_users_nick", "users", ["nickname"],'
        " postgresql_concurrently=True)"
    )
    path.write_text(concurrent, encoding="utf-8")
    assert cm.check_file(path) == []


def test_cli_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "0001_bad.py"
    bad.write_text(_migration('op.drop_table("users")'), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert f"{bad}:" in result.stdout
    assert "[drop]" in result.stdout
    missing = subprocess.run(
        [sys.executable, str(CHECKER), str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2


def test_documented_examples_obey_the_checker(tmp_path: Path) -> None:
    """docs/migrations.md's worked example passes as written, and its contract step is
    caught once `contract_step = True` is removed."""
    doc = (REPO / "docs" / "migrations.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", doc, re.DOTALL) if "def upgrade" in b]
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        assert _rules(tmp_path, block, f"doc_{i}.py") == [], f"example {i} fails the checker"
    contract = next(b for b in blocks if "contract_step = True" in b)
    without = contract.replace("contract_step = True", "contract_step = False")
    assert sorted({r for r, _ in _rules(tmp_path, without, "doc_contract.py")}) == [
        "drop",
        "set-not-null",
    ]
