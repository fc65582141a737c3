"""Pages of invoices, invoice runs, their settings and the reconciliation, under /invoices/.

Admins, finance and reseller admins read everything, wholesale cost and margins
included, and change the settings; admins and finance run, issue, void and credit. End
customers read their own issued documents (no margins); team leads none of it.
"""
