"""Another process that holds an SQLite database's write lock, for tests/test_faults.py.

    python tests/faults_locker.py DB

It takes the lock (BEGIN EXCLUSIVE, then a write of its own) and prints "locked". Then it obeys lines on
standard input: "hold SECONDS" keeps the lock that long more and prints "held"; "commit" commits, prints
"released" and exits. End of input commits too. Every step is announced, so the test waits on what this
process says rather than on the clock.
"""

from __future__ import annotations

import sqlite3
import sys
import time


def main() -> None:
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")
    # A write of its own, so that the others' snapshots are stale once it commits: a reader that started
    # before the commit cannot upgrade to a writer afterwards.
    conn.execute("CREATE TABLE IF NOT EXISTS faults_probe (at REAL)")
    conn.execute("INSERT INTO faults_probe VALUES (?)", [time.time()])
    print("locked", flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "hold":
            time.sleep(float(argument))  # the lock's duration is the point here, not a synchronisation
            print("held", flush=True)
        elif command == "commit":
            break
    conn.execute("COMMIT")
    conn.close()
    print("released", flush=True)


if __name__ == "__main__":
    main()
