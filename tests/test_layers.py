"""The shape of the house, as contracts a change cannot quietly break.

- import-linter's contracts (pyproject.toml): `core` imports no `blueprints` (nor the
  demo data); the live engine reaches the areas only through the registry.
- No module imports a view module (one that registers routes); only its blueprint's
  package does, to register it.
- Views never commit: the request boundary does (blueprints/boundary.py), except where a
  view must commit before it answers, each listed below with why.
"""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}

# (module, function) -> why it commits before answering. None does: work that another
# thread or process picks up is a job, handed over once the request commits (core.jobs).
EARLY_COMMITS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    if path == ROOT:
        return ""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files():
    return sorted(BLUEPRINTS.rglob("*.py"))


def registers_routes(tree: ast.Module) -> bool:
    """A module with a function decorated `@<something>.route(...)`, `.get(...)`, ..."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in ROUTE_DECORATORS:
                    return True
    return False


def view_modules() -> set[str]:
    return {
        module_name(path)
        for path in python_files()
        if registers_routes(ast.parse(path.read_text(), filename=str(path)))
    }


def contracts() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_import_contracts_are_kept(capsys, monkeypatch):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    result = lint_imports(no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert result == 0, report
    assert f"{len(contracts())} kept, 0 broken" in report


def imported_modules(path: Path, tree: ast.Module) -> set[str]:
    """Every module an import statement of this file names, absolute, submodules included."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_no_module_imports_a_view_module():
    views = view_modules()
    assert "blueprints.office.orders" in views, "the route detection is broken"
    sources = [*python_files(), *(ROOT / "core").rglob("*.py"), *(ROOT / "demo").rglob("*.py")]
    sources += [ROOT / name for name in ("app.py", "cli.py")]
    offenders = []
    for path in sources:
        tree = ast.parse(path.read_text(), filename=str(path))
        registering = path.name == "__init__.py"  # a blueprint registers its own views
        for name in imported_modules(path, tree) & views:
            own = registering and name.rsplit(".", 1)[0] == module_name(path)
            if not own:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


def commits_in(tree: ast.Module) -> list[tuple[str, int]]:
    """(function, line) of every `<...>.commit()` call, by the function it is in."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                found.append((function.name, node.lineno))
    return found


def test_views_leave_the_commit_to_the_request_boundary():
    unexpected, seen = [], set()
    for path in python_files():
        name = module_name(path)
        if name == "blueprints.boundary":
            continue  # the request boundary itself
        for function, line in commits_in(ast.parse(path.read_text(), filename=str(path))):
            if (name, function) in EARLY_COMMITS:
                seen.add((name, function))
            else:
                unexpected.append(f"{name}.{function} (line {line})")
    assert not unexpected, f"views commit; let the request boundary do it: {unexpected}"
    assert seen == set(EARLY_COMMITS), f"stale exceptions: {set(EARLY_COMMITS) - seen}"
