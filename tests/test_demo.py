"""`storywatch demo` runs the real thing on the bundled news, start to finish, as a newcomer would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_to_completion_and_shows_the_contradiction(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(tmp_path / "demo.db"), "demo", "--seconds", "4"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /follow iran syria" in out and "Following “iran syria”." in out
    new_story = out.index("🆕")  # a new-story alert, on its own or in a burst with another
    contradiction = out.index("⚠️ Disputed: Iran begins evacuating military personnel from Syria — reported by")
    assert new_story < contradiction < out.index("Your digest for")
    alert = out[contradiction:].split("── message")[0]
    assert "Iran begins evacuating military personnel from Syria" in alert
    assert "Iran denies evacuating diplomats from Syria" in alert
    assert "in reply to message" in out[:contradiction].rsplit("── message", 1)[1]
    assert "City council approves" not in out.split("> /digest")[0]  # nobody follows the tram story
    assert "Demo finished in" in out and "1 contradiction;" in out
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
