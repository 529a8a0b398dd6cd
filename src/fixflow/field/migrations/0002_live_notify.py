"""Live events on PostgreSQL (issue 4, decision 0011): every committed work order event is announced.

An ``AFTER INSERT`` trigger on the event table calls ``pg_notify('fixflow_live', '<event id> <work order
id> <organization id>')``. PostgreSQL delivers a notification only when the transaction that wrote the
row commits, so a rolled-back action is never announced, and every writer is covered (the services,
bulk inserts, other processes such as ``fixflow worker``). On SQLite nothing is installed: the server
polls the table instead (``fixflow.field.live``).
"""

from django.db import migrations

CHANNEL = "fixflow_live"  # fixflow.field.live.CHANNEL
FUNCTION = "fixflow_live_notify"
TRIGGER = "fixflow_live_notify"


def _table(apps) -> str:
    return apps.get_model("service", "WorkOrderEvent")._meta.db_table


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', NEW.id::text || ' ' || NEW.work_order_id::text || ' '
                                           || NEW.organization_id::text);
            RETURN NULL;
        END
        $$
        """
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON {_table(apps)} FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {_table(apps)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("field", "0001_offline_sync"),
        ("service", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, remove, elidable=False)]
