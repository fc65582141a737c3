# The cost rollup: line items summed per day and combination of the columns allocation
# rules read, partitioned like the line items; filled for the periods already loaded.

import django.db.models.deletion
import portal.core.fields
from django.db import migrations, models
from psycopg import sql

CREATE_ROLLUP = """
-- Partitioned by billing period (range, one partition a month), then by payer (list),
-- like billing_cost_line_item: the ingest fills a staging table of the same shape and
-- attaches it when it attaches the line items.
CREATE SEQUENCE billing_cost_rollup_id_seq CACHE 1000;
CREATE TABLE billing_cost_rollup (
    id bigint NOT NULL DEFAULT nextval('billing_cost_rollup_id_seq'),
    billing_period_start date NOT NULL,
    billing_account_id text NOT NULL,
    day date NOT NULL,
    sub_account_id text,
    sub_account_name text,
    service_name text,
    region_id text,
    charge_category text NOT NULL,
    x_usage_type text,
    pricing_unit text,
    tag_set_id bigint,
    billed_cost numeric NOT NULL,
    effective_cost numeric NOT NULL,
    list_cost numeric NOT NULL,
    contracted_cost numeric NOT NULL,
    pricing_quantity numeric,
    row_count bigint NOT NULL
) PARTITION BY RANGE (billing_period_start);
ALTER SEQUENCE billing_cost_rollup_id_seq OWNED BY billing_cost_rollup.id;
"""

# A loaded period and payer's line items grouped into its rollup (as of this migration;
# later the ingest does it, see billing/sql/group_line_items.sql).
GROUP = """
INSERT INTO {leaf} (
    day, sub_account_id, sub_account_name, service_name, region_id, charge_category,
    x_usage_type, pricing_unit, tag_set_id, billed_cost, effective_cost, list_cost,
    contracted_cost, pricing_quantity, row_count
)
SELECT (li.charge_period_start AT TIME ZONE 'UTC')::date, li.sub_account_id,
       li.sub_account_name, li.service_name, li.region_id, li.charge_category,
       li.x_usage_type, li.pricing_unit, li.tag_set_id,
       trim_scale(sum(li.billed_cost)), trim_scale(sum(li.effective_cost)),
       trim_scale(sum(li.list_cost)), trim_scale(sum(li.contracted_cost)),
       trim_scale(sum(li.pricing_quantity)), count(*)
FROM {line_items} AS li
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""


def _next_month(day):
    return day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)


def fill_loaded_periods(apps, schema_editor):
    LoadedPeriod = apps.get_model("billing", "LoadedPeriod")
    with schema_editor.connection.cursor() as cursor:
        for loaded in LoadedPeriod.objects.all():
            period, payer = loaded.billing_period_start, loaded.billing_account_id
            parent = sql.Identifier(f"billing_cost_rollup_{period:%Y_%m}")
            leaf = sql.Identifier(
                "billing_cost_rollup" + loaded.table_name.removeprefix("billing_cost_line_item")
            )
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} PARTITION OF billing_cost_rollup "
                    "FOR VALUES FROM ({}) TO ({}) PARTITION BY LIST (billing_account_id)"
                ).format(parent, sql.Literal(period), sql.Literal(_next_month(period)))
            )
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE {leaf} (LIKE billing_cost_rollup INCLUDING DEFAULTS, "
                    "CHECK (billing_period_start = {period} AND billing_account_id = {payer})); "
                    "ALTER TABLE {leaf} ALTER billing_period_start SET DEFAULT {period}, "
                    "ALTER billing_account_id SET DEFAULT {payer}"
                ).format(leaf=leaf, period=sql.Literal(period), payer=sql.Literal(payer))
            )
            cursor.execute(
                sql.SQL(GROUP).format(leaf=leaf, line_items=sql.Identifier(loaded.table_name))
            )
            cursor.execute(
                sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
                    parent, leaf, sql.Literal(payer)
                )
            )


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0003_cost_store'),
    ]

    operations = [
        migrations.RunSQL(CREATE_ROLLUP, "DROP TABLE billing_cost_rollup CASCADE"),
        migrations.CreateModel(
            name='CostRollup',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('billing_period_start', models.DateField()),
                ('billing_account_id', models.TextField()),
                ('day', models.DateField()),
                ('sub_account_id', models.TextField(null=True)),
                ('sub_account_name', models.TextField(null=True)),
                ('service_name', models.TextField(null=True)),
                ('region_id', models.TextField(null=True)),
                ('charge_category', models.TextField()),
                ('x_usage_type', models.TextField(null=True)),
                ('pricing_unit', models.TextField(null=True)),
                ('billed_cost', portal.core.fields.ExactNumericField()),
                ('effective_cost', portal.core.fields.ExactNumericField()),
                ('list_cost', portal.core.fields.ExactNumericField()),
                ('contracted_cost', portal.core.fields.ExactNumericField()),
                ('pricing_quantity', portal.core.fields.ExactNumericField(null=True)),
                ('row_count', models.BigIntegerField()),
                ('tag_set', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, to='billing.tagset')),
            ],
            options={
                'db_table': 'billing_cost_rollup',
                'managed': False,
            },
        ),
        migrations.RunPython(fill_loaded_periods, migrations.RunPython.noop),
    ]
