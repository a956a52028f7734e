"""The layout a newcomer reads: every package is in docs/architecture.md, and no package
reaches into another's private names (the layers themselves are import-linter's job,
in `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def _modules_of_app() -> list[str]:
    """Every package and top-level module under app/, e.g. `contributions`, `money`."""
    names = []
    for path in sorted(APP.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists():
            names.append(path.name)
        elif path.suffix == ".py" and path.name != "__init__.py":
            names.append(path.stem)
    return names


def test_every_package_is_placed_in_the_architecture_document():
    document = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in _modules_of_app()
        if f"`{name}/`" not in document and f"`{name}.py`" not in document
    ]
    assert missing == [], f"docs/architecture.md does not place: {missing}"


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _private_names_used_across_packages(path: Path, app_root: Path = APP) -> list[str]:
    """`from app.other import _x` and `other._x` where `other` is another package's module."""
    own = path.relative_to(app_root).parts[0].removesuffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}" if node.module != "app" else alias.name
                package = _package_of(node.module) if node.module != "app" else alias.name
                if package == own:
                    continue
                if alias.name.startswith("_"):
                    found.append(f"{path.name}: from {node.module} import {alias.name}")
                aliases[alias.asname or alias.name] = target
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append(f"{path.name}: {node.value.id}.{node.attr}")
    return found


def test_no_package_uses_another_packages_private_names():
    offenders = [
        f"{path.relative_to(ROOT)} → {use}"
        for path in sorted(APP.rglob("*.py"))
        for use in _private_names_used_across_packages(path)
    ]
    assert offenders == []


def test_the_private_name_check_catches_a_reach_into_another_package(tmp_path):
    # The check must be able to fail: a module that calls another package's helper.
    fake_app = tmp_path / "app"
    (fake_app / "statements").mkdir(parents=True)
    offender = fake_app / "statements" / "service.py"
    offender.write_text(
        "from app.contributions import service as contributions\n"
        "from app.pledges.service import _prefix\n"
        "code = contributions._new_receipt_code()\n",
        encoding="utf-8",
    )
    found = _private_names_used_across_packages(offender, fake_app)
    assert sorted(found) == [
        "service.py: contributions._new_receipt_code",
        "service.py: from app.pledges.service import _prefix",
    ]
