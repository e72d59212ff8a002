"""The table of integration kinds (integrations/kinds.py) is the one place a kind is declared:
every dotted path in it resolves, the model, forms and the outbox read it, and a new PSA
needs nothing but its folder and its row."""

import ast
from pathlib import Path

import pytest

from integrations import kinds
from integrations.forms import IntegrationForm
from integrations.models import Integration
from integrations.psa.client import PsaClient
from notifications.channels import CHANNELS, _integration_channels
from notifications.channels.base import Channel
from notifications.channels.psa import PsaChannel

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", kinds.TABLE, ids=lambda kind: kind.value)
def test_every_dotted_path_of_a_kind_resolves(kind):
    for field, path in kind.dotted_paths().items():
        assert kinds.resolve(path) is not None, f"{kind.value}.{field} = {path}"
    assert kind.role in kinds.ROLES
    assert kind.credential_fields and all(isinstance(name, str) for name in kind.credential_fields)
    assert all(len(option) == 3 and option[2] in ("text", "bool") for option in kind.option_fields)


def test_the_model_choices_are_the_table_in_its_order():
    assert Integration.Kind.choices == kinds.CHOICES
    assert Integration.Kind.CONNECTWISE == "connectwise" and Integration.Kind.VSA9.label == "Kaseya VSA 9"


def test_every_psa_kind_gets_a_channel_that_calls_its_client():
    assert kinds.with_role(kinds.PSA) == ("connectwise", "autotask", "bms", "vorex")
    for value in kinds.with_role(kinds.PSA):
        channel = CHANNELS[value]
        assert issubclass(channel, PsaChannel) and channel.kind == value
        assert issubclass(kinds.get(value).client_class, PsaClient)
    assert list(CHANNELS) == ["email", "connectwise", "autotask", "bms", "vorex", "vsa9", "webhook"]


def test_every_kind_with_a_role_that_delivers_has_a_channel_and_sources_have_a_poller():
    for kind in kinds.TABLE:
        if kind.role in (kinds.PSA, kinds.RMM):
            assert issubclass(CHANNELS[kind.value], Channel)
        else:
            assert kind.poller and kind.value not in CHANNELS


def test_a_new_psa_is_one_row_in_the_table(monkeypatch):
    row = kinds.Kind("halo", "HaloPSA", kinds.PSA, credentials="integrations.connectwise.fields.CREDENTIALS",
                     options="integrations.psa.fields.OPTIONS",
                     client="integrations.connectwise.client.ConnectWiseClient",
                     channel="notifications.channels.psa.PsaChannel",
                     connection_test="integrations.psa.connection.test_connection",
                     save_check="integrations.psa.connection.save_check")
    monkeypatch.setattr(kinds, "TABLE", (*kinds.TABLE, row))
    monkeypatch.setitem(kinds.KINDS, "halo", row)
    assert "halo" in kinds.with_role(kinds.PSA)
    assert _integration_channels()["halo"].kind == "halo"
    form = IntegrationForm(kind="halo")
    assert "credential_private_key" in form.fields and "option_closed_status" in form.fields


def test_integrations_never_imports_notifications_or_alerts():
    offenders = []
    for path in (ROOT / "integrations").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("alerts", "notifications")]
    assert offenders == []
