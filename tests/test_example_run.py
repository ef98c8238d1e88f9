"""`make run`: the embedded example works end to end from a fresh directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_embedded_example_runs_and_records(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    result = subprocess.run(
        [sys.executable, "examples/embedded.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "kill switch: {'killed': 500} for 500 requests" in out
    assert "dropped 0, failed 0" in out
    recorded = re.search(r"([\d,]+) exposures, ([\d,]+) outputs, ([\d,]+) outcomes", out)
    assert recorded is not None, out
    assert all(int(group.replace(",", "")) > 0 for group in recorded.groups())
    assert (tmp_path / ".trustramp" / "embedded-example.db").stat().st_size > 0
