-- Issued invoices and credit notes cannot change, whatever writes to the database: once a
-- document leaves 'draft', its amounts, parties, dates and number are fixed, its lines
-- cannot be added, changed or removed, and it cannot be deleted. Its status may move on
-- (issued -> paid or void, paid -> void), payment and void details be recorded, and its
-- PDF be stored once. Links that Django nulls when their target goes (run, allocation
-- run, issued_by) are not frozen.
CREATE OR REPLACE FUNCTION invoices_document_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'document % is issued and cannot be deleted', OLD.number
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF NEW.status = 'draft' OR (OLD.status = 'void' AND NEW.status <> 'void') THEN
        RAISE EXCEPTION 'document % cannot go from % to %', OLD.number, OLD.status, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.kind, NEW.unit_id, NEW.original_id, NEW.period, NEW.currency, NEW.cost_basis,
        NEW.plan_name, NEW.number, NEW.issue_date, NEW.due_date, NEW.seller_name,
        NEW.seller_address, NEW.seller_tax_id, NEW.payment_details, NEW.buyer_name,
        NEW.buyer_address, NEW.buyer_tax_id, NEW.subtotal, NEW.tax_total, NEW.total,
        NEW.wholesale_total, NEW.taxes, NEW.reason, NEW.issued_at, NEW.payers_of_record)
       IS DISTINCT FROM
       (OLD.kind, OLD.unit_id, OLD.original_id, OLD.period, OLD.currency, OLD.cost_basis,
        OLD.plan_name, OLD.number, OLD.issue_date, OLD.due_date, OLD.seller_name,
        OLD.seller_address, OLD.seller_tax_id, OLD.payment_details, OLD.buyer_name,
        OLD.buyer_address, OLD.buyer_tax_id, OLD.subtotal, OLD.tax_total, OLD.total,
        OLD.wholesale_total, OLD.taxes, OLD.reason, OLD.issued_at, OLD.payers_of_record) THEN
        RAISE EXCEPTION 'document % is issued and cannot be changed', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.pdf <> '' AND (NEW.pdf, NEW.pdf_sha256) IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256) THEN
        RAISE EXCEPTION 'the PDF of document % is stored and cannot be replaced', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER invoices_document_frozen
BEFORE UPDATE OR DELETE ON invoices_invoice
FOR EACH ROW EXECUTE FUNCTION invoices_document_frozen();

CREATE OR REPLACE FUNCTION invoices_line_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    document record;
BEGIN
    SELECT status, number INTO document FROM invoices_invoice
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
    IF FOUND AND document.status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of document % are issued and cannot change', document.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.invoice_id <> NEW.invoice_id THEN
        SELECT status, number INTO document FROM invoices_invoice WHERE id = OLD.invoice_id;
        IF FOUND AND document.status <> 'draft' THEN
            RAISE EXCEPTION 'the lines of document % are issued and cannot change',
                document.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER invoices_line_frozen
BEFORE INSERT OR UPDATE OR DELETE ON invoices_invoiceline
FOR EACH ROW EXECUTE FUNCTION invoices_line_frozen();
