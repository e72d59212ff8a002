"""The rules, one module per alert kind. Each exports `conditions(account, now)`.

The registry below says which kinds each rule owns, so the reconciler can
resolve a kind's open alerts when its rule yields nothing for them.
"""

from alerts.rules import (
    appliance,
    appliance_alerts,
    backup_alarm,
    dbma,
    hot_copy_alarm,
    purging,
    spanning,
    upgrade,
)

RULES = [
    (("appliance_offline",), appliance.conditions),
    (("appliance_alert",), appliance_alerts.conditions),
    (("appliance_upgrade",), upgrade.conditions),
    (("purging",), purging.conditions),
    (("backup_alarm",), backup_alarm.conditions),
    (("hot_copy_alarm",), hot_copy_alarm.conditions),
    (("spanning_m365", "spanning_gws", "spanning_salesforce"), spanning.conditions),
    (("dbma_integration", "dbma_backup"), dbma.conditions),
]
