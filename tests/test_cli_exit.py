"""The console script ends without tearing the interpreter down: its output must still all arrive."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import cli

AUDIT = str(Path(sys.executable).parent / "audit")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def _audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AUDIT, *args], capture_output=True, text=True, env=_env(), timeout=60, check=False)


def test_every_byte_of_a_long_output_is_flushed_before_the_process_ends() -> None:
    expected = CliRunner().invoke(cli, ["resources"]).output
    done = _audit("resources")
    assert (done.returncode, done.stderr) == (0, "")
    assert len(expected) > 20_000 and done.stdout == expected


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    read_end, write_end = os.pipe()  # `audit resources | head -c 10`
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # the writer blocks before it is done: a sure EPIPE
    with subprocess.Popen([AUDIT, "resources"], stdout=write_end, stderr=subprocess.PIPE, text=True,
                          env=_env()) as process:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reader:
            assert reader.read(10) == b"aws_acm_ce"
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_exit_codes_and_one_line_errors_survive_the_fast_exit(tmp_path: Path) -> None:
    assert _audit("--version").returncode == 0
    usage = _audit("no-such-command")
    assert usage.returncode == 1 and "No such command" in usage.stderr
    missing = _audit("run", "--state", str(tmp_path / "absent.tfstate"), "--region", "us-east-1")
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and missing.stderr.startswith("error: no state could be read")
