"""The API permission matrix: every operation of the OpenAPI schema × every kind of caller.

Each operation needs a rule below; a new endpoint without one fails ``test_every_api_operation_has_a_rule``.
Rules say which roles may use the operation. The others must be refused: 401 for anonymous callers,
403/404 for members without the right (404 — never 403 — for objects outside their organization),
and list endpoints must not leak rows of another client or organization.
"""

import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fixflow.api import api
from fixflow.sla.choices import DEFAULT_TARGETS

from .scenario import PNG_1PX

ROLES = [
    "anonymous",
    "other_org",
    "admin",
    "dispatcher",
    "technician",
    "technician2",
    "accountant",
    "requester",
    "client_user",
    "other_client_user",
]
MEMBERS = frozenset(ROLES) - {"anonymous", "other_org"}
OFFICE = frozenset({"admin", "dispatcher"})
STAFF = frozenset({"admin", "dispatcher", "technician", "technician2", "accountant"})
RECORD = frozenset({"admin", "dispatcher", "technician"})
SEE_WORK_ORDER = MEMBERS - {"other_client_user"}
SEE_REQUEST = frozenset({"admin", "dispatcher", "requester", "client_user"})
ADMIN = frozenset({"admin"})
SLA_VIEW = frozenset({"admin", "dispatcher", "accountant"})
SLA_RECALCULATE = OFFICE


@dataclass(frozen=True)
class Rule:
    allowed: frozenset
    target: str | None = None  # scenario id for {id}
    body: object = None  # dict, or callable(ids) -> dict; "multipart" for a file upload
    query: object = None  # dict or callable(ids)
    success: str = "ok"  # "ok": 2xx for allowed roles; "authorized": the state may refuse (409), not the role
    leaks: tuple[str, ...] = ()  # for lists: scenario ids that other clients / organizations must not see
    extra: dict = field(default_factory=dict)


ICS_HOLIDAY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Fixflow tests//EN\r\nBEGIN:VEVENT\r\nUID:ny@example.org\r\n"
    b"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20270101\r\nSUMMARY:New Year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _now_minus(minutes: int) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/me"): Rule(MEMBERS),
    ("GET", "/organization"): Rule(MEMBERS),
    ("PATCH", "/organization"): Rule(frozenset({"admin"}), body={"name": "Renamed Org"}),
    ("GET", "/clients"): Rule(MEMBERS, leaks=("client",)),
    ("POST", "/clients"): Rule(OFFICE, body={"name": "New Co"}),
    ("GET", "/clients/{id}"): Rule(MEMBERS - {"other_client_user"}, target="client"),
    ("PATCH", "/clients/{id}"): Rule(OFFICE, target="client", body={"phone": "+49 30 1234"}),
    ("DELETE", "/clients/{id}"): Rule(OFFICE, target="spare_client"),
    ("GET", "/contacts"): Rule(STAFF | {"client_user", "other_client_user"}, leaks=("contact",)),
    ("POST", "/contacts"): Rule(OFFICE, body=lambda i: {"client_id": i["client"], "name": "New contact"}),
    ("GET", "/contacts/{id}"): Rule(STAFF | {"client_user"}, target="contact"),
    ("PATCH", "/contacts/{id}"): Rule(OFFICE, target="contact", body={"phone": "+49 30 555"}),
    ("DELETE", "/contacts/{id}"): Rule(OFFICE, target="spare_contact"),
    ("GET", "/sites"): Rule(MEMBERS, leaks=("site",)),
    ("POST", "/sites"): Rule(OFFICE, body=lambda i: {"client_id": i["client"], "name": "New site"}),
    ("GET", "/sites/{id}"): Rule(MEMBERS - {"other_client_user"}, target="site"),
    ("PATCH", "/sites/{id}"): Rule(OFFICE, target="site", body={"access_notes": "Key at the gate"}),
    ("DELETE", "/sites/{id}"): Rule(OFFICE, target="spare_site"),
    ("GET", "/equipment-categories"): Rule(MEMBERS, leaks=()),
    ("POST", "/equipment-categories"): Rule(OFFICE, body={"name": "Lifts"}),
    ("GET", "/equipment-categories/{id}"): Rule(MEMBERS, target="category"),
    ("PATCH", "/equipment-categories/{id}"): Rule(OFFICE, target="category", body={"description": "x"}),
    ("DELETE", "/equipment-categories/{id}"): Rule(OFFICE, target="spare_category"),
    ("GET", "/equipment"): Rule(MEMBERS, leaks=("equipment",)),
    ("POST", "/equipment"): Rule(OFFICE, body=lambda i: {"site_id": i["site"], "name": "Pump P9"}),
    ("GET", "/equipment/{id}"): Rule(MEMBERS - {"other_client_user"}, target="equipment"),
    ("PATCH", "/equipment/{id}"): Rule(OFFICE, target="equipment", body={"serial_number": "SN-1"}),
    ("DELETE", "/equipment/{id}"): Rule(OFFICE, target="spare_equipment"),
    ("GET", "/equipment/{id}/work-orders"): Rule(MEMBERS - {"other_client_user"}, target="equipment"),
    ("GET", "/parts"): Rule(STAFF, leaks=("part",)),
    ("POST", "/parts"): Rule(frozenset({"admin", "dispatcher", "accountant"}), body={"sku": "NEW-1", "name": "Gasket"}),
    ("GET", "/parts/{id}"): Rule(STAFF, target="part"),
    ("PATCH", "/parts/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="part", body={"sale_price": "19.90"}
    ),
    ("DELETE", "/parts/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="spare_part"),
    ("GET", "/templates"): Rule(STAFF, leaks=("template",)),
    ("POST", "/templates"): Rule(OFFICE, body={"name": "Lift inspection", "checklist": [{"label": "Doors"}]}),
    ("GET", "/templates/{id}"): Rule(STAFF, target="template"),
    ("PATCH", "/templates/{id}"): Rule(OFFICE, target="template", body={"description": "Yearly"}),
    ("GET", "/work-requests"): Rule(MEMBERS, leaks=("request",)),
    ("POST", "/work-requests"): Rule(
        MEMBERS - {"other_client_user"}, body=lambda i: {"title": "Noise", "site_id": i["site"]}
    ),
    ("GET", "/work-requests/{id}"): Rule(SEE_REQUEST, target="request"),
    ("POST", "/work-requests/{id}/reject"): Rule(OFFICE, target="request", body={"reason": "Not our contract"}),
    ("POST", "/work-requests/{id}/duplicate"): Rule(
        OFFICE, target="request", body=lambda i: {"duplicate_of_id": i["other_request"]}
    ),
    ("POST", "/work-requests/{id}/convert"): Rule(OFFICE, target="request", body={}),
    ("POST", "/work-requests/{id}/attachments"): Rule(SEE_REQUEST, target="request", body="multipart"),
    ("GET", "/work-orders"): Rule(MEMBERS, leaks=("work_order",)),
    ("POST", "/work-orders"): Rule(
        OFFICE, body=lambda i: {"title": "Check valve", "site_id": i["site"], "equipment_id": i["equipment"]}
    ),
    ("GET", "/work-orders/{id}"): Rule(SEE_WORK_ORDER, target="work_order"),
    ("PATCH", "/work-orders/{id}"): Rule(OFFICE, target="work_order", body={"description": "More detail"}),
    ("POST", "/work-orders/{id}/transitions"): Rule(
        RECORD, target="work_order", body={"to": "on_hold", "hold_reason": "waiting_for_parts"}
    ),
    ("GET", "/work-orders/{id}/transitions"): Rule(SEE_WORK_ORDER, target="work_order"),
    ("GET", "/work-orders/{id}/timeline"): Rule(SEE_WORK_ORDER, target="work_order"),
    ("POST", "/work-orders/{id}/follow-ups"): Rule(
        OFFICE, target="work_order", body={"reason": "Came back"}, success="authorized"
    ),
    ("POST", "/work-orders/{id}/billing"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}),
        target="work_order",
        body={"billing_status": "no_charge", "reason": "Goodwill"},
    ),
    ("GET", "/work-orders/{id}/checklist"): Rule(SEE_WORK_ORDER, target="work_order"),
    ("PUT", "/work-orders/{id}/checklist/{item_id}"): Rule(RECORD, target="work_order", body={"value": "true"}),
    ("GET", "/work-orders/{id}/planned-materials"): Rule(SEE_WORK_ORDER, target="work_order"),
    ("POST", "/work-orders/{id}/planned-materials"): Rule(
        OFFICE, target="work_order", body=lambda i: {"part_id": i["part"], "quantity": "1"}
    ),
    ("DELETE", "/planned-materials/{id}"): Rule(OFFICE, target="planned_material"),
    ("POST", "/work-orders/{id}/timer/start"): Rule(RECORD, target="work_order", body={}),
    ("POST", "/work-orders/{id}/timer/stop"): Rule(RECORD, target="work_order", body={}, success="authorized"),
    ("POST", "/work-orders/{id}/attachments"): Rule(
        RECORD | {"accountant", "requester", "client_user"}, target="work_order", body="multipart"
    ),
    ("POST", "/work-orders/{id}/signature"): Rule(
        RECORD,
        target="work_order",
        body={"image_png_base64": base64.b64encode(PNG_1PX).decode(), "signed_by_name": "Hans Meier"},
    ),
    ("GET", "/time-entries"): Rule(STAFF, leaks=("time_entry",)),
    ("POST", "/time-entries"): Rule(
        RECORD, body=lambda i: {"work_order_id": i["work_order"], "started_at": _now_minus(90), "duration_minutes": 15}
    ),
    ("GET", "/time-entries/{id}"): Rule(STAFF, target="time_entry"),
    ("DELETE", "/time-entries/{id}"): Rule(RECORD, target="time_entry"),
    ("GET", "/part-usages"): Rule(STAFF, leaks=("part_usage",)),
    ("POST", "/part-usages"): Rule(
        RECORD, body=lambda i: {"work_order_id": i["work_order"], "part_id": i["part"], "quantity": "1"}
    ),
    ("GET", "/part-usages/{id}"): Rule(STAFF, target="part_usage"),
    ("DELETE", "/part-usages/{id}"): Rule(RECORD, target="part_usage"),
    ("GET", "/notes"): Rule(MEMBERS, leaks=("note",)),
    ("POST", "/notes"): Rule(
        SEE_WORK_ORDER - {"technician2"}, body=lambda i: {"work_order_id": i["work_order"], "body": "Called the client"}
    ),
    ("GET", "/notes/{id}"): Rule(SEE_WORK_ORDER, target="note"),
    ("GET", "/attachments"): Rule(MEMBERS, leaks=("attachment",)),
    ("GET", "/attachments/{id}"): Rule(SEE_WORK_ORDER, target="attachment"),
    ("GET", "/attachments/{id}/download"): Rule(SEE_WORK_ORDER, target="attachment"),
    # --- SLAs (issue 3): configuration for admins, read by the office; recalculation by dispatchers ---
    ("GET", "/sla/calendars"): Rule(SLA_VIEW, leaks=("sla_calendar",)),
    ("POST", "/sla/calendars"): Rule(ADMIN, body={"name": "Night shift", "timezone": "Europe/Vienna"}),
    ("GET", "/sla/calendars/{id}"): Rule(SLA_VIEW, target="sla_calendar"),
    ("PATCH", "/sla/calendars/{id}"): Rule(ADMIN, target="sla_calendar", body={"timezone": "Europe/Vienna"}),
    ("DELETE", "/sla/calendars/{id}"): Rule(ADMIN, target="spare_sla_calendar"),
    ("GET", "/sla/calendars/{id}/holidays"): Rule(SLA_VIEW, target="sla_calendar", leaks=("sla_holiday",)),
    ("POST", "/sla/calendars/{id}/holidays"): Rule(
        ADMIN, target="sla_calendar", body={"date": "2027-01-01", "name": "New Year"}
    ),
    ("POST", "/sla/calendars/{id}/holidays/import"): Rule(ADMIN, target="sla_calendar", body="ics"),
    ("POST", "/sla/calendars/{id}/holidays/generate"): Rule(
        ADMIN, target="sla_calendar", body={"country": "DE", "year": 2027}
    ),
    ("DELETE", "/sla/holidays/{id}"): Rule(ADMIN, target="spare_sla_holiday"),
    ("GET", "/sla/policies"): Rule(SLA_VIEW, leaks=("sla_policy",)),
    ("POST", "/sla/policies"): Rule(
        ADMIN, body=lambda i: {"name": "Night SLA", "calendar_id": i["sla_calendar"], "targets": DEFAULT_TARGETS}
    ),
    ("GET", "/sla/policies/{id}"): Rule(SLA_VIEW, target="sla_policy"),
    ("PATCH", "/sla/policies/{id}"): Rule(ADMIN, target="sla_policy", body={"at_risk_percent": 70}),
    ("DELETE", "/sla/policies/{id}"): Rule(ADMIN, target="spare_sla_policy"),
    ("POST", "/sla/policies/{id}/move"): Rule(ADMIN, target="spare_sla_policy", body={"position": 1}),
    ("POST", "/sla/recalculate"): Rule(SLA_RECALCULATE, body={}),
    ("POST", "/work-orders/{id}/sla/recalculate"): Rule(SLA_RECALCULATE, target="work_order", body={}),
    ("GET", "/work-orders/{id}/sla"): Rule(SEE_WORK_ORDER, target="work_order"),
    ("GET", "/sla/compliance"): Rule(SLA_VIEW, query={"date_from": "2026-01-01", "date_to": "2027-01-01"}),
    # --- preventive maintenance (issue 6): meters follow the equipment, readings are recorded by whoever
    # records work (any technician: readings are observations); plans are read by staff, run by the office ---
    ("GET", "/equipment/{id}/meters"): Rule(MEMBERS - {"other_client_user"}, target="equipment"),
    ("POST", "/equipment/{id}/meters"): Rule(OFFICE, target="equipment", body={"name": "Hours run", "unit": "h"}),
    ("GET", "/meters/{id}"): Rule(MEMBERS - {"other_client_user"}, target="meter"),
    ("PATCH", "/meters/{id}"): Rule(OFFICE, target="meter", body={"usage_window_days": 60}),
    ("DELETE", "/meters/{id}"): Rule(OFFICE, target="spare_meter"),
    ("GET", "/meters/{id}/readings"): Rule(MEMBERS - {"other_client_user"}, target="meter"),
    ("POST", "/meters/{id}/readings"): Rule(RECORD | {"technician2"}, target="meter", body={"value": "1500"}),
    ("GET", "/maintenance/plans"): Rule(STAFF, leaks=("plan",)),
    ("POST", "/maintenance/plans"): Rule(
        OFFICE,
        body=lambda i: {
            "name": "Yearly inspection",
            "template_id": i["template"],
            "equipment_id": i["equipment"],
            "anchor": "2030-01-31",
            "recurrence": {"frequency": "yearly"},
        },
    ),
    ("GET", "/maintenance/plans/{id}"): Rule(STAFF, target="plan"),
    ("PATCH", "/maintenance/plans/{id}"): Rule(OFFICE, target="plan", body={"name": "Renamed plan"}),
    ("DELETE", "/maintenance/plans/{id}"): Rule(OFFICE, target="spare_plan"),
    ("POST", "/maintenance/plans/{id}/pause"): Rule(OFFICE, target="plan", body={}),
    ("POST", "/maintenance/plans/{id}/resume"): Rule(OFFICE, target="plan", body={}),
    ("POST", "/maintenance/plans/{id}/generate"): Rule(OFFICE, target="plan", body={}),
    ("GET", "/maintenance/plans/{id}/occurrences"): Rule(STAFF, target="plan"),
    ("GET", "/maintenance/forecast"): Rule(STAFF, query={"date_from": "2026-01-01", "date_to": "2026-12-31"}),
    ("GET", "/maintenance/compliance"): Rule(STAFF, query={"date_from": "2026-01-01", "date_to": "2026-12-31"}),
    ("GET", "/maintenance/stale-plans"): Rule(STAFF),
    # --- billing configuration (issue 5): billing.configure (admin, accountant) changes it; whoever makes
    # quotes (dispatchers too) reads tax rates, rates, price lists, contracts and clients' billing details;
    # the seller settings stay with billing.configure. Part categories follow the parts. ---
    ("GET", "/billing/settings"): Rule(frozenset({"admin", "accountant"})),
    ("PATCH", "/billing/settings"): Rule(frozenset({"admin", "accountant"}), body={"city": "Kiel"}),
    ("POST", "/billing/settings/logo"): Rule(frozenset({"admin", "accountant"}), body="multipart"),
    ("DELETE", "/billing/settings/logo"): Rule(frozenset({"admin", "accountant"})),
    ("GET", "/billing/tax-rates"): Rule(frozenset({"admin", "dispatcher", "accountant"}), leaks=("tax_rate",)),
    ("POST", "/billing/tax-rates"): Rule(
        frozenset({"admin", "accountant"}), body={"name": "VAT 5 %", "category": "S", "rate": "5"}
    ),
    ("GET", "/billing/tax-rates/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="tax_rate"),
    ("PATCH", "/billing/tax-rates/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="tax_rate", body={"name": "VAT 19 % standard"}
    ),
    ("DELETE", "/billing/tax-rates/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_tax_rate"),
    ("GET", "/billing/rate-classes"): Rule(frozenset({"admin", "dispatcher", "accountant"}), leaks=("rate_class",)),
    ("POST", "/billing/rate-classes"): Rule(frozenset({"admin", "accountant"}), body={"name": "Apprentice"}),
    ("GET", "/billing/rate-classes/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="rate_class"),
    ("PATCH", "/billing/rate-classes/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="rate_class", body={"name": "Senior service engineer"}
    ),
    ("DELETE", "/billing/rate-classes/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_rate_class"),
    ("GET", "/billing/technicians"): Rule(frozenset({"admin", "dispatcher", "accountant"})),
    ("GET", "/billing/technicians/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="technician_user"
    ),
    ("PUT", "/billing/technicians/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="technician_user", body={"rate_class_id": None}
    ),
    ("GET", "/billing/rates"): Rule(frozenset({"admin", "dispatcher", "accountant"}), leaks=("rate",)),
    ("POST", "/billing/rates"): Rule(frozenset({"admin", "accountant"}), body={"kind": "travel", "unit_price": "55"}),
    ("GET", "/billing/rates/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="rate"),
    ("PATCH", "/billing/rates/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="rate", body={"unit_price": "88"}
    ),
    ("DELETE", "/billing/rates/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_rate"),
    ("GET", "/billing/price-lists"): Rule(frozenset({"admin", "dispatcher", "accountant"}), leaks=("price_list",)),
    ("POST", "/billing/price-lists"): Rule(frozenset({"admin", "accountant"}), body={"name": "Schools"}),
    ("GET", "/billing/price-lists/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="price_list"),
    ("PATCH", "/billing/price-lists/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="price_list", body={"parts_markup_percent": "20"}
    ),
    ("DELETE", "/billing/price-lists/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_price_list"),
    ("GET", "/billing/price-lists/{id}/items"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="price_list", leaks=("price_list_item",)
    ),
    ("POST", "/billing/price-lists/{id}/items"): Rule(
        frozenset({"admin", "accountant"}),
        target="price_list",
        body=lambda i: {"part_id": i["spare_part"], "unit_price": "5.10"},
    ),
    ("POST", "/billing/price-lists/{id}/items/import"): Rule(
        frozenset({"admin", "accountant"}), target="price_list", body={"text": "SEAL-77;22.50"}
    ),
    ("PATCH", "/billing/price-list-items/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="price_list_item", body={"unit_price": "20.50"}
    ),
    ("DELETE", "/billing/price-list-items/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="spare_price_list_item"
    ),
    ("GET", "/billing/clients/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="client"),
    ("PATCH", "/billing/clients/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="client", body={"buyer_reference": "PO-4711"}
    ),
    ("GET", "/billing/contracts"): Rule(frozenset({"admin", "dispatcher", "accountant"}), leaks=("contract",)),
    ("POST", "/billing/contracts"): Rule(
        frozenset({"admin", "accountant"}),
        body=lambda i: {"client_id": i["client"], "name": "Boiler care", "valid_from": "2026-01-01"},
    ),
    ("GET", "/billing/contracts/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="contract"),
    ("PATCH", "/billing/contracts/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="contract", body={"included_labour_minutes": 1200}
    ),
    ("DELETE", "/billing/contracts/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_contract"),
    ("GET", "/part-categories"): Rule(STAFF, leaks=("part_category",)),
    ("POST", "/part-categories"): Rule(frozenset({"admin", "dispatcher", "accountant"}), body={"name": "Gaskets"}),
    ("GET", "/part-categories/{id}"): Rule(STAFF, target="part_category"),
    ("PATCH", "/part-categories/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="part_category", body={"name": "Shaft seals"}
    ),
    ("DELETE", "/part-categories/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="spare_part_category"
    ),
    # --- billing quotes (issue 5): owned by the quotes work ---
    # quotes.manage: admins, dispatchers, accountants; a client user reads their client's sent quotes
    ("GET", "/quotes"): Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user", "other_client_user"}), leaks=("sent_quote",)
    ),
    ("POST", "/quotes"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), body=lambda i: {"client_id": i["client"], "title": "Boiler"}
    ),
    ("GET", "/quotes/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant", "client_user"}), target="sent_quote"),
    ("GET", "/quotes/{id}/pdf"): Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), target="sent_quote"
    ),
    ("PATCH", "/quotes/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="quote", body={"title": "Pump replacement 2026"}
    ),
    ("DELETE", "/quotes/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="spare_quote"),
    ("POST", "/quotes/{id}/lines"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}),
        target="quote",
        body={"description": "Flushing", "quantity": "1", "unit_price": "90"},
    ),
    ("PUT", "/quotes/{id}/lines/order"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}),
        target="quote",
        body=lambda i: {"line_ids": [i["spare_quote_line"], i["quote_line"]]},
    ),
    ("PATCH", "/quote-lines/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="quote_line", body={"quantity": "2"}
    ),
    ("DELETE", "/quote-lines/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="spare_quote_line"),
    ("POST", "/quotes/{id}/send"): Rule(
        frozenset({"admin", "dispatcher", "accountant"}), target="quote", body={"to": "facility@example.com"}
    ),
    ("POST", "/quotes/{id}/withdraw"): Rule(frozenset({"admin", "dispatcher", "accountant"}), target="sent_quote"),
    # a work order is made by those who make work orders (accountants convert into invoices)
    ("POST", "/quotes/{id}/convert"): Rule(OFFICE, target="accepted_quote", body={"target": "work_order"}),
    # (end of billing quotes)
    # --- billing invoices, payments, credit notes, sending, accounting export (issue 5) ---
    # invoices.view (admin, dispatcher, accountant, client users: their own client's issued invoices) reads;
    # invoices.manage (admin, accountant) writes. Targets from ``_invoice_objects`` (scenario.py).
    ("GET", "/invoices"): Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user", "other_client_user"}), leaks=("invoice",)
    ),
    ("GET", "/invoices/accounting-export"): Rule(
        frozenset({"admin", "accountant"}), query={"date_from": "2000-01-01", "date_to": "2100-12-31"}
    ),
    ("POST", "/invoices/invoice-closed-work"): Rule(
        frozenset({"admin", "accountant"}), body=lambda i: {"client_ids": [i["client"]]}
    ),
    ("GET", "/invoices/{id}"): Rule(frozenset({"admin", "dispatcher", "accountant", "client_user"}), target="invoice"),
    ("PATCH", "/invoices/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="invoice_draft", body={"note": "Matrix note"}
    ),
    ("DELETE", "/invoices/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_invoice_draft"),
    ("POST", "/invoices/{id}/regenerate"): Rule(frozenset({"admin", "accountant"}), target="invoice_draft"),
    ("POST", "/invoices/{id}/issue"): Rule(frozenset({"admin", "accountant"}), target="invoice_draft", body={}),
    ("GET", "/invoices/{id}/pdf"): Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), target="invoice"
    ),
    ("GET", "/invoices/{id}/xml"): Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), target="invoice", query={"format": "ubl"}
    ),
    ("POST", "/invoices/{id}/send"): Rule(
        frozenset({"admin", "accountant"}), target="invoice", body={"to": "ap@example.com"}
    ),
    ("POST", "/invoices/{id}/lines"): Rule(
        frozenset({"admin", "accountant"}),
        target="invoice_draft",
        body={"description": "Matrix line", "quantity": "1", "unit_price": "5"},
    ),
    ("GET", "/invoice-lines/{id}"): Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), target="invoice_issued_line"
    ),
    ("PATCH", "/invoice-lines/{id}"): Rule(
        frozenset({"admin", "accountant"}), target="invoice_line", body={"quantity": "2"}
    ),
    ("DELETE", "/invoice-lines/{id}"): Rule(frozenset({"admin", "accountant"}), target="spare_invoice_line"),
    ("POST", "/invoices/{id}/payments"): Rule(
        frozenset({"admin", "accountant"}), target="invoice", body={"amount": "1.00"}
    ),
    ("DELETE", "/invoice-payments/{id}"): Rule(frozenset({"admin", "accountant"}), target="invoice_payment"),
    ("POST", "/invoices/{id}/credit-notes"): Rule(
        frozenset({"admin", "accountant"}), target="invoice", body={"reason": "Matrix credit"}
    ),
    # (end of billing invoices)
    # --- billing revenue leakage report and the accountant's panel (issue 5) ---
    # the report is for those who bill (invoices.manage or work_orders.billing); charges are read by the staff
    # (work_orders.costs) and recorded by charges.record (technicians on work assigned to them)
    ("GET", "/billing/leakage"): Rule(frozenset({"admin", "dispatcher", "accountant"}), query={"days": 7}),
    ("GET", "/work-orders/{id}/charges"): Rule(STAFF, target="work_order"),
    ("POST", "/work-orders/{id}/charges"): Rule(
        RECORD, target="work_order", body={"kind": "expense", "description": "Toll", "unit_price": "4.20"}
    ),
    ("GET", "/charges/{id}"): Rule(STAFF, target="charge"),
    ("DELETE", "/charges/{id}"): Rule(RECORD, target="spare_charge"),
    # (end of billing reports)
    # --- field sync, device bundle and held queue (issue 4) ---
    # whoever works in the field syncs (admins, dispatchers, technicians); a batch is one note, new ids each time
    ("GET", "/field/bundle"): Rule(OFFICE | {"technician", "technician2"}),
    ("GET", "/field/parts"): Rule(OFFICE | {"technician", "technician2"}, query={"q": "seal"}),
    ("POST", "/field/sync"): Rule(
        OFFICE | {"technician", "technician2"},
        body=lambda i: {
            "device_id": str(__import__("uuid").uuid4()),
            "commands": [
                {
                    "mutation_id": str(__import__("uuid").uuid4()),
                    "seq": 1,
                    "type": "note.add",
                    "work_order_id": i["work_order"],
                    "payload": {"body": "Checked"},
                }
            ],
        },
    ),
    ("GET", "/field/devices"): Rule(OFFICE | {"technician", "technician2"}, leaks=("field_device",)),
    ("GET", "/field/held"): Rule(OFFICE, leaks=("field_held",)),
    ("POST", "/field/held/{id}/accept"): Rule(OFFICE, target="field_held"),
    ("POST", "/field/held/{id}/reject"): Rule(OFFICE, target="field_held", body={"reason": "Not needed"}),
    # (end of field sync)
    # --- technician app /m/ (issue 4) ---
    # (end of field app)
    # --- live events (issue 4) ---
    # (end of field live)
}


def _operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    ops = []
    for path, methods in schema["paths"].items():
        for method in methods:
            ops.append((method.upper(), path.removeprefix("/api/v1")))
    return sorted(ops)


def test_every_api_operation_has_a_rule():
    # given the operations the API serves
    operations = set(_operations())
    # then each has a rule, and no rule names an operation that is gone
    assert operations - set(RULES) == set(), "add a rule to RULES for these new endpoints"
    assert set(RULES) - operations == set(), "these rules name endpoints that no longer exist"


def _url(path: str, rule: Rule, ids: dict) -> str:
    url = "/api/v1" + path
    if "{id}" in url:
        url = url.replace("{id}", str(ids[rule.target]))
    if "{item_id}" in url:
        url = url.replace("{item_id}", str(ids["checklist_item"]))
    return url


def _call(client: Client, method: str, url: str, rule: Rule, ids: dict):
    body = rule.body(ids) if callable(rule.body) else rule.body
    if body == "ics":
        upload = SimpleUploadedFile("holidays.ics", ICS_HOLIDAY, content_type="text/calendar")
        return client.post(url, {"file": upload})
    if body == "multipart":
        upload = SimpleUploadedFile("photo.png", PNG_1PX, content_type="image/png")
        return client.post(url, {"file": upload, "caption": "Photo"})
    if method == "GET":
        query = rule.query(ids) if callable(rule.query) else (rule.query or {})
        return client.get(url, query)
    data = json.dumps(body if body is not None else {})
    return getattr(client, method.lower())(url, data, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(RULES))
def test_api_operation_answers_each_caller_as_the_role_table_says(matrix, db, method, path, role):
    # given the scenario and a caller
    _world, _other_world, scenario = matrix
    rule = RULES[(method, path)]
    client = Client()
    if role != "anonymous":
        client.force_login(scenario.actors[role].user)
    # when
    response = _call(client, method, _url(path, rule, scenario.ids), rule, scenario.ids)
    status = response.status_code
    detail = b"".join(response.streaming_content)[:300] if response.streaming else response.content[:300]
    # then
    if role == "anonymous":
        assert status == 401, detail
        assert response["Content-Type"].startswith("application/problem+json")
    elif role in rule.allowed:
        if rule.success == "ok":
            assert 200 <= status < 300, (status, detail)
        else:
            assert status not in (401, 403, 404), (status, detail)
        if rule.leaks and status == 200:
            _assert_no_leak(role, rule, scenario, response)
    elif role == "other_org":
        # another tenant's objects do not exist for this caller; its own organization's lists and
        # creations work as usual and show nothing of this one
        if "{id}" in path:
            assert status == 404, (status, detail)
        elif status == 200 and rule.leaks:
            _assert_no_leak(role, rule, scenario, response)
    else:
        assert status in (403, 404, 422), (status, detail)
        if "{id}" in path and role in ("other_client_user",):
            assert status in (403, 404), detail
        assert response["Content-Type"].startswith("application/problem+json")


def _assert_no_leak(role: str, rule: Rule, scenario, response) -> None:
    if role not in ("other_client_user", "other_org"):
        return
    items = response.json().get("items", [])
    seen = {item.get("id") for item in items}
    for key in rule.leaks:
        assert scenario.ids[key] not in seen, f"{role} can see {key} {scenario.ids[key]} of another client"


@pytest.mark.parametrize(("method", "path"), [op for op in sorted(RULES) if RULES[op].leaks])
def test_list_endpoints_hide_other_tenants_and_clients(matrix, db, method, path):
    # given
    _world, _other_world, scenario = matrix
    rule = RULES[(method, path)]
    for role in ("other_org", "other_client_user"):
        client = Client()
        client.force_login(scenario.actors[role].user)
        # when
        response = _call(client, method, _url(path, rule, scenario.ids), rule, scenario.ids)
        # then: either refused, or a page without the other client's rows
        if response.status_code == 200:
            _assert_no_leak(role, rule, scenario, response)
        else:
            assert response.status_code in (403, 404), response.content[:200]
