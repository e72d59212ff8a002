from django.db import models


class Heartbeat(models.Model):
    """When a periodic task last finished; /healthz reads the sweeper's to tell whether beat runs."""

    name = models.CharField(max_length=200, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
