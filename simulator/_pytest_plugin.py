"""pytest collects scenario files as test items; a failure shows the report's tables.

Opt-in: only the folders (or files) named by the ``callsim_scenarios`` ini option are
collected, so a project's other YAML files are never taken for scenarios::

    [tool.pytest.ini_options]
    callsim_scenarios = ["scenarios"]

Every ``.yaml``/``.yml`` file under them must then be a scenario. ``-p no:callsim`` turns the
plugin off. The transport follows the fake org's plugin: ``--fake-sf-transport=http`` (or
``FAKE_SF_TRANSPORT=http``) runs the scenarios against a real server on a socket.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

_RUNNER_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addini("callsim_scenarios", type="paths", default=[],
                  help="folders or files of callsim scenarios to collect as tests (none by default)")


def pytest_configure(config):
    config.stash[_RUNNER_KEY] = {}


def pytest_unconfigure(config):
    state = config.stash.get(_RUNNER_KEY, {})
    server = state.get("server")
    if server is not None:
        server.stop()


def _runner(config):
    state = config.stash[_RUNNER_KEY]
    if "runner" not in state:
        from simulator.runner import Runner

        transport = (config.getoption("--fake-sf-transport", default=None)
                     or os.environ.get("FAKE_SF_TRANSPORT") or "inprocess")
        if transport == "http":
            from fake_salesforce.server import FakeServer

            state["server"] = FakeServer().start()
            state["runner"] = Runner(state["server"].url)
        else:
            state["runner"] = Runner()
    return state["runner"]


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    for root in parent.config.getini("callsim_scenarios"):
        if file_path == root or root in file_path.parents:
            return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        from simulator.scenario import ScenarioError, load_scenario

        try:
            scenario = load_scenario(self.path)
        except ScenarioError as e:
            raise self.CollectError(str(e)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioFailed(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        for rule in scenario.covers:
            self.add_marker(pytest.mark.rule(rule))

    def runtest(self):
        from simulator.report import scenario_report

        result = _runner(self.config).run(self.scenario)
        if not result.passed:
            raise ScenarioFailed(scenario_report(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"scenario: {self.name}"
