"""pytest collects ``scenarios/**/*.yaml`` as test items; a failure shows the report's tables.

Only files under the ``scenarios`` folder at the root of the run are collected. The transport
follows the fake org's plugin: ``--fake-sf-transport=http`` (or ``FAKE_SF_TRANSPORT=http``) runs
the scenarios against a real server on a socket.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

_RUNNER_KEY = pytest.StashKey[dict]()


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
    root = Path(str(parent.config.rootpath)) / "scenarios"
    if root not in file_path.parents:
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


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
