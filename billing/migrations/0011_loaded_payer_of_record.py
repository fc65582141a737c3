"""Each loaded month of a payer keeps its payer of record (billing transfers resolved)."""

from django.db import migrations, models
from django.db.models import Q


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    transfer = apps.get_model("billing", "BillingTransfer")
    loaded = apps.get_model("billing", "LoadedPeriod")
    links = list(
        transfer.objects.filter(Q(status="accepted") | Q(status="withdrawn", end_date__isnull=False))
        .values_list("source__account_id", "destination__account_id", "start_date", "end_date")
    )
    for row in loaded.objects.all():
        month = row.billing_period_start
        upstream = {
            source: destination
            for source, destination, start, end in links
            if start <= month and (end is None or month <= end)
        }
        chain = [row.billing_account_id]
        while chain[-1] in upstream and upstream[chain[-1]] not in chain:
            chain.append(upstream[chain[-1]])
        row.payer_of_record, row.payer_chain = chain[-1], chain
        row.save(update_fields=["payer_of_record", "payer_chain"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0010_resource_week_cost")]

    operations = [
        migrations.AddField(
            model_name="loadedperiod",
            name="payer_of_record",
            field=models.CharField(
                blank=True,
                help_text="Who pays this month's bill: the payer itself, or the end of its "
                "chain of billing transfers in force that month.",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="loadedperiod",
            name="payer_chain",
            field=models.JSONField(
                blank=True, default=list, help_text="The payer, then each payer upstream of it."
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
