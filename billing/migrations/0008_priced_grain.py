from django.db import migrations


def _fill_priced_grain(apps, schema_editor):
    """The "day_priced" grain of every month already stored, from its "day" rows."""
    from billing.ingest.publish import analyze_summaries, CUBE_GRAIN_SQL, _fill_grain
    from billing.models.cubes import DAILY_GRAINS

    loaded_period = apps.get_model("billing", "LoadedPeriod")
    cube = apps.get_model("billing", "CostCube")
    # Filled again if 0006 (running today's code) filled it already.
    cube.objects.filter(grain="day_priced").delete()
    with schema_editor.connection.cursor() as cursor:
        for loaded in loaded_period.objects.all():
            params = {
                "period": loaded.billing_period_start,
                "payer": loaded.billing_account_id,
                "grain": "day_priced",
            }
            _fill_grain(cursor, CUBE_GRAIN_SQL, "c", DAILY_GRAINS["day_priced"], params)
        analyze_summaries(cursor)


class Migration(migrations.Migration):
    dependencies = [("billing", "0007_tag_pairs")]

    operations = [
        migrations.RunPython(_fill_priced_grain, migrations.RunPython.noop, elidable=True)
    ]
