"""The one way into a dashboard page (R1): who asks, what they may see, what they may do.

Every dashboard view is decorated with `member_page`; it receives the `Member` bound to its
request, and reaches tenant data only through it:

    @member_page(write=MANAGE, refusal="Only a superuser may change thresholds.")
    def page(request, member):
        threshold = member.get(CustomThreshold, pk=pk)        # another account's: 404
        member.scope(Organization).filter(name__icontains=q)  # only what the member sees
        member.can(DISMISS)                                   # for the page's buttons

A user who belongs to no account, or whose role may not do what the page asks, gets the
product's 403 page saying why; an object out of reach is the product's 404 page, saying
so (R1.1: it is absent, never "forbidden"). `tests/test_one_way_in.py` fails when a view
module reaches a model any other way.
"""

from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods

from tenancy import scoping
from tenancy.redirects import go_next
from tenancy.scoping import DISMISS, DISMISS_SELECTION, MANAGE, VIEW

__all__ = ["DISMISS", "DISMISS_SELECTION", "MANAGE", "VIEW", "Member", "NotFound", "Panel", "Panels",
           "in_order", "member_page"]

READS = ("GET", "HEAD", "OPTIONS")
REFUSALS = {
    MANAGE: "Only a superuser may do this.",
    DISMISS: "Only an admin or a superuser may do this.",
    DISMISS_SELECTION: "Only a superuser may do this.",
}


class NotFound(Http404):
    """A 404 whose message the product's 404 page shows: why there is nothing here."""


class Member:
    """The signed-in member of an account, as one request sees them."""

    def __init__(self, request):
        self.request = request
        self.user = request.user
        self.account = scoping.member_account(request.user)  # 403: a member of no account

    def scope(self, model_or_queryset) -> QuerySet:
        """The rows of a model (or a queryset) this member may see: their account's, within
        their organizations (R1.1, R1.4)."""
        queryset = model_or_queryset
        if isinstance(model_or_queryset, type) and issubclass(model_or_queryset, Model):
            queryset = model_or_queryset._default_manager.all()
        return scoping.scope(self.user, queryset)

    def get(self, model_or_queryset, **lookup):
        """One object this member may see; the 404 page for anything else, another account's too.

        Give it a model, or a queryset already narrowed to the member: one from `scope()`, or
        from a function of the room that scopes (`users.visible_users`).
        """
        queryset = model_or_queryset
        if isinstance(model_or_queryset, type):
            queryset = self.scope(model_or_queryset)
        try:
            return queryset.get(**lookup)
        except queryset.model.DoesNotExist:
            name = queryset.model._meta.verbose_name
            raise NotFound(f"This {name} does not exist, or it is not one you may see.") from None

    def can(self, action: str) -> bool:
        return scoping.can(self.user, action)

    def require(self, action: str, refusal: str = "") -> None:
        """The 403 page, saying `refusal`, unless this member's role may do `action`."""
        scoping.require(self.user, action, refusal or REFUSALS.get(action, ""))

    @property
    def organization_limit(self) -> list[int] | None:
        """Ids of the organizations this member is limited to; None: every one (R1.4, R1.6)."""
        return scoping.organization_limit(self.user)

    def go_next(self, fallback: str):
        """After a form: back to the page's `next` when it stays on this portal, else `fallback`."""
        return go_next(self.request, fallback)


def member_page(view=None, *, require: str | None = None, write: str | None = None, refusal: str = "",
                methods=None):
    """The way into a dashboard page: signed in, a member of an account, and allowed.

    - `require`: the right the whole page needs (a superuser's page), checked before any
      lookup, so its answers tell nothing about what exists.
    - `write`: the right a POST needs on a page every member reads.
    - `refusal`: what the 403 page says to someone without that right.
    - `methods`: the HTTP methods the page answers (405 for others), e.g. `("POST",)`.

    The view is called as `view(request, member, *args, **kwargs)`.
    """

    def decorate(view):
        @wraps(view)
        def enter(request, *args, **kwargs):
            member = Member(request)
            if require:
                member.require(require, refusal)
            if write and request.method not in READS:
                member.require(write, refusal)
            return view(request, member, *args, **kwargs)

        enter.member_page = True  # the suite checks every dashboard URL comes through here
        if methods:
            enter = require_http_methods(list(methods))(enter)
        return login_required(enter)

    return decorate(view) if view is not None else decorate


@dataclass(frozen=True)
class Panel:
    """A part of a page that another room contributes (a section, or a fact of a list): a template
    and its context. The page shows `panel.html`; panels come in `order`, lowest first."""

    template: str
    context: dict = field(default_factory=dict)
    order: int = 50

    @property
    def html(self) -> str:
        return render_to_string(self.template, self.context)


class Panels:
    """The panels rooms above a page's own add to it, registered from their `ready()`, so the page
    never imports them (the arrows of docs/architecture.md point one way).

    A contributor is `contribute(member, subject) -> Panel | None`.
    """

    def __init__(self):
        self._contributors = {}

    def add(self, name: str, contribute) -> None:
        self._contributors[name] = contribute  # by name: a second ready() replaces, never doubles

    def __call__(self, member: Member, subject) -> list[Panel]:
        return in_order(contribute(member, subject) for contribute in self._contributors.values())


def in_order(panels) -> list[Panel]:
    """The panels given (None: a room with nothing to show), lowest `order` first."""
    return sorted((p for p in panels if p is not None), key=lambda p: p.order)
