"""Quote drafts (DOMAIN.md §4 rule 5): made blank, from a request or from a work order with its estimate priced
(rules 2-4), lines totalled exactly as invoices are (rule 7), edited only as drafts, by the roles that make
quotes, in their own organization."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fixflow.billing import config_services as config
from fixflow.billing import quote_services as quotes
from fixflow.billing.config_services import RateRow
from fixflow.billing.models import Quote, QuoteLine
from fixflow.core import clock
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import Organization
from fixflow.core.permissions import actor_for
from fixflow.service import services as service

from .quote_fixtures import FITTING, PUMP, blank_quote, qw

__all__ = ["qw"]  # a fixture, imported so pytest finds it

D = Decimal


def refused(call, code: ErrorCode, field: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, info.value
    if field is not None:
        assert info.value.field == field, info.value
    return info.value


def lines_of(quote: Quote) -> list[tuple]:
    return [
        (line.kind, line.description, line.quantity, line.unit_price, line.discount_percent, line.net_amount)
        for line in quote.lines.order_by("position", "id")
    ]


# --- creating ---------------------------------------------------------------------------------


def test_a_blank_quote_is_a_numbered_draft_in_the_clients_currency(qw):
    # when
    with clock.frozen_at(clock.now().replace(year=2026, month=5, day=4, hour=10)):
        first = quotes.quote_create(actor=qw.office, client_id=qw.world.client.pk, title="New pump")
        second = quotes.quote_create(actor=qw.office, client_id=qw.world.client.pk, title="Second")
    # then
    assert (first.number, second.number) == ("Q-2026-00001", "Q-2026-00002")
    assert (first.status, first.currency, first.total_gross, first.issue_date) == ("draft", "EUR", 0, None)
    assert first.created_by == qw.office.user


def test_a_quote_from_a_work_order_prices_its_estimated_labour_and_planned_parts(qw):
    # given a work order from a template of 100 minutes with 2 seals planned (cost 20.00, no sale price)
    # when
    quote = quotes.quote_create(actor=qw.office, work_order_id=qw.work_order.pk)
    # then the labour is rounded like recorded labour (100 → 105 min) at the default rate, the seals at
    # cost + 30 % markup, and the totals follow
    assert (quote.client, quote.site, quote.equipment, quote.work_order) == (
        qw.world.client,
        qw.world.site,
        qw.world.equipment,
        qw.work_order,
    )
    assert quote.title == "Pump P1 leaking at the shaft"
    assert lines_of(quote) == [
        ("labour", "Labour (estimate)", D("1.7500"), D("80.0000"), D("0.00"), D("140.000")),
        ("part", "Mechanical seal 40 mm", D("2.0000"), D("26.0000"), D("0.00"), D("52.000")),
    ]
    assert (quote.total_net, quote.total_tax, quote.total_gross) == (D("192.00"), D("36.48"), D("228.48"))
    line = quote.lines.get(kind="labour")
    assert (line.unit_cost, line.tax_category, line.tax_rate) == (D("40.0000"), "S", D("19.00"))


def test_the_estimate_uses_the_clients_price_list_and_contract(qw):
    # given a price list for the client with a labour rate and a seal price, and a contract covering seals
    admin = qw.world.admin
    price_list = config.price_list_create(actor=admin, data={"name": "Key accounts", "currency": "EUR"})
    config.rates_replace(actor=admin, price_list_id=price_list.pk, rows=[RateRow(None, "labour", "70", "40")])
    config.price_list_item_set(actor=admin, price_list_id=price_list.pk, part_id=qw.part.pk, unit_price="24.50")
    config.client_billing_update(actor=admin, client_id=qw.world.client.pk, data={"price_list_id": price_list.pk})
    # when
    quote = quotes.quote_create(actor=qw.office, work_order_id=qw.work_order.pk)
    # then
    assert [(k, price, net) for k, _d, _q, price, _disc, net in lines_of(quote)] == [
        ("labour", D("70.0000"), D("122.500")),
        ("part", D("24.5000"), D("49.000")),
    ]


def test_a_quote_from_a_work_request_takes_its_client_site_and_text(qw):
    # given
    req = service.work_request_create(
        actor=qw.world.requester,
        title="Boiler makes noise",
        description="Since Monday, at night.",
        site_id=qw.world.site.pk,
        equipment_id=qw.world.equipment.pk,
    )
    # when
    quote = quotes.quote_create(actor=qw.office, work_request_id=req.pk)
    # then
    assert (quote.client, quote.site, quote.equipment, quote.work_request) == (
        qw.world.client,
        qw.world.site,
        qw.world.equipment,
        req,
    )
    assert (quote.title, quote.introduction, quote.lines.count()) == (
        "Boiler makes noise",
        "Since Monday, at night.",
        0,
    )


def test_a_quote_needs_one_source_of_this_organization(qw, other_world):
    # then
    refused(lambda: quotes.quote_create(actor=qw.office, title="x"), ErrorCode.VALIDATION, "client")
    refused(
        lambda: quotes.quote_create(actor=qw.office, client_id=other_world.client.pk, title="x"),
        ErrorCode.VALIDATION,
        "client",
    )
    refused(
        lambda: quotes.quote_create(actor=qw.office, client_id=qw.world.client.pk, site_id=qw.world.other_site.pk),
        ErrorCode.VALIDATION,
        "site",
    )
    assert Quote.objects.count() == 0


def test_a_cancelled_work_order_cannot_be_quoted(qw):
    service.work_order_transition(actor=qw.office, work_order_id=qw.work_order.pk, to="cancelled", reason="Duplicate")
    refused(
        lambda: quotes.quote_create(actor=qw.office, work_order_id=qw.work_order.pk), ErrorCode.VALIDATION, "work_order"
    )
    assert Quote.objects.count() == 0


@pytest.mark.parametrize("role", ["technician", "requester", "client_user"])
def test_only_the_roles_that_make_quotes_create_them(qw, role):
    refused(
        lambda: quotes.quote_create(actor=getattr(qw.world, role), client_id=qw.world.client.pk, title="x"),
        ErrorCode.PERMISSION_DENIED,
    )
    assert Quote.objects.count() == 0


@pytest.mark.parametrize("role", ["admin", "dispatcher", "accountant"])
def test_admins_dispatchers_and_accountants_make_quotes(qw, role):
    quote = quotes.quote_create(actor=getattr(qw.world, role), client_id=qw.world.client.pk, title="x")
    assert quote.status == "draft"


# --- lines and totals -------------------------------------------------------------------------


def test_lines_are_totalled_like_invoices_with_vat_per_rate_on_the_sum_of_nets(qw):
    # given three lines of 0.35 at 19 % and one at 7 %
    small = {"description": "Washer", "quantity": "1", "unit_price": "0.35"}
    quote = blank_quote(qw, small, small, small, {**small, "tax_rate_id": qw.reduced.pk})
    # then VAT is 19 % of 1.05 (0.20, not 3 × 0.07) plus 7 % of 0.35 (0.02)
    assert (quote.total_net, quote.total_tax, quote.total_gross) == (D("1.40"), D("0.22"), D("1.62"))


def test_a_discounted_line_says_why(qw):
    quote = blank_quote(qw, PUMP)
    data = {**PUMP, "discount_percent": "10"}
    refused(
        lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data=data),
        ErrorCode.VALIDATION,
        "discount_reason",
    )
    # when the reason is given
    line = quotes.quote_line_add(
        actor=qw.office, quote_id=quote.pk, data={**data, "discount_reason": "Framework agreement"}
    )
    # then
    quote.refresh_from_db()
    assert line.net_amount == D("1080.00")
    assert quote.total_net == D("2280.00")


def test_a_part_or_labour_without_a_price_is_priced_from_the_rates(qw):
    quote = blank_quote(qw)
    part_line = quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data={"part_id": qw.part.pk, "quantity": "3"})
    travel = quotes.quote_line_add(
        actor=qw.office, quote_id=quote.pk, data={"kind": "travel", "description": "Travel", "quantity": "0.5"}
    )
    assert (part_line.description, part_line.detail, part_line.unit_price, part_line.net_amount) == (
        "Mechanical seal 40 mm",
        "SEAL-40",
        D("26.0000"),
        D("78.00"),
    )
    assert (travel.unit, travel.unit_price, travel.unit_cost, travel.net_amount) == (
        "h",
        D("50.0000"),
        D("25.0000"),
        D("25.00"),
    )


def test_a_manual_line_needs_a_price_and_a_description(qw):
    quote = blank_quote(qw)
    refused(
        lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data={"description": "Anything"}),
        ErrorCode.VALIDATION,
        "unit_price",
    )
    refused(
        lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data={"unit_price": "5"}),
        ErrorCode.VALIDATION,
        "description",
    )
    refused(
        lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data={**PUMP, "quantity": "0"}),
        ErrorCode.VALIDATION,
        "quantity",
    )
    assert QuoteLine.objects.count() == 0


def test_a_tax_rate_of_another_organization_is_refused_on_its_field(qw, other_world):
    foreign = config.tax_rate_create(actor=other_world.admin, data={"name": "VAT 20 %", "rate": "20"})
    quote = blank_quote(qw)
    refused(
        lambda: quotes.quote_line_add(actor=qw.office, quote_id=quote.pk, data={**PUMP, "tax_rate_id": foreign.pk}),
        ErrorCode.VALIDATION,
        "tax_rate",
    )


def test_a_line_is_changed_and_the_totals_follow(qw):
    quote = blank_quote(qw, PUMP, FITTING)
    line = quote.lines.get(description=FITTING["description"])
    # when
    quotes.quote_line_update(
        actor=qw.office,
        line_id=line.pk,
        data={"quantity": "4", "tax_rate_id": qw.reduced.pk},
        expected_version=quote.version,
    )
    # then
    quote.refresh_from_db()
    line.refresh_from_db()
    assert (line.quantity, line.net_amount, line.tax_rate) == (D("4.0000"), D("320.000"), D("7.00"))
    assert (quote.total_net, quote.total_tax, quote.total_gross) == (D("1520.00"), D("250.40"), D("1770.40"))


def test_a_change_on_a_stale_copy_is_refused_and_changes_nothing(qw):
    quote = blank_quote(qw, PUMP)
    line = quote.lines.get()
    stale = quote.version - 1
    error = refused(
        lambda: quotes.quote_line_update(
            actor=qw.office, line_id=line.pk, data={"quantity": "9"}, expected_version=stale
        ),
        ErrorCode.STALE_VERSION,
    )
    assert error.details == {"current_version": quote.version}
    line.refresh_from_db()
    assert line.quantity == 1


def test_lines_are_reordered_and_moved(qw):
    quote = blank_quote(qw, PUMP, FITTING, {"description": "Disposal", "unit_price": "35"})
    ids = list(quote.lines.order_by("position").values_list("pk", flat=True))
    # when
    quotes.quote_lines_reorder(actor=qw.office, quote_id=quote.pk, line_ids=[ids[2], ids[0], ids[1]])
    quotes.quote_line_move(actor=qw.office, line_id=ids[1], direction="up")
    # then
    assert list(quote.lines.order_by("position").values_list("description", flat=True)) == [
        "Disposal",
        "Fitting the pump",
        "Circulation pump DN40",
    ]
    refused(
        lambda: quotes.quote_lines_reorder(actor=qw.office, quote_id=quote.pk, line_ids=[ids[0], ids[0], ids[1]]),
        ErrorCode.VALIDATION,
        "line_ids",
    )


def test_a_line_is_removed_and_the_totals_follow(qw):
    quote = blank_quote(qw, PUMP, FITTING)
    quotes.quote_line_remove(actor=qw.office, line_id=quote.lines.get(description=PUMP["description"]).pk)
    quote.refresh_from_db()
    assert (quote.total_net, quote.total_gross) == (D("240.00"), D("285.60"))


def test_the_header_of_a_draft_is_changed(qw):
    quote = blank_quote(qw)
    quotes.quote_update(
        actor=qw.office,
        quote_id=quote.pk,
        data={"title": "Pump replacement", "terms": "50 % on order", "equipment_id": qw.world.equipment.pk},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    assert (quote.title, quote.terms, quote.equipment, quote.site) == (
        "Pump replacement",
        "50 % on order",
        qw.world.equipment,
        qw.world.site,
    )
    refused(
        lambda: quotes.quote_update(actor=qw.office, quote_id=quote.pk, data={"valid_until": date(2000, 1, 1)}),
        ErrorCode.VALIDATION,
        "valid_until",
    )
    refused(
        lambda: quotes.quote_update(actor=qw.office, quote_id=quote.pk, data={"status": "accepted"}),
        ErrorCode.VALIDATION,
        "status",
    )


def test_a_draft_is_deleted_with_its_lines(qw):
    quote = blank_quote(qw, PUMP)
    quotes.quote_delete(actor=qw.office, quote_id=quote.pk)
    assert (Quote.objects.count(), QuoteLine.objects.count()) == (0, 0)


def test_another_organizations_quote_does_not_exist(qw, other_world):
    quote = blank_quote(qw, PUMP)
    refused(
        lambda: quotes.quote_update(actor=other_world.admin, quote_id=quote.pk, data={"title": "x"}),
        ErrorCode.NOT_FOUND,
    )
    refused(lambda: quotes.quote_delete(actor=other_world.admin, quote_id=quote.pk), ErrorCode.NOT_FOUND)
    assert Quote.objects.filter(pk=quote.pk, title="New circulation pump").exists()


def test_a_quote_in_a_currency_with_three_decimals_is_refused(qw):
    # given an organization working in Kuwaiti dinars (3 decimals: no EN 16931 document can carry them)
    Organization.objects.filter(pk=qw.world.org.pk).update(currency="KWD")
    office = actor_for(qw.office.user, qw.world.org.pk)
    refused(
        lambda: quotes.quote_create(actor=office, client_id=qw.world.client.pk, title="x"),
        ErrorCode.VALIDATION,
        "currency",
    )
