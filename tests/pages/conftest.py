"""Helpers for the page tests. Fixture names are prefixed per area (several page suites share this file)."""

import pytest
from django.forms import CheckboxInput
from django.test import Client


class SvcHttpsClient(Client):
    """A test client whose requests go over HTTPS, as in production (plain HTTP is redirected)."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


# --- work request and work order pages -------------------------------------------------------


@pytest.fixture
def svc_login(db):
    """``svc_login(actor)`` → an HTTPS test client signed in as that actor."""

    def login(actor) -> Client:
        client = SvcHttpsClient()
        client.force_login(actor.user)
        return client

    return login


# --- reference data, settings and home pages -------------------------------------------------


class RefPagesClient(Client):
    """Test client for the reference data, settings and home pages (HTTPS, like production)."""

    def generic(self, *args, **kwargs):
        kwargs.setdefault("secure", True)
        return super().generic(*args, **kwargs)


@pytest.fixture
def ref_login(db):
    """``ref_login(actor)`` → a test client signed in as that actor; ``ref_login(None)`` → anonymous."""

    def login(actor=None) -> Client:
        client = RefPagesClient()
        if actor is not None:
            client.force_login(actor.user)
        return client

    return login


@pytest.fixture
def ref_form_data():
    """``ref_form_data(response, **changes)`` → the POST data of the page's first form, as rendered, changed.

    Reads the bound form of the response context (``form``) so a test posts back exactly what the page
    showed, plus its changes.
    """

    def data(response, **changes) -> dict:
        form = response.context["form"]
        out = {}
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None:
                continue
            if isinstance(field.widget, CheckboxInput):
                if value:
                    out[form.add_prefix(name)] = "on"
                continue
            out[form.add_prefix(name)] = value
        for key, value in changes.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
        return out

    return data
