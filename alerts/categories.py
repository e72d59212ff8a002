"""The appliance alert categories (R2.3) and the alert kinds (API.md), kept in one place."""

CATEGORIES = {
    "backup": "Backup job failed or finished with warnings.",
    "hot_copy": "Backup copy to the Unitrends Cloud or a secondary appliance failed.",
    "cold_copy": "Backup copy to cloud storage, tape or NAS failed.",
    "certification": "A Recovery Assurance or DCA certification job failed.",
    "appliance": "Appliance offline (no contact for 30 minutes), services or hardware faults.",
    "storage": "Storage offline or nearly full.",
    "license": "License or support contract expiring or expired.",
    "asset": "Agent offline or out of date, asset unprotected.",
    "security": "Possible ransomware detected.",
    "updates": "Appliance update available or failed.",
}

KINDS = {
    "appliance_offline": "Appliance offline",
    "appliance_alert": "Appliance alert",
    "appliance_upgrade": "Appliances to upgrade",
    "backup_alarm": "Backup alarm",
    "hot_copy_alarm": "Hot backup copy alarm",
    "spanning_m365": "Spanning Microsoft 365",
    "spanning_gws": "Spanning Google Workspace",
    "spanning_salesforce": "Spanning Salesforce",
    "dbma_backup": "Datto Backup for Microsoft Azure",
    "dbma_integration": "Datto Portal integration",
    "purging": "Purging insights",
    # R17: noise control (alerts/storms.py, alerts/rules/vendor_incident.py).
    "alert_storm": "Alert storm",
    "vendor_incident": "Vendor incident",
}

KIND_CHOICES = list(KINDS.items())  # as Alert.kind declares them; names the API's AlertKindEnum


def default_category_toggles() -> dict[str, bool]:
    return {name: True for name in CATEGORIES}
