from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "freeze_documents.sql").read_text()
REVERSE = """
DROP TRIGGER IF EXISTS invoices_line_frozen ON invoices_invoiceline;
DROP FUNCTION IF EXISTS invoices_line_frozen();
DROP TRIGGER IF EXISTS invoices_document_frozen ON invoices_invoice;
DROP FUNCTION IF EXISTS invoices_document_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("invoices", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
