"""Settings › Time zone: the zone a person's dates are shown in; empty follows their browser."""

from urllib.parse import unquote

from django.contrib import messages
from django.shortcuts import redirect, render

from tenancy import timezones
from tenancy.models import Membership
from tenancy.pages import member_page


@member_page
def time_zone(request, member):
    mine = member.scope(Membership).filter(user=member.user)
    current = timezones.chosen(member.user)
    if request.method == "POST":
        name = request.POST.get("time_zone", "").strip()
        if name and not timezones.valid(name):
            return render(request, "tenancy/time_zone.html", {
                "zones": sorted(timezones.zone_names()), "current": current,
                "error": "Time zone: choose one from the list.",
            }, status=400)
        mine.update(time_zone=name)
        messages.success(request, f"Dates now show in {name}." if name else "Dates now follow your browser's time zone.")
        return redirect("tenancy:time-zone")
    return render(request, "tenancy/time_zone.html", {
        "zones": sorted(timezones.zone_names()), "current": current,
        "browser": unquote(request.COOKIES.get(timezones.COOKIE, "")),
    })
