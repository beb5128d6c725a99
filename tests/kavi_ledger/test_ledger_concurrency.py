"""Many processes writing at once lose nothing (real processes, one real SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_helpers import CLI_SCRIPT
from sqlite_utils import Database

from kavi_ledger.db import open_ledger
from kavi_ledger.paths import KaviPaths

WRITER = """
import sys
from pathlib import Path
from kavi_ledger.db import open_ledger
from kavi_ledger.states import create_proposal

worker = int(sys.argv[2])
for i in range(10):
    db = open_ledger(Path(sys.argv[1]))  # reopen each time: opening races too
    create_proposal(db, name=f"w{worker}_{i}", description="d", io_schema={},
                    side_effect_class="READ_ONLY")
    db.close()
"""


def test_eight_writer_processes_of_ten_proposals_each_store_all_eighty(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"  # not created yet: the first writers also race to migrate
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ledger), str(n)], stderr=subprocess.PIPE, text=True
        )
        for n in range(8)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    db = open_ledger(ledger)
    names = {row["name"] for row in db.query("SELECT name FROM skill_proposals")}
    assert len(names) == 80
    assert names == {f"w{w}_{i}" for w in range(8) for i in range(10)}


@pytest.mark.slow
def test_eight_shells_of_four_propose_commands_lose_nothing(paths: KaviPaths) -> None:
    # Eight commands run at once throughout; each is a whole `kavi` process (~0.5 s of CPU),
    # so four rounds rather than ten: the overlap, not the count, is what is tested.
    loop = (
        'for i in 0 1 2 3; do "$PY" -c "$SCRIPT" propose --name "s${W}_$i" '
        "--desc d --side-effect READ_ONLY --io-schema-json '{}' >/dev/null || exit 1; done"
    )
    procs = [
        subprocess.Popen(
            ["sh", "-c", loop],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PY": sys.executable, "SCRIPT": CLI_SCRIPT, "W": str(w)},
        )
        for w in range(8)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    db: Database = open_ledger(paths.ledger)
    assert db.table("skill_proposals").count == 32
    assert db.table("artifacts").count == 32
