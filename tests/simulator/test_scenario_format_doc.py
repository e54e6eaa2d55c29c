"""docs/scenario-format.md: its examples are valid scenarios that pass, and it names every key."""
import re
from pathlib import Path

import pytest

from simulator import scenario as fmt
from simulator.core.settings import Settings
from simulator.runner import Runner

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.S)


def test_the_doc_has_a_complete_example_and_smaller_ones():
    assert len(EXAMPLES) >= 3
    assert EXAMPLES[0].startswith("name: Every key of the format")


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_every_example_is_a_scenario_that_passes(index):
    scenario = fmt.parse_scenario(EXAMPLES[index], f"{DOC.name} example {index + 1}")
    result = Runner().run(scenario)
    assert result.error is None
    assert result.failures == [] and result.passed


def _keys(model) -> tuple[str, ...]:
    """The keys a scenario model accepts, as written in a file."""
    return tuple(f.alias or name for name, f in model.model_fields.items())


# Models whose fields are file keys (WebhookStep and RedeliverStep take a payload / a ref as is).
ACCEPTED_KEYS = {
    "top level": _keys(fmt.Scenario), "settings": _keys(Settings), "call types": fmt.CALL_TYPES,
    "org": _keys(fmt.OrgSpec), "numbers": _keys(fmt.NumberSpec), "users": _keys(fmt.UserSpec),
    "records": _keys(fmt.RecordSpec), "events": _keys(fmt._EventItem), "call": _keys(fmt.CallStep),
    "sms": _keys(fmt.SmsStep), "contact": _keys(fmt.ContactSpec), "update": _keys(fmt.UpdateStep),
    "comment": _keys(fmt.CommentStep), "expect": _keys(fmt.Expectations),
    "timelines": _keys(fmt.ExpectedTimeline), "expect.records": _keys(fmt.ExpectedRecord),
    "expect.tasks": _keys(fmt.ExpectedTask), "expect.absent": _keys(fmt.AbsentRecord),
    "deliver": fmt.CALL_EVENTS, "org.order": fmt.ORDERS, "delivery": _keys(fmt.DeliveryPolicy),
    "sobjects": fmt.SOBJECTS,
}


@pytest.mark.parametrize("where", ACCEPTED_KEYS)
def test_every_accepted_key_is_documented(where):
    missing = [key for key in ACCEPTED_KEYS[where] if f"`{key}`" not in TEXT]
    assert missing == [], f"{DOC.name} does not document these {where} keys: {missing}"


def test_the_complete_example_uses_every_key():
    complete = EXAMPLES[0]
    keys = {k for group, keys in ACCEPTED_KEYS.items() if group not in ("sobjects", "call types", "deliver", "org.order")
            for k in keys}
    unused = sorted(k for k in keys if not re.search(rf"(^|[\s{{,]){re.escape(k)}:", complete, re.M))
    assert unused == []
