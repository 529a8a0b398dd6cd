"""Billing in the admin: read-only views for support. Invoices are issued, credited and paid through
``billing.services`` (which keep the numbering, the snapshots, the documents and the work orders'
billing status); here nothing can be added, changed or deleted, and an issued invoice least of all
(rule 9: its change form is read-only and a POST to it is refused)."""

from django.contrib import admin

from fixflow.core.admin import ReadOnlyAdmin

from .models import Invoice, InvoiceLine, InvoiceSeries, Payment, WorkOrderCharge


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ["position", "kind", "description", "quantity", "unit", "unit_price", "discount_percent", "net_amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentInline(InvoiceLineInline):
    model = Payment
    fields = ["paid_on", "amount", "method", "reference", "created_by"]
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "organization", "document_type", "client", "status", "issue_date", "total_gross"]
    list_filter = ["organization", "document_type", "status"]
    search_fields = ["number", "client__name"]
    list_select_related = ["organization", "client"]
    inlines = [InvoiceLineInline, PaymentInline]

    def has_change_permission(self, request, obj=None):
        return False  # drafts change through the services too; issued ones never

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceSeries)
class InvoiceSeriesAdmin(ReadOnlyAdmin):
    list_display = ["code", "organization", "last_number", "last_issue_date"]
    list_filter = ["organization"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "organization", "paid_on", "amount", "method"]
    list_filter = ["organization", "method"]


@admin.register(WorkOrderCharge)
class WorkOrderChargeAdmin(ReadOnlyAdmin):
    list_display = ["description", "organization", "work_order", "kind", "incurred_on", "unit_price", "is_billable"]
    list_filter = ["organization", "kind"]
