"""Invoice documents (DOMAIN.md §4 rules 9 and 11): one dict of EN 16931 terms built from a stored invoice
(:mod:`.terms`), rendered as Factur-X CII (:mod:`.cii`) and Peppol BIS Billing 3.0 UBL (:mod:`.ubl`),
checked against the official XSD and EN 16931 schematron (:mod:`.validate`), and the PDF/A-3b invoice with
the CII embedded, the quote PDF and the EPC QR code (:mod:`.pdf`, :mod:`.qr`).

Nothing here writes to the database: the issuing service calls these functions and stores the results.
"""
