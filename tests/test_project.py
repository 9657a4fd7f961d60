"""Project hygiene that should fail a build: lint, formatting, the CI/README contract."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_is_clean():
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r'TEST_COMMAND="([^"]+)"', ci).group(1)
    assert f"\n{command}\n" in readme


def test_frontend_libraries_are_vendored_and_pinned():
    base = (ROOT / "templates" / "base.html").read_text()
    assert "https://" not in base and "http://" not in base
    for name in ("htmx-2.0.", "htmx-ext-ws-2.0."):
        assert name in base
        assert list((ROOT / "static" / "vendor").glob(f"{name}*.min.js"))


def test_tests_name_no_server_of_their_own():
    """Tests touch only TEST_DATABASE_URL (and databases named after it) and REDIS_URL."""
    # test_config parses made-up URLs and connects to none; this file names the patterns.
    allowed = {"tests/integration/test_config.py", "tests/test_project.py"}
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        text = path.read_text()
        if name not in allowed and re.search(r"mysql\+pymysql://|redis://|:3306|:6379", text):
            found.append(name)
    assert not found, f"these tests name a server of their own: {found}"
