"""Pages a person reads show what they say where they say it (R15.2)."""

import re

import pytest
from django.test import Client

from inventory.models import SaasSource

pytestmark = pytest.mark.django_db


def test_r15_2_the_remove_source_button_is_on_the_page_not_in_the_browser_tab_title(cast):
    source = SaasSource.objects.create(account=cast.account_a, kind="gws", name="birch.org",
                                       external_id="birch.org", organization=cast.org_a2)
    client = Client()
    client.force_login(cast.superuser_a)
    page = client.get(f"/protect/sources/{source.pk}/").content.decode()
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    main = re.search(r"<main[^>]*>(.*?)</main>", page, re.S).group(1)
    assert title.strip() == "birch.org · uniview"
    assert 'data-testid="remove-source"' in main
    # A removal is not undone: the page asks first, as every other Remove does (R15.2).
    assert 'data-confirm="Remove the source birch.org? Its open alerts are resolved."' in main
