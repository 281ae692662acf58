"""The held-out comparison refuses to run against another checkout's package."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "enterprise_held_out.py"


def load_script():
    spec = importlib.util.spec_from_file_location("enterprise_held_out", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checkout_the_script_is_in_is_accepted():
    assert load_script().imported_package_outside_checkout() is None


def test_a_script_in_another_checkout_is_told_to_set_pythonpath(tmp_path, monkeypatch):
    script = load_script()
    monkeypatch.setattr(script, "ROOT", tmp_path)
    problem = script.imported_package_outside_checkout()
    assert problem is not None
    assert f"PYTHONPATH={tmp_path}" in problem
