"""What a Kaseya VSA 9 integration is configured with (R13.4)."""

CREDENTIALS = ("username", "token")
OPTIONS = (
    ("post_alarms", "Post conditional alarms as VSA alarms", "bool"),
    ("agent_id", "Agent id the alarms are posted on", "text"),
    ("email_from", "Sender of VSA email actions", "text"),
)
