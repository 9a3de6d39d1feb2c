"""The test harness itself: conftest's `need` fails a run that skipped tests for want of something.

Takes small test files written here and runs each with a fresh `python -m pytest` in a temporary
directory beside a copy of `tests/conftest.py` (with `$CI` set or not). Gives pass/fail on the exit
status, the outcome counts and the "missing dependencies" section: a missing module or program
fails the run, whether the skip comes from a test or from a module's import; an allowed dependency
(nginx) only skips outside CI; a skip for another reason, saying why, does not fail the run; a
module that is there but fails to import is an error, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO_ROOT


def run_pytest(tmp_path, source: str, ci: bool = False) -> subprocess.CompletedProcess:
    shutil.copy(REPO_ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_it.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    if ci:
        env["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_it.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    proc.output = proc.stdout + proc.stderr
    return proc


def summary(proc) -> str:
    return proc.stdout.strip().splitlines()[-1]


def test_missing_module_fails_the_run(tmp_path):
    proc = run_pytest(tmp_path, "from conftest import need_module\n"
                                "def test_needs(): need_module('wasmbuild_no_such_module')\n"
                                "def test_plain(): pass\n")
    assert proc.returncode == 1, proc.output
    assert summary(proc).startswith("1 passed, 1 skipped"), proc.output
    assert "missing dependencies" in proc.stdout
    assert ("wasmbuild_no_such_module (python3 -m pip install -e '.[test]'), asked for at test_it.py:2"
            in proc.stdout), proc.output


def test_missing_module_at_import_fails_the_run(tmp_path):
    proc = run_pytest(tmp_path, "from conftest import need_module\n"
                                "np = need_module('wasmbuild_no_such_module')\n"
                                "def test_plain(): pass\n")
    assert proc.returncode == 1, proc.output
    assert "1 skipped" in summary(proc) and "passed" not in summary(proc), proc.output
    assert "test_it.py:2: missing wasmbuild_no_such_module" in proc.stdout, proc.output


def test_missing_command_fails_the_run(tmp_path):
    proc = run_pytest(tmp_path, "from conftest import need_command\n"
                                "def test_needs(): need_command('wasmbuild-no-such-program', 'apt-get install it')\n")
    assert proc.returncode == 1, proc.output
    assert "wasmbuild-no-such-program (apt-get install it), asked for at test_it.py:2" in proc.stdout


def test_found_dependencies_are_given_back(tmp_path):
    proc = run_pytest(tmp_path, "import os\nfrom conftest import need_command, need_module\n"
                                "def test_needs():\n"
                                "    assert need_module('os.path') is os.path\n"
                                "    assert os.access(need_command('wat2wasm', 'WABT'), os.X_OK)\n")
    assert proc.returncode == 0, proc.output
    assert summary(proc).startswith("1 passed"), proc.output


@pytest.mark.parametrize("ci", [False, True])
def test_allowed_dependency_fails_only_in_ci(tmp_path, ci):
    proc = run_pytest(tmp_path, "from conftest import need\n"
                                "def test_needs(): need('nginx', None, 'apt-get install nginx')\n", ci=ci)
    assert summary(proc).startswith("1 skipped"), proc.output
    assert proc.returncode == (1 if ci else 0), proc.output
    assert ("nginx (apt-get install nginx), asked for at test_it.py:2" in proc.stdout) == ci, proc.output
    if not ci:
        assert "allowed outside CI" in proc.stdout, proc.output


def test_other_skips_do_not_fail_the_run(tmp_path):
    proc = run_pytest(tmp_path, "import pytest\n"
                                "def test_skipped(): pytest.skip('needs an x86-64 host')\n")
    assert proc.returncode == 0, proc.output
    assert "needs an x86-64 host" in proc.stdout and "missing dependencies" not in proc.stdout


def test_broken_module_is_an_error_not_a_skip(tmp_path):
    (tmp_path / "wasmbuild_broken_module.py").write_text("import wasmbuild_no_such_module\n")
    proc = run_pytest(tmp_path, "from conftest import need_module\n"
                                "def test_needs(): need_module('wasmbuild_broken_module')\n")
    assert proc.returncode == 1, proc.output
    assert summary(proc).startswith("1 failed"), proc.output
    assert "No module named 'wasmbuild_no_such_module'" in proc.stdout
