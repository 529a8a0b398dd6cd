"""UBL 2.1 Invoice / CreditNote following Peppol BIS Billing 3.0, from the terms of :mod:`.terms`.

The ``factur-x`` library generates UBL 2.1 from the same dict as the CII (profile EN 16931); this module
adds what Peppol BIS 3.0 asks on top: its CustomizationID (BT-24) and ProfileID (BT-23), and a buyer
reference when the invoice has neither one nor an order reference (PEPPOL-EN16931-R003). A credit note
(type 381) becomes a UBL ``CreditNote`` document.
"""

from __future__ import annotations

import copy

from facturx.generate_xml import generate_ubl_xml
from lxml import etree

from .cii import quiet, serialize, without_nil

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def render(terms: dict) -> bytes:
    """The UBL XML (UTF-8 bytes) of ``terms``; the same terms always give the same bytes."""
    data = copy.deepcopy(terms)  # the generator rewrites the dict it is given
    data["BT-23"] = PROFILE_ID
    if not data.get("BT-10") and not data.get("BT-13"):
        data["BT-10"] = data["BT-1"]  # PEPPOL-EN16931-R003: a buyer or an order reference is required
    with quiet():
        xml = generate_ubl_xml(data, level="en16931", check_xsd=False, check_schematron=False)
    # The generator writes the plain EN 16931 identifier; Peppol BIS 3.0 names its CIUS.
    root = without_nil(etree.fromstring(xml))
    root.find(f"{{{CBC}}}CustomizationID").text = CUSTOMIZATION_ID
    return serialize(root)
