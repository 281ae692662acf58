"""The Dockerfile of the EAS image, read as instructions (no Docker daemon needed).

What is checked is what the chart relies on and what keeps the image small and safe: two stages, a
base pinned to a Python 3.11 patch release (never ``latest``), the final stage holding only the
virtual environment and workspace.yaml, a numeric non-root user equal to the chart's runAsUser, a
command that exists, torch installed at the version pyproject.toml pins from PyTorch's CPU index
by default, and a .dockerignore that keeps the local state out without hiding what is copied.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import typer.main
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int
    """Index of the stage (FROM) the instruction belongs to."""


def parse(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments and blank lines dropped, backslash continuations joined."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, arguments.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return instructions


INSTRUCTIONS = parse(DOCKERFILE.read_text())
STAGES = [i for i in INSTRUCTIONS if i.keyword == "FROM"]
FINAL = len(STAGES) - 1


def of(keyword: str, stage: int | None = None) -> list[Instruction]:
    return [i for i in INSTRUCTIONS if i.keyword == keyword and (stage is None or i.stage == stage)]


def copy_sources(instruction: Instruction) -> tuple[list[str], str, dict[str, str]]:
    """(sources, destination, flags) of a COPY."""
    words = instruction.arguments.split()
    flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1], paths[-1], flags


def test_multi_stage_on_a_pinned_python_311_slim_base() -> None:
    assert len(STAGES) >= 2
    builder_names = set()
    for stage in STAGES:
        image, *rest = stage.arguments.split()
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image
        assert "latest" not in image
        if rest:
            assert rest[0].upper() == "AS"
            builder_names.add(rest[1])
    assert STAGES[0].arguments.split()[0] == STAGES[FINAL].arguments.split()[0], (
        "the venv moves between equal bases"
    )
    copies_from = {copy_sources(c)[2].get("from") for c in of("COPY", FINAL)} - {None}
    assert copies_from and copies_from <= builder_names


def test_final_stage_copies_only_the_venv_and_the_workspace() -> None:
    copies = [copy_sources(c) for c in of("COPY", FINAL)]
    assert copies == [
        (["/opt/venv"], "/opt/venv", {"from": "builder"}),
        (["workspace.yaml"], "/opt/eas/workspace.yaml", {}),
    ]
    assert of("ADD") == [], "ADD fetches and unpacks implicitly: COPY only"
    assert (ROOT / "workspace.yaml").is_file()
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "eas_pipelines.definitions"
    env = " ".join(i.arguments for i in of("ENV", FINAL))
    assert "PATH=/opt/venv/bin:$PATH" in env


def test_builder_installs_every_package_of_the_project() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {src for c in of("COPY", 0) for src in copy_sources(c)[0]}
    assert {"pyproject.toml", "README.md"} <= copied  # README.md: the project's readme, read by the build
    assert packages <= copied, packages - copied
    runs = " ".join(i.arguments for i in of("RUN", 0))
    assert "pip install ." in runs
    assert "python -m venv /opt/venv" in runs


def test_torch_is_the_pinned_version_from_the_cpu_index_by_default() -> None:
    (arg,) = [i for i in of("ARG", 0) if i.arguments.startswith("TORCH_VARIANT")]
    assert arg.arguments == "TORCH_VARIANT=cpu"
    (torch_install,) = [i for i in of("RUN", 0) if "download.pytorch.org" in i.arguments]
    assert '--index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}"' in torch_install.arguments
    assert 'startswith("torch==")' in torch_install.arguments, "the pin is read from pyproject.toml"
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(re.fullmatch(r"torch==\d+\.\d+\.\d+", d) for d in deps), "pyproject.toml pins torch exactly"
    # It precedes the project's own install, which then finds the pin satisfied.
    runs = of("RUN", 0)
    assert runs.index(torch_install) < next(i for i, r in enumerate(runs) if "pip install ." in r.arguments)


def test_runs_as_a_fixed_non_root_uid_matching_the_chart() -> None:
    (user,) = of("USER", FINAL)
    uid, _, gid = user.arguments.partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric, so that Kubernetes can verify runAsNonRoot"
    assert gid.isdigit() and int(gid) != 0
    assert INSTRUCTIONS.index(user) > max(INSTRUCTIONS.index(i) for i in of("RUN", FINAL))
    values = yaml.safe_load((ROOT / "helm" / "eas" / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == int(uid)
    assert values["containerSecurityContext"]["runAsUser"] == int(uid)
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)


def test_default_command_is_an_eas_command_in_exec_form() -> None:
    from eas_pipelines.cli import app

    assert of("ENTRYPOINT") == []
    (cmd,) = of("CMD", FINAL)
    command = json.loads(cmd.arguments)  # exec form: signals reach the process, no shell
    assert command[0] == "eas" and command[1] in typer.main.get_command(app).commands


def test_dockerignore_keeps_local_state_out_but_not_what_is_copied() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for excluded in (".venv", ".git", "models", "tests", ".eas"):
        assert excluded in patterns, excluded
    for copy in of("COPY"):
        sources, _, flags = copy_sources(copy)
        if "from" in flags:
            continue
        for source in sources:
            assert not any(fnmatch.fnmatch(source, p) for p in patterns), f"{source} is copied but ignored"
            assert (ROOT / source).exists(), source
