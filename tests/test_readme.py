"""The README's ingest walkthrough prints what it shows, run in the order shown on one database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def walkthrough() -> list[tuple[str, str]]:
    """(command, expected output) for each `$ ` line of the code blocks between "Ingesting files" and the
    polling example (which needs a feed server of its own)."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("Ingesting files"):readme.index("Polling, and the health of the pool")]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


def test_the_ingest_walkthrough_prints_what_the_readme_shows(tmp_path: Path) -> None:
    shutil.copytree(REPO / "tests" / "data", tmp_path / "tests" / "data")
    steps = walkthrough()
    assert len(steps) >= 7
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    env.pop("STORYWATCH_TELEGRAM_TOKEN", None)
    # One shell for all the commands, as a reader types them: `echo $?` reads the command before it.
    # The marker between steps would reset $?: the status is kept and given back to each command.
    script = "status=0\n" + "".join(f"echo '--- step {n}'\n(exit $status); {command} 2>&1; status=$?\n"
                                      for n, (command, _) in enumerate(steps))
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    outputs = re.split(r"^--- step \d+\n", result.stdout, flags=re.MULTILINE)[1:]
    assert len(outputs) == len(steps), result.stdout + result.stderr
    for (command, expected), output in zip(steps, outputs, strict=True):
        assert output.rstrip("\n") == expected, f"$ {command}"
