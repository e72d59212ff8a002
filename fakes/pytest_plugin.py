"""One fixture per vendor fake, each started on loopback for one test and stopped after it.

Registered by tests/conftest.py (`pytest_plugins`). Every fixture yields the fake itself: set
its data, turn its knobs (`fakes.base`), read `fake.requests`.

| fixture | fake |
|---|---|
| `unitrends_fake` | `UnitrendsFake` serving one appliance "ueb-01" (10.8.2) filled by `populate()` |
| `m365_fake`, `google_fake`, `salesforce_fake` | Spanning Backup for Microsoft 365, Google Workspace, Salesforce |
| `datto_fake` | Datto Portal (DBMA) |
| `connectwise_fake`, `autotask_fake`, `bms_fake`, `vorex_fake` | the PSAs |
| `psa` | each PSA in turn: `(kind, fake)` |
| `vsa_fake` | Kaseya VSA 9 |
| `webhook_receiver` | a webhook receiver |
| `smtp_fake` | an SMTP server (aiosmtpd); `smtp`: the same, with Django's mail settings pointed at it |
"""

import pytest

from fakes.datto import DattoFake
from fakes.psa import FAKES
from fakes.smtp import SmtpFake
from fakes.spanning import GoogleFake, M365Fake, SalesforceFake
from fakes.unitrends import FakeAppliance, UnitrendsFake, populate
from fakes.vsa import VsaFake
from fakes.webhook import WebhookReceiver


@pytest.fixture
def unitrends_fake():
    with UnitrendsFake({"": populate(FakeAppliance("ueb-01", "10.8.2"))}) as fake:
        yield fake


@pytest.fixture
def m365_fake():
    with M365Fake() as fake:
        yield fake


@pytest.fixture
def google_fake():
    with GoogleFake() as fake:
        yield fake


@pytest.fixture
def salesforce_fake():
    with SalesforceFake() as fake:
        yield fake


@pytest.fixture
def datto_fake():
    with DattoFake() as fake:
        yield fake


@pytest.fixture
def connectwise_fake():
    with FAKES["connectwise"]() as fake:
        yield fake


@pytest.fixture
def autotask_fake():
    with FAKES["autotask"]() as fake:
        yield fake


@pytest.fixture
def bms_fake():
    with FAKES["bms"]() as fake:
        yield fake


@pytest.fixture
def vorex_fake():
    with FAKES["vorex"]() as fake:
        yield fake


@pytest.fixture(params=["connectwise", "autotask", "bms", "vorex"])
def psa(request):
    """Each PSA in turn: (kind, its fake on loopback)."""
    yield request.param, request.getfixturevalue(f"{request.param}_fake")


@pytest.fixture
def vsa_fake():
    with VsaFake() as fake:
        yield fake


@pytest.fixture
def webhook_receiver():
    with WebhookReceiver() as fake:
        yield fake


@pytest.fixture
def smtp_fake():
    with SmtpFake() as fake:
        yield fake


@pytest.fixture
def smtp(smtp_fake):
    """A real SMTP server on loopback that the mail backend sends to."""
    from django.test import override_settings  # noqa: PLC0415

    with override_settings(
        EMAIL_BACKEND="notifications.channels.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp_fake.port, EMAIL_USE_TLS=False,
    ):
        yield smtp_fake
