"""List filters that take an id look it up among what the caller may see (R1.1, R1.4).

django-filter validates `?organization=`, `?appliance=`, `?asset=`… against the
filter's queryset. Left unscoped, another account's id would answer 200 (empty)
where a missing id answers 400, telling the caller that it exists. This backend
runs every such queryset through `tenancy.scoping.scope` with the request's user,
for every list and every filterset, declared or generated from `filterset_fields`,
so a new filter is scoped without anyone remembering to.
"""

from django.contrib.auth import get_user_model
from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend

from tenancy import scoping
from tenancy.models import Membership


def _visible(user, queryset):
    if queryset.model is get_user_model():  # people belong to an account through their membership
        memberships = scoping.scope(user, Membership.objects.all())
        return queryset.filter(pk__in=memberships.values("user_id"))
    return scoping.scope(user, queryset)


def scope_filters(filterset, user):
    """Scope, in place, the querysets of `filterset`'s id filters to what `user` may see."""
    for flt in filterset.filters.values():
        if isinstance(flt, QuerySetRequestMixin):
            flt.queryset = _visible(user, flt.get_queryset(filterset.request))
            # One answer for "not yours" and "not there": the message names neither.
            name = flt.queryset.model._meta.verbose_name
            flt.extra["error_messages"] = {**flt.extra.get("error_messages", {}),
                                           "invalid_choice": f"No such {name}."}
    return filterset


class ScopedFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            scope_filters(filterset, request.user)
        return filterset
