"""One active scheduler per database; a second one stands by and takes over."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _scheduler(app, log: Path, *, sigint: bool = False) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """Start `flask scheduler`; with ``sigint`` Ctrl-C is not ignored in it (as in a terminal)."""
    env = {**os.environ, "DATABASE_URL": app.config["TEST_DATABASE"], "KESU_ENV": "production",
           "KESU_WORKER": "off", "KESU_INSTANCE_DIR": app.instance_path, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                                env=env, stdout=output, stderr=subprocess.STDOUT,
                                preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if sigint else None)


def _says(log: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return True
        time.sleep(0.2)
    return False


def test_second_scheduler_stands_by_until_the_first_dies(committed_app, tmp_path) -> None:
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _scheduler(committed_app, first_log)
    second = None
    try:
        assert _says(first_log, "scheduler is active", 30), first_log.read_text()
        second = _scheduler(committed_app, second_log)
        assert _says(second_log, "another scheduler is active; standing by", 30), second_log.read_text()
        assert "scheduler is active" not in second_log.read_text().replace("another scheduler is active", "")
        first.kill()
        first.wait(10)
        assert _says(second_log, "\nscheduler is active", 20), second_log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_stops_cleanly_on_a_signal_active_or_standing_by(committed_app, tmp_path, sig) -> None:
    """SIGTERM killed the active scheduler mid-chore (exit -15) and Ctrl-C ended in "Aborted!" (exit 1)."""
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _scheduler(committed_app, first_log, sigint=True)
    second = None
    try:
        assert _says(first_log, "scheduler is active", 30), first_log.read_text()
        second = _scheduler(committed_app, second_log, sigint=True)
        assert _says(second_log, "standing by", 30), second_log.read_text()
        for process, log in ((second, second_log), (first, first_log)):
            process.send_signal(sig)
            assert process.wait(20) == 0, log.read_text()
            assert log.read_text().rstrip().endswith("scheduler stopped"), log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
