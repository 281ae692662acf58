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


def global_args() -> dict[str, str]:
    """The ARGs declared before the first FROM (the only ones a FROM line may use), with defaults."""
    return dict(i.arguments.partition("=")[::2] for i in of("ARG", -1))


def base_image(stage: Instruction) -> str:
    """A stage's base as built by default: ``${ARG}`` replaced by the global ARG's default."""
    image = stage.arguments.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: global_args()[m.group(1)], image)


def test_multi_stage_on_a_pinned_python_311_slim_base() -> None:
    assert len(STAGES) >= 2
    builder_names = set()
    for stage in STAGES:
        image = base_image(stage)
        rest = stage.arguments.split()[1:]
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image
        assert "latest" not in image
        if rest:
            assert rest[0].upper() == "AS"
            builder_names.add(rest[1])
    assert STAGES[0].arguments.split()[0] == STAGES[FINAL].arguments.split()[0], (
        "the venv moves between equal bases (one ARG names both)"
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
    args = dict(i.arguments.partition("=")[::2] for i in of("ARG", 0))
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", args["PIP_VERSION"]), "pip is pinned, not the base's"
    assert '"pip==${PIP_VERSION}"' in runs
    assert runs.index("pip==") < runs.index("pip install ."), "the pinned pip installs the project"


def test_torch_is_the_pinned_version_from_the_cpu_index_by_default() -> None:
    args = dict(i.arguments.partition("=")[::2] for i in of("ARG", 0))
    assert args["TORCH_VARIANT"] == "cpu"
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/${TORCH_VARIANT}"
    (torch_install,) = [i for i in of("RUN", 0) if "TORCH_INDEX_URL" in i.arguments]
    assert '--index-url "${TORCH_INDEX_URL}"' in torch_install.arguments
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


SCRIPTS = (ROOT / "docker" / "build-offline.sh", ROOT / "docker" / "check-image.sh")


def test_offline_build_sets_only_args_the_dockerfile_declares() -> None:
    """docker/build-offline.sh swaps the base and torch's index through build args: a renamed ARG would
    silently build from Docker Hub and PyTorch's index again."""
    declared = {i.arguments.partition("=")[0] for i in of("ARG")}
    passed = set(re.findall(r"--build-arg (\w+)=", SCRIPTS[0].read_text()))
    assert passed == {"PYTHON_IMAGE", "TORCH_INDEX_URL"}
    assert passed <= declared, passed - declared
    assert '-f "$ROOT/Dockerfile"' in SCRIPTS[0].read_text(), "the repository's Dockerfile, not a copy"


def test_image_scripts_are_valid_bash() -> None:
    import subprocess

    for script in SCRIPTS:
        assert script.stat().st_mode & 0o111, f"{script.name} is executable"
        subprocess.run(["bash", "-n", str(script)], check=True)
