import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED = {p.name[:3]: p for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="session")
def prefect_harness():
    """Run flows against a throwaway Prefect API instead of the user's ~/.prefect."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def cli_env(prefect_harness):
    """Environment for `newsfold` subprocesses: talk to the test harness's Prefect API
    instead of each starting a temporary server of its own."""
    import os

    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ)
    env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    return env


def run_cli(*args, env=None, timeout=180, cwd=REPO):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest
