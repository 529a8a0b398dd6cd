"""Pages of work requests and work orders."""

from django.urls import path

from . import views

urlpatterns = [
    path("requests/", views.work_request_list, name="work_request_list"),
    path("requests/new/", views.work_request_create, name="work_request_create"),
    path("requests/<int:pk>/", views.work_request_detail, name="work_request_detail"),
    path("requests/<int:pk>/convert/", views.work_request_convert, name="work_request_convert"),
    path("requests/<int:pk>/reject/", views.work_request_reject, name="work_request_reject"),
    path("requests/<int:pk>/duplicate/", views.work_request_duplicate, name="work_request_duplicate"),
    path("work-orders/", views.work_order_list, name="work_order_list"),
    path("work-orders/new/", views.work_order_create, name="work_order_create"),
    path("work-orders/<int:pk>/", views.work_order_detail, name="work_order_detail"),
    path("work-orders/<int:pk>/edit/", views.work_order_edit, name="work_order_edit"),
    path("work-orders/<int:pk>/transition/", views.work_order_transition, name="work_order_transition"),
    path(
        "work-orders/<int:pk>/checklist/<int:item_pk>/",
        views.work_order_checklist_answer,
        name="work_order_checklist_answer",
    ),
    path("work-orders/<int:pk>/time/", views.work_order_time_add, name="work_order_time_add"),
    path(
        "work-orders/<int:pk>/time/<int:entry_pk>/delete/", views.work_order_time_delete, name="work_order_time_delete"
    ),
    path("work-orders/<int:pk>/timer/", views.work_order_timer, name="work_order_timer"),
    path("work-orders/<int:pk>/parts/", views.work_order_part_add, name="work_order_part_add"),
    path(
        "work-orders/<int:pk>/parts/<int:usage_pk>/delete/", views.work_order_part_delete, name="work_order_part_delete"
    ),
    path("work-orders/<int:pk>/materials/", views.work_order_material_add, name="work_order_material_add"),
    path(
        "work-orders/<int:pk>/materials/<int:material_pk>/delete/",
        views.work_order_material_delete,
        name="work_order_material_delete",
    ),
    path("work-orders/<int:pk>/notes/", views.work_order_note_add, name="work_order_note_add"),
    path("work-orders/<int:pk>/attachments/", views.work_order_attachment_add, name="work_order_attachment_add"),
    path("work-orders/<int:pk>/signature/", views.work_order_signature, name="work_order_signature"),
    path("work-orders/<int:pk>/signature.png", views.work_order_signature_image, name="work_order_signature_image"),
    path("work-orders/<int:pk>/billing/", views.work_order_billing, name="work_order_billing"),
    path("work-orders/<int:pk>/follow-up/", views.work_order_follow_up, name="work_order_follow_up"),
    path("files/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("files/<int:pk>/thumbnail/", views.attachment_thumbnail, name="attachment_thumbnail"),
]
