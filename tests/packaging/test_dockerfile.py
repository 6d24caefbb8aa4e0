"""The Dockerfile, checked without a container engine: its shape is read, and its RUN commands are run as
written, in fresh venvs standing in for the `python:3.11-slim` stages, with the paths of its ARGs moved
into a temporary folder (as `--build-arg` would); the image's venv must then hold a working `audit`.

Marked `packaging` (a build and two installs); `make test` runs it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from auditor.rules.engine import load_pack
from tests.packaging.support import ROOT, SKIPPED, clean_env, rule_ids, run

pytestmark = pytest.mark.packaging

DOCKERFILE = ROOT / "Dockerfile"
USER_SETUP = "useradd "
"""The one RUN command not run here (it would add a user to this machine): its uid is checked instead."""


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: list[Stage]


def parse(text: str) -> Dockerfile:
    """Instructions (continuation lines joined, comments dropped) grouped by stage; ARGs before FROM apart."""
    logical, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), " ".join(rest.split())
        if keyword == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(image.strip(), name.strip() or None))
        elif not stages:
            assert keyword == "ARG", line
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append((keyword, rest))
    return Dockerfile(args, stages)


def expand(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m.group(1) or m.group(2)], text)


def mounts_and_command(run_arg: str) -> tuple[list[dict[str, str]], str]:
    mounts = []
    while run_arg.startswith("--mount="):
        option, _, run_arg = run_arg.partition(" ")
        mounts.append(dict(part.split("=", 1) for part in option.removeprefix("--mount=").split(",")))
    return mounts, run_arg


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse(DOCKERFILE.read_text())


def test_two_stages_on_slim_python_and_the_final_one_runs_audit_unprivileged(dockerfile: Dockerfile) -> None:
    assert dockerfile.args["PYTHON_IMAGE"] == "python:3.11-slim"
    build, final = dockerfile.stages
    assert build.image == final.image == "${PYTHON_IMAGE}" and build.name == "build"
    assert json.loads(final.all("ENTRYPOINT")[-1]) == ["audit"]
    assert json.loads(final.all("CMD")[-1]) == ["run", "--config", "/etc/auditor/audit.toml"]
    user = final.all("USER")[-1]
    assert user not in ("root", "0")
    (user_setup,) = [arg for arg in final.all("RUN") if arg.startswith(USER_SETUP)]
    assert f"--uid {user}" in user_setup
    # nothing from the build context reaches the image but through the wheels; nothing compiles there
    assert not final.all("COPY") and not final.all("ADD")
    for arg in final.all("RUN"):
        assert not re.search(r"apt-get|apk |gcc|make|pip install (?!--no-cache-dir --no-index )", arg), arg


def test_the_run_commands_install_a_working_audit(dockerfile: Dockerfile, tmp_path: Path) -> None:
    """Each stage gets a fresh venv for its base image's `python`; ARG paths are moved under tmp_path."""
    env = clean_env(tmp_path)
    build_args = {name: str(tmp_path / "root" / default.strip("/")) for stage in dockerfile.stages
                  for name, _, default in (arg.partition("=") for arg in stage.all("ARG")) if default.startswith("/")}
    cache_mounts = 0
    for number, stage in enumerate(dockerfile.stages):
        base = tmp_path / f"base-{number}"
        run(sys.executable, "-m", "venv", base, cwd=tmp_path, env=env)
        values = {**env, "PATH": f"{base / 'bin'}{os.pathsep}{env['PATH']}"}
        workdir = tmp_path
        for keyword, arg in stage.instructions:
            if keyword == "ARG":
                name, _, default = arg.partition("=")
                values[name] = build_args.get(name, expand(default, values))
            elif keyword == "ENV":
                for pair in shlex.split(arg):
                    name, _, value = pair.partition("=")
                    values[name] = expand(value, values)
            elif keyword == "WORKDIR":
                workdir = Path(expand(arg, values))
                if not workdir.is_relative_to(tmp_path):  # a literal path of the image
                    workdir = tmp_path / "root" / str(workdir).strip("/")
                workdir.mkdir(parents=True, exist_ok=True)
            elif keyword == "COPY":
                *sources, target = shlex.split(arg)
                for source in sources:
                    _copy(ROOT / source, workdir / target if source.endswith("/") else workdir / target / source)
            elif keyword == "RUN" and not arg.startswith(USER_SETUP):
                mounts, command = mounts_and_command(arg)
                for mount in mounts:
                    if mount["type"] == "cache":  # pip's own cache on this machine stands in for it
                        cache_mounts += 1
                        continue
                    assert mount["type"] == "bind" and mount["from"] == "build"
                    assert expand(mount["source"], values) == expand(mount["target"], values)  # same path here
                run("sh", "-c", command, cwd=workdir, env=values, timeout=900)
    venv = Path(build_args["VENV"])
    site = next((venv / "lib").glob("python3.*/site-packages"))
    assert not [p.name for p in site.iterdir() if re.match(r"(pip|setuptools|wheel|build)([-.]|$)", p.name)]
    assert not list((tmp_path / "base-1").glob("lib/python3.*/site-packages/pip"))  # removed from the image
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    audit_env = clean_env(tmp_path, venv / "bin")
    version = run("audit", "--version", cwd=elsewhere, env=audit_env).stdout
    assert "rule pack: built-in" in version and "botocore " in version
    listing = run("audit", "rules", "list", cwd=elsewhere, env=audit_env).stdout
    assert rule_ids(listing) == [r.meta.id for r in load_pack(ROOT / "rules").rules]
    run("audit", "scan", ROOT / "terraform" / "stack", cwd=elsewhere, env=audit_env)
    demo = subprocess.run(["audit", "demo", "--clean"], cwd=elsewhere, env=audit_env, capture_output=True, text=True)
    assert demo.returncode == 1 and demo.stderr.startswith("error: ") and "auditor[demo]" in demo.stderr


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(*SKIPPED, "*.pyc"), dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
