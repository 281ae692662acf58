"""The held-out comparison refuses to run against another checkout's package."""

from tests.support.benchmark_scripts import load_benchmark


def test_the_checkout_the_script_is_in_is_accepted():
    assert load_benchmark("enterprise_held_out").imported_package_outside_checkout() is None


def test_a_script_in_another_checkout_is_told_to_set_pythonpath(tmp_path, monkeypatch):
    script = load_benchmark("enterprise_held_out")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    problem = script.imported_package_outside_checkout()
    assert problem is not None
    assert f"PYTHONPATH={tmp_path}" in problem
