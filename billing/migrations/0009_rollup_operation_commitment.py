# The cost rollup keeps the operation and the commitment type, which tell the efficiency
# signals apart (Linux or Windows, database engine, covered by a Savings Plan or an RI);
# the periods already loaded are grouped again from their line items.

from django.db import migrations, models
from psycopg import sql

ADD_COLUMNS = """
ALTER TABLE billing_cost_rollup ADD COLUMN x_operation text,
                                ADD COLUMN commitment_discount_type text;
"""
DROP_COLUMNS = """
ALTER TABLE billing_cost_rollup DROP COLUMN x_operation,
                                DROP COLUMN commitment_discount_type;
"""


def _group_again(apps, schema_editor):
    from billing.ingest.rollup import GROUP_SQL, rollup_table_name
    from billing.ingest.summaries import ROLLUP_COLUMNS

    loaded_period = apps.get_model("billing", "LoadedPeriod")
    columns = sql.SQL(", ").join(map(sql.Identifier, ROLLUP_COLUMNS))
    with schema_editor.connection.cursor() as cursor:
        for loaded in loaded_period.objects.all():
            leaf = sql.Identifier(rollup_table_name(loaded.table_name))
            line_items = sql.Identifier(loaded.table_name)
            # A rollup made without line items (a benchmark's) is kept as it is.
            cursor.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(line_items))
            if not cursor.fetchone()[0]:
                continue
            cursor.execute(sql.SQL("TRUNCATE {}").format(leaf))
            cursor.execute(
                sql.SQL(GROUP_SQL).format(
                    rollup=leaf, columns=columns, line_items=line_items
                )
            )
            cursor.execute(sql.SQL("ANALYZE {}").format(leaf))


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_priced_grain")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD_COLUMNS, DROP_COLUMNS)],
            state_operations=[
                migrations.AddField(
                    model_name="costrollup",
                    name="x_operation",
                    field=models.TextField(null=True),
                ),
                migrations.AddField(
                    model_name="costrollup",
                    name="commitment_discount_type",
                    field=models.TextField(null=True),
                ),
            ],
        ),
        migrations.RunPython(_group_again, migrations.RunPython.noop, elidable=True),
    ]
