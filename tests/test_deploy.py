"""deploy/: what can be checked here without systemd running the unit or a container engine running the image.
The unit is checked by `systemd-analyze verify`; the container's entry command runs as it would inside, with
its /data volume as a folder; `storywatch backup` copies the database while a writer keeps writing."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.monitor.model import Item
from bot.monitor.normalize import dedup_key
from bot.monitor.pipeline import Pipeline
from storage.db import open_database
from tests.fakebotapi import FakeBotAPI

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
TOKEN = "4242:DEPLOY-TOKEN"


def _storywatch_executable() -> str:
    found = shutil.which("storywatch", path=str(Path(sys.executable).parent))
    assert found, "the storywatch console script is installed beside this Python"
    return found


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    unit = (DEPLOY / "storywatch.service").read_text()
    assert "EnvironmentFile=/etc/storywatch/token.env" in unit and "--db /var/lib/storywatch/storywatch.db" in unit
    # The unit names the installed script; here it is this virtual environment's.
    local = tmp_path / "storywatch.service"
    local.write_text(unit.replace("/opt/storywatch/bin/storywatch", _storywatch_executable()))
    result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "storywatch.service" in line]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr


def _dockerfile_instruction(name: str) -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text()
    [value] = re.findall(rf"^{name} (\[.*\])$", text, re.MULTILINE)
    return json.loads(value)


def test_the_containers_files_and_volume_are_where_the_image_expects_them() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+) \./?\S*$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (REPO / path).exists(), f"the Dockerfile copies {path}, which the repository lacks"
    assert _dockerfile_instruction("VOLUME") == ["/data"]
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "storywatch-data:/data" in compose and "STORYWATCH_TELEGRAM_TOKEN: ${STORYWATCH_TELEGRAM_TOKEN" in compose


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI(token=TOKEN).start()
    yield server
    server.stop()


def _image_sources(root: Path) -> Path:
    """The image's /src as its COPY instructions make it (only what they copy), under `root`."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    [workdir] = re.findall(r"^WORKDIR (/src)$", dockerfile, re.MULTILINE)
    target = root / workdir.lstrip("/")
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE):
        *sources, destination = line.split()
        for source in sources:
            # "COPY a b ./" puts each into /src; "COPY bot ./bot" puts the folder's content at /src/bot.
            into = target / destination if len(sources) == 1 and destination not in ("./", ".") else target
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, into if into != target else target / source,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / source, into / Path(source).name)
    return target


# The console script, with our packages found in the image's files only: not in this checkout, nor where this
# environment installed them (an editable install's finder, or site-packages).
IMAGE_ENTRY = """import importlib.machinery, sys

class OnlyTheImage:
    def find_spec(self, name, path=None, target=None):
        if path is None and name in {packages!r}:
            spec = importlib.machinery.PathFinder.find_spec(name, [{sources!r}])
            if spec is None:
                raise ModuleNotFoundError(f"the image has no {{name}}")
            return spec
        return None

sys.meta_path.insert(0, OnlyTheImage())
sys.argv[0] = "storywatch"
from {module} import {function}
sys.exit({function}())
"""


@pytest.mark.parametrize("installed", [True, False], ids=["installed-script", "image-files-alone"])
def test_the_containers_entry_command_runs_the_bot_with_its_database_on_the_volume(
    tmp_path: Path, api: FakeBotAPI, installed: bool
) -> None:
    volume = tmp_path / "data"  # /data inside the container
    volume.mkdir()
    # A config.toml on the volume is read from the working directory, /data.
    (volume / "config.toml").write_text(f'[telegram]\nbase_url = "{api.base_url}"\n')
    command = [part.replace("/data", str(volume)) for part in
               _dockerfile_instruction("ENTRYPOINT") + _dockerfile_instruction("CMD")]
    env = {"PATH": "/usr/bin:/bin", "STORYWATCH_TELEGRAM_TOKEN": TOKEN, "HOME": str(tmp_path)}
    if installed:
        command[0] = _storywatch_executable()
    else:
        # Only the files the image copies, run through the console script's target (pyproject's
        # [project.scripts]): a module or data file the bot needs from elsewhere in the repository fails here.
        sources = _image_sources(tmp_path / "image")
        project = tomllib.loads((REPO / "pyproject.toml").read_text())
        module, function = project["project"]["scripts"][command[0]].split(":")
        packages = [name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]]
        entry = tmp_path / "entry.py"
        entry.write_text(IMAGE_ENTRY.format(sources=str(sources), packages=packages, module=module,
                                            function=function))
        command[0:1] = [sys.executable, str(entry)]
    process = subprocess.Popen(command, cwd=volume, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        try:
            api.wait_until(lambda: any(c["command"] == "follow" for c in api.commands()), 20.0, "the bot's start")
        except AssertionError:
            process.kill()
            raise AssertionError(f"the bot did not start:\n{process.communicate(timeout=10)[0][-3000:]}") from None
        process.send_signal(signal.SIGTERM)  # as `docker stop` does
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0, output
    assert (volume / "storywatch.db").exists()
    assert TOKEN not in output


def _report(number: int, start: datetime) -> Item:
    link = f"https://wire.example/{number}"
    return Item(key=dedup_key(guid=None, link=link, title=f"Report {number}", scope="wire"),
                title=f"Dam {number % 7} overflows near town {number}", link=link, summary="", source="Wire",
                published=start + timedelta(seconds=number))


def test_a_backup_taken_while_the_bot_writes_restores_a_consistent_database(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    open_database(live).close()
    stop = threading.Event()
    written = [0]

    def writer() -> None:  # the bot's pipeline, storing reports and their stories without a pause
        db = open_database(live)
        pipeline = Pipeline()
        start = datetime(2024, 12, 6, tzinfo=UTC)
        try:
            while not stop.is_set():
                batch = [_report(written[0] + n, start) for n in range(20)]
                pipeline.process(db, batch, now=start)
                written[0] += len(batch)
        finally:
            db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    backups = []
    try:
        for number in range(3):
            target = tmp_path / f"backup-{number}.db"
            result = subprocess.run([sys.executable, "-m", "bot", "--db", str(live), "backup", str(target)],
                                    cwd=tmp_path, capture_output=True, text=True, timeout=120,
                                    env={**os.environ, "PYTHONPATH": str(REPO)})
            assert result.returncode == 0, result.stderr
            assert result.stdout.startswith(f"Backed up {live} to {target}")
            backups.append(target)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert written[0] > 0
    again = subprocess.run([sys.executable, "-m", "bot", "--db", str(live), "backup", str(backups[0])],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    assert again.returncode == 2 and "exists already" in again.stderr  # a backup never overwrites

    # Restore as the README says: the bot stopped, the copy in the database's place.
    restored = tmp_path / "restored.db"
    shutil.copyfile(backups[-1], restored)
    assert not Path(f"{backups[-1]}-wal").exists()  # the copy is one file
    conn = sqlite3.connect(restored)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        items, members = conn.execute("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM story_items)"
                                      ).fetchone()
    finally:
        conn.close()
    assert items > 0 and items == members and items % 20 == 0  # whole transactions, never half of one
    listed = subprocess.run([sys.executable, "-m", "bot", "--db", str(restored), "stories", "--json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert listed.returncode == 0 and json.loads(listed.stdout)
