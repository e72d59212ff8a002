"""Options an account sets on its PSA integration (`Integration.options`), the same for every PSA:
board (CW board id / Autotask queue id / BMS queue id), priority (the default) and the priority
each severity maps to (R20.1: priority_critical, priority_warning, priority_info), ticket_type, status
(new-ticket status), default_company, close_on_resolve (bool), closed_status, rate_per_minute.
The organization → company mapping lives in notifications' PsaCompanyMapping."""

OPTIONS = (
    ("board", "Board / queue id", "text"),
    ("priority", "Priority id", "text"),
    ("priority_critical", "Priority id for critical alerts", "text"),
    ("priority_warning", "Priority id for warnings", "text"),
    ("priority_info", "Priority id for information", "text"),
    ("ticket_type", "Ticket type id", "text"),
    ("status", "New ticket status id", "text"),
    ("default_company", "Default company id", "text"),
    ("close_on_resolve", "Close the ticket when the alert resolves", "bool"),
    ("closed_status", "Closed status id", "text"),
    ("rate_per_minute", "Calls per minute at most", "text"),
)
