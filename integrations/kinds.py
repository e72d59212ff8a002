"""The table of integration kinds: what each external system is and where its code lives.

One row per `Integration.kind`. The model's choices, the settings form, the API's
validation, the poll dispatch, the connection test and the outbox's channels all
read this table; nothing registers itself at start-up. The code is named by
dotted path (resolved on first use and cached), so reading the table imports no
vendor module.

- `credentials`, `options`: dotted paths to the tuples of credential names and of
  option fields `(name, label, "text" | "bool")` the kind's form and API accept.
- `client`: the vendor's HTTP client class.
- `poller(integration, now) -> str`: syncs a source now (appliances, SaaS); raises on failure.
- `channel`: the `notifications.channels` class that delivers alerts to this kind (PSA, RMM).
  Only `notifications` resolves it; `integrations` never imports `notifications`.
- `connection_test(integration) -> str`: a success sentence, or raises `ConnectionFailed`.
- `save_check(unsaved_integration)`: raises to refuse a save (one PSA per account, R13.4's VSA 10).

Adding a vendor: a folder `integrations/<vendor>/` and one row here
(docs/adding-an-integration.md).
"""

from dataclasses import dataclass
from functools import cache

from django.utils.module_loading import import_string

APPLIANCE, SAAS, PSA, RMM = "appliance", "saas", "psa", "rmm"
ROLES = (APPLIANCE, SAAS, PSA, RMM)


@dataclass(frozen=True)
class Kind:
    value: str
    label: str
    role: str
    credentials: str
    options: str = ""
    client: str = ""
    poller: str = ""
    channel: str = ""
    connection_test: str = ""
    save_check: str = ""

    @property
    def credential_fields(self) -> tuple[str, ...]:
        return resolve(self.credentials)

    @property
    def option_fields(self) -> tuple[tuple[str, str, str], ...]:
        return resolve(self.options) if self.options else ()

    @property
    def client_class(self):
        return resolve(self.client)

    def dotted_paths(self) -> dict[str, str]:
        """Every dotted path of this row that is set, by field name."""
        names = ("credentials", "options", "client", "poller", "channel", "connection_test", "save_check")
        return {name: getattr(self, name) for name in names if getattr(self, name)}


_PSA = "integrations.psa"


def psa(value: str, label: str, client: str) -> Kind:
    """A PSA's row: its folder `integrations/<value>/` holds `fields.CREDENTIALS` and the
    client class; the options, the channel, the connection test and the save check are every PSA's."""
    return Kind(value, label, PSA,
                credentials=f"integrations.{value}.fields.CREDENTIALS", options=f"{_PSA}.fields.OPTIONS",
                client=f"integrations.{value}.client.{client}", channel="notifications.channels.psa.PsaChannel",
                connection_test=f"{_PSA}.connection.test_connection", save_check=f"{_PSA}.connection.save_check")


TABLE = (
    Kind("unitrends", "Unitrends appliance", APPLIANCE,
         credentials="integrations.unitrends.fields.CREDENTIALS",
         client="integrations.unitrends.client.UnitrendsClient",
         poller="integrations.unitrends.poller.poll",
         connection_test="integrations.unitrends.connection.test_connection"),
    Kind("spanning_m365", "Spanning Backup for Microsoft 365", SAAS,
         credentials="integrations.spanning.fields.M365_CREDENTIALS",
         client="integrations.spanning.client.M365Client",
         poller="integrations.spanning.poller.poll",
         connection_test="integrations.spanning.connection.test_connection"),
    Kind("spanning_gws", "Spanning Backup for Google Workspace", SAAS,
         credentials="integrations.spanning.fields.GWS_CREDENTIALS",
         client="integrations.spanning.client.GoogleClient",
         poller="integrations.spanning.poller.poll",
         connection_test="integrations.spanning.connection.test_connection"),
    Kind("spanning_salesforce", "Spanning Backup for Salesforce", SAAS,
         credentials="integrations.spanning.fields.SALESFORCE_CREDENTIALS",
         client="integrations.spanning.client.SalesforceClient",
         poller="integrations.spanning.poller.poll",
         connection_test="integrations.spanning.connection.test_connection"),
    Kind("datto", "Datto Portal (Backup for Microsoft Azure)", SAAS,
         credentials="integrations.datto.fields.CREDENTIALS",
         client="integrations.datto.client.DattoApi",
         poller="integrations.datto.poller.poll",
         connection_test="integrations.datto.connection.test_connection"),
    psa("connectwise", "ConnectWise Manage", "ConnectWiseClient"),
    psa("autotask", "Autotask", "AutotaskClient"),
    psa("bms", "Kaseya BMS", "BmsClient"),
    psa("vorex", "Vorex", "VorexClient"),
    Kind("vsa9", "Kaseya VSA 9", RMM,
         credentials="integrations.vsa.fields.CREDENTIALS", options="integrations.vsa.fields.OPTIONS",
         client="integrations.vsa.client.VsaClient", channel="notifications.channels.vsa.VsaChannel",
         connection_test="integrations.vsa.connection.test_connection",
         save_check="integrations.vsa.connection.test_connection"),  # R13.4: a VSA 10 is refused on save too
)
KINDS: dict[str, Kind] = {kind.value: kind for kind in TABLE}
CHOICES = [(kind.value, kind.label) for kind in TABLE]


@cache
def resolve(dotted_path: str):
    """The object a dotted path names, imported once."""
    return import_string(dotted_path)


def get(value: str) -> Kind | None:
    return KINDS.get(value)


def with_role(*roles: str) -> tuple[str, ...]:
    """The kind values of these roles, in table order."""
    return tuple(kind.value for kind in TABLE if kind.role in roles)

