"""Layers that only point down: no module of ``eas_pipelines`` imports one of a higher layer.

Why: a connector or an agent is cheap to add only while each part can be read, changed and tested
with what lies below it. ``lanes/`` (the queue library) importing ``agents/`` made every worker
test load the agents' jobs; ``resources/`` importing ``lanes/`` and ``lanes/`` importing ``agents/``
(which import ``resources/``) was a cycle waiting to happen.

:data:`LAYERS` is the order, lowest first. A *unit* is a top-level module or package of
``eas_pipelines`` (``runs``, ``lanes``, ...). A module may import its own unit and the units of
lower layers; units of one layer are peers and import each other neither. Every import counts,
including those under ``if TYPE_CHECKING:`` and inside functions: each is a dependency someone
has to understand. A new top-level module or package fails :func:`test_every_unit_has_a_layer`
until it is given its place here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import eas_pipelines

PACKAGE = "eas_pipelines"
ROOT = Path(eas_pipelines.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("pii", "transform", "dagster_storage"),  # PII masking; data transformation; Dagster's event log storage
    # a rule's format; the request store; per-agent pod resources; metrics, traces and logs
    ("blackouts", "store", "k8s_resources", "observability"),
    ("settings",),  # the validated EAS_* configuration
    ("embedded", "routing"),  # the embedded servers; the routing table (intent -> agent, job)
    ("runs",),  # the run protocol: run config, tags, keys, the unroutable request
    ("recovery",),  # the retry-or-fail rule after a failed or lost run
    ("lanes",),  # the fast lane's queue library: queue, heartbeats, stranded-request pass
    ("resources",),  # Dagster resources: store, fast lane, policy, circuit breakers
    ("connectors",),  # one module per enterprise system: a resource returning the vendor's client
    ("agents",),  # the agents' workflow jobs
    ("sensors", "workers", "gateway"),  # what drives the jobs: Dagster's daemon, warm workers, intake API
    ("definitions",),  # the one Dagster code location
    ("cli",),  # `eas ...`: starts any of the above
)
"""The layers, lowest first; each inner tuple holds peer units."""

LAYER_OF: dict[str, int] = {unit: index for index, peers in enumerate(LAYERS) for unit in peers}


@dataclass(frozen=True)
class Import:
    """One import of an ``eas_pipelines`` module by another: where it stands and what it names."""

    path: Path
    line: int
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT.parent)}:{self.line} imports {self.target}"


def unit_of(module: str) -> str | None:
    """``eas_pipelines.lanes.fast_queue`` -> ``lanes``; the package itself -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every import of an ``eas_pipelines`` module in ``path`` (relative imports resolved)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from eas_pipelines import lanes`` names a unit as an attribute: count each name.
            targets = [f"{base}.{alias.name}" for alias in node.names] if base == PACKAGE else [base]
        found += [
            Import(path, node.lineno, module, target)
            for target in targets
            if target == PACKAGE or target.startswith(PACKAGE + ".")
        ]
    return found


def violations(imports: list[Import]) -> list[str]:
    """Why each import that points up (or sideways, to a peer) breaks the layering."""
    problems = []
    for imp in imports:
        source, target = unit_of(imp.module), unit_of(imp.target)
        if source is None or target is None or source == target:
            continue
        if source not in LAYER_OF or target not in LAYER_OF:
            continue  # reported by test_every_unit_has_a_layer
        low, high = LAYER_OF[source], LAYER_OF[target]
        if high > low:
            why = f"{source} (layer {low}) may not import the higher {target} (layer {high})"
        elif high == low:
            why = f"{source} and {target} are peers (layer {low}) and may not import each other"
        else:
            continue
        problems.append(f"{imp}: {why}")
    return problems


def all_imports() -> list[Import]:
    return [imp for path in sorted(ROOT.rglob("*.py")) for imp in imports_of(path)]


def test_every_unit_has_a_layer():
    modules = {path.stem for path in ROOT.glob("*.py") if path.stem != "__init__"}
    units = modules | {path.parent.name for path in ROOT.glob("*/__init__.py")}
    missing = sorted(units - set(LAYER_OF))
    assert not missing, f"eas_pipelines units without a layer (add them to LAYERS): {missing}"
    assert not sorted(set(LAYER_OF) - units), "LAYERS names units that no longer exist"


def test_layers_only_point_down():
    imports = all_imports()
    assert len(imports) > 100  # the walk found the package's imports at all
    problems = violations(imports)
    assert not problems, "imports that point up a layer:\n  " + "\n  ".join(problems)


def test_an_upward_import_is_named_with_its_place():
    path = ROOT / "lanes" / "example.py"
    source = (
        "from typing import TYPE_CHECKING\n"
        "from eas_pipelines.runs import TAG_LANE\n"
        "if TYPE_CHECKING:\n"
        "    from eas_pipelines.agents.common import WorkItem\n"
        "def later():\n"
        "    from ..workers import worker\n"
        "from . import heartbeat\n"
    )
    problems = violations(imports_of(path, source))
    assert problems == [
        "eas_pipelines/lanes/example.py:4 imports eas_pipelines.agents.common: "
        "lanes (layer 6) may not import the higher agents (layer 9)",
        "eas_pipelines/lanes/example.py:6 imports eas_pipelines.workers: "
        "lanes (layer 6) may not import the higher workers (layer 10)",
    ]
    peers = violations(imports_of(ROOT / "gateway" / "example.py", "import eas_pipelines.workers.process\n"))
    assert peers == [
        "eas_pipelines/gateway/example.py:1 imports eas_pipelines.workers.process: "
        "gateway and workers are peers (layer 10) and may not import each other"
    ]
