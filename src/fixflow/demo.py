"""The demo organization for ``fixflow demo``: a maintenance contractor with 90 days of history.

Nordwind Facility Services (Hamburg) maintains hospitals, offices, warehouses, a hotel and a pharma
client with a plant in New Jersey. Everything is written through the domain services, exactly as
the pages and the API would write it, so numbers, checklists, timeline events, equipment states and
guards are real.

To give the data a history the loader *replays* the last 90 days. Each work order and request has a
story: a list of steps (create, assign, plan, start, record time, answer the checklist, use parts,
hold, complete, close, …), each at a moment in working hours of the site's time zone (the office
works on Berlin time). All steps of all stories run in one chronological order while Fixflow's
clock (``core.clock.now``, the one place the code reads the time) is set to each step's moment, so
work order numbers, events, time entries, answers and the reopen window see the time they would
have seen. Django stamps its ``auto_now`` columns (``created_at``, ``updated_at``) with the real
time; these are moved into the past afterwards with ``queryset.update()``.

Loading is idempotent: when the demo organization exists, nothing is written and only the logins
are returned. The same random seed gives the same data (shifted to the day it is loaded).
"""

from __future__ import annotations

import heapq
import io
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.db.models import Max, OuterRef, Subquery

from fixflow.assets import meters
from fixflow.assets.models import Equipment, EquipmentCategory, Meter, MeterReading
from fixflow.assets.services import category_create, equipment_create
from fixflow.billing import config_services as billing_config
from fixflow.billing import quote_services
from fixflow.billing import services as billing
from fixflow.billing.choices import DocumentType, InvoiceStatus
from fixflow.billing.models import (
    BillingSettings,
    Invoice,
    InvoiceLine,
    Payment,
    PriceList,
    Quote,
    RateClass,
    ServiceContract,
    TaxRate,
)
from fixflow.core import clock
from fixflow.core.choices import Role
from fixflow.core.models import ChangeRecord, Membership, Organization, User
from fixflow.core.permissions import Actor, actor_for
from fixflow.core.services import membership_create, organization_create
from fixflow.customers.models import Client, Contact, Site
from fixflow.customers.services import client_create, contact_create, site_create
from fixflow.inventory.models import Part, PartCategory
from fixflow.inventory.services import part_category_create, part_create
from fixflow.maintenance import generator as pm_generator
from fixflow.maintenance import recurrence
from fixflow.maintenance import services as pm_services
from fixflow.maintenance.models import MaintenancePlan, Occurrence
from fixflow.service import services as wo_services
from fixflow.service.choices import BillingStatus, EventKind, HoldReason, Priority, RequestSource, Status, TimeKind
from fixflow.service.models import (
    ChecklistAnswer,
    PartUsage,
    TimeEntry,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderTemplate,
    WorkRequest,
)
from fixflow.sla import engine as sla_engine
from fixflow.sla import services as sla_services
from fixflow.sla.models import BusinessCalendar, SlaClock, SlaNotification, SlaPolicy

ORG_NAME = "Nordwind Facility Services"
PASSWORD = "fixflow-demo"
EMAIL_DOMAIN = "demo.fixflow.dev"
HISTORY_DAYS = 90
WORK_ORDER_COUNT = 200
OFFICE_TZ = ZoneInfo("Europe/Berlin")
SEED = 20260301

# ---------------------------------------------------------------------------------------------
# SLA: calendars and policies (targets in business minutes)

OFFICE_WEEK = [[["07:30", "12:00"], ["12:30", "17:00"]]] * 5 + [[], []]
# Newark runs three shifts from Monday 06:00 to Saturday 06:00; a night shift is two intervals.
PLANT_WEEK = [[["06:00", "24:00"]]] + [[["00:00", "24:00"]]] * 4 + [[["00:00", "06:00"]], []]
SLA_CALENDARS = [
    # name, time zone, week, (country, subdivision) of the public holidays
    ("Office hours Berlin", "Europe/Berlin", OFFICE_WEEK, ("DE", "BE")),
    ("Shift plant 24×5 Newark", "America/New_York", PLANT_WEEK, ("US", "NJ")),
]
SLA_POLICIES = [
    # name, calendar ("" = the built-in 24×7), conditions, targets {priority: (response, resolution)}, at risk %.
    # The first that matches applies: planned work is judged against its booking, breakdowns by urgency.
    (
        "Planned maintenance",
        "Office hours Berlin",
        {"types": ["preventive", "inspection", "installation"]},
        {"critical": (5400, 8100), "high": (5400, 8100), "normal": (8100, 10800), "low": (8100, 10800)},
        80,
    ),
    (
        "Critical equipment",
        "",
        {"types": ["corrective"], "criticalities": ["critical", "high"], "priorities": ["critical", "high"]},
        {"critical": (240, 720), "high": (1440, 2880), "normal": (2880, 4320), "low": (4320, 8640)},
        75,
    ),
    (
        "Hansa Klinikum hospital contract",
        "Office hours Berlin",
        {"clients": ["Hansa Klinikum Hamburg gGmbH"]},
        {"critical": (120, 480), "high": (540, 1080), "normal": (1620, 2700), "low": (2700, 5400)},
        80,
    ),
    (
        "Newark plant",
        "Shift plant 24×5 Newark",
        {"site_timezone": "America/New_York"},
        {"critical": (120, 480), "high": (480, 1440), "normal": (1440, 2880), "low": (2880, 5760)},
        80,
    ),
]
# The default policy (everything else) counts in office hours with these targets.
DEFAULT_SLA_TARGETS = {"critical": (240, 540), "high": (1080, 1620), "normal": (2700, 4050), "low": (5400, 8100)}


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    full_name: str
    password: str = PASSWORD


@dataclass
class DemoResult:
    organization: Organization
    logins: list[Login]
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# the people

PEOPLE: list[tuple[str, str, str, str]] = [
    # role, e-mail local part, full name, phone
    (Role.ADMIN, "admin", "Thomas Neumann", "+49 40 3785 2210"),
    (Role.DISPATCHER, "dispatcher", "Katrin Schulz", "+49 40 3785 2201"),
    (Role.TECHNICIAN, "technician", "Jonas Becker", "+49 171 4452 310"),
    (Role.TECHNICIAN, "technician2", "Lea Wagner", "+49 171 4452 311"),
    (Role.TECHNICIAN, "technician3", "Murat Yılmaz", "+49 171 4452 312"),
    (Role.TECHNICIAN, "technician4", "Sven Hoffmann", "+49 171 4452 313"),
    (Role.TECHNICIAN, "technician5", "Mike Sullivan", "+1 973 555 0148"),
    (Role.TECHNICIAN, "technician6", "Ana Rodriguez", "+1 973 555 0172"),
    (Role.ACCOUNTANT, "accountant", "Sabine Krüger", "+49 40 3785 2230"),
    (Role.REQUESTER, "requester", "Peter Lang", "+49 40 6690 1180"),
    (Role.CLIENT_USER, "client", "Dr. Julia Brandt", "+49 40 7410 5500"),
]
CLIENT_USER_CLIENT = "Hansa Klinikum Hamburg gGmbH"
# Which technicians work where, and their trades (categories they are first choice for).
TECH_REGION = {
    "technician": "DE",
    "technician2": "DE",
    "technician3": "DE",
    "technician4": "DE",
    "technician5": "US",
    "technician6": "US",
}
TECH_TRADES = {
    "technician": {"Chillers", "AHUs", "Pumps"},
    "technician2": {"Lifts", "Electrical", "Fire safety"},
    "technician3": {"Boilers", "Pumps"},
    "technician4": {"AHUs", "Chillers", "Fire safety", "Electrical"},
    "technician5": {"Chillers", "Pumps", "AHUs", "Boilers", "Electrical"},
    "technician6": {"Lifts", "Fire safety", "AHUs", "Electrical"},
}

# ---------------------------------------------------------------------------------------------
# clients, sites and equipment

CATEGORIES = {
    "Boilers": "Gas and oil boilers, hot water and heating plants.",
    "Chillers": "Chillers, compressors and cooling towers.",
    "AHUs": "Air handling units and rooftop units, with their fans and heat recovery.",
    "Pumps": "Heating, chilled water, condenser and sprinkler pumps.",
    "Lifts": "Passenger, bed and goods lifts; escalators.",
    "Fire safety": "Fire alarm panels, sprinklers, smoke extraction, extinguishers.",
    "Electrical": "Switchgear, distribution boards, generators and UPS.",
}

# (name, category, manufacturer, model, criticality, service template key or "", children)
Eq = tuple[str, str, str, str, str, str, list]

NY = "America/New_York"
BERLIN = "Europe/Berlin"

CLIENTS: list[dict] = [
    {
        "name": "Hansa Klinikum Hamburg gGmbH",
        "billing_address": "Hansa Klinikum Hamburg gGmbH\nKreditorenbuchhaltung\nAlsterdorfer Markt 8\n22297 Hamburg\n"
        "Germany",
        "vat_id": "DE118734552",
        "email": "technik@hansa-klinikum.example",
        "phone": "+49 40 7410 5000",
        "notes": "Full maintenance contract for HVAC, lifts and fire safety. Work in wards only after reporting to "
        "the ward office.",
        "contacts": [
            (
                "Dr. Julia Brandt",
                "Head of Facility Management",
                "j.brandt@hansa-klinikum.example",
                "+49 40 7410 5500",
                True,
            ),
            (
                "Holger Witt",
                "Shift lead, technical services",
                "h.witt@hansa-klinikum.example",
                "+49 40 7410 5512",
                False,
            ),
        ],
        "sites": [
            (
                "Energy centre",
                "Alsterdorfer Markt 8, Building E\n22297 Hamburg",
                BERLIN,
                "53.6127",
                "10.0231",
                "Key at the gate house; hearing protection in the chiller hall.",
                [
                    (
                        "Chiller plant",
                        "Chillers",
                        "Carrier",
                        "",
                        "critical",
                        "",
                        [
                            (
                                "Chiller CH-1",
                                "Chillers",
                                "Carrier",
                                "AquaForce 30XW-1252",
                                "critical",
                                "chiller",
                                [
                                    (
                                        "Compressor CH-1/C1",
                                        "Chillers",
                                        "Carrier",
                                        "06T screw compressor",
                                        "high",
                                        "",
                                        [],
                                    ),
                                    (
                                        "Compressor CH-1/C2",
                                        "Chillers",
                                        "Carrier",
                                        "06T screw compressor",
                                        "high",
                                        "",
                                        [],
                                    ),
                                ],
                            ),
                            (
                                "Chiller CH-2",
                                "Chillers",
                                "Carrier",
                                "AquaForce 30XW-1252",
                                "critical",
                                "chiller",
                                [
                                    (
                                        "Compressor CH-2/C1",
                                        "Chillers",
                                        "Carrier",
                                        "06T screw compressor",
                                        "high",
                                        "",
                                        [],
                                    ),
                                ],
                            ),
                            ("Chilled water pump P-01", "Pumps", "Grundfos", "TP 100-250/4", "high", "", []),
                            ("Chilled water pump P-02", "Pumps", "Grundfos", "TP 100-250/4", "high", "", []),
                            ("Condenser water pump P-03", "Pumps", "Grundfos", "NK 125-250", "high", "", []),
                            ("Cooling tower CT-1", "Chillers", "BAC", "Series 3000", "high", "", []),
                        ],
                    ),
                    (
                        "Boiler house",
                        "Boilers",
                        "Viessmann",
                        "",
                        "critical",
                        "",
                        [
                            (
                                "Boiler B-1",
                                "Boilers",
                                "Viessmann",
                                "Vitocrossal 300 CR3B 635 kW",
                                "critical",
                                "boiler",
                                [],
                            ),
                            (
                                "Boiler B-2",
                                "Boilers",
                                "Viessmann",
                                "Vitocrossal 300 CR3B 635 kW",
                                "critical",
                                "boiler",
                                [],
                            ),
                            ("Heating circuit pump HP-1", "Pumps", "Wilo", "Stratos GIGA 80/1-24", "medium", "", []),
                        ],
                    ),
                    ("Emergency generator", "Electrical", "MTU", "12V 2000 DS1100", "critical", "", []),
                    ("MV switchgear", "Electrical", "Siemens", "8DJH", "critical", "", []),
                ],
            ),
            (
                "Main building",
                "Alsterdorfer Markt 8\n22297 Hamburg",
                BERLIN,
                "53.6119",
                "10.0219",
                "Report to the technical services desk (ground floor, room 0.114).",
                [
                    ("Fire alarm panel", "Fire safety", "Bosch", "FPA-5000", "critical", "", []),
                    (
                        "AHU-01 operating theatres",
                        "AHUs",
                        "Weiss Klimatechnik",
                        "WKT 36.000",
                        "critical",
                        "ahu",
                        [
                            ("AHU-01 supply fan", "AHUs", "ebm-papst", "RadiPac 560", "high", "", []),
                            ("AHU-01 exhaust fan", "AHUs", "ebm-papst", "RadiPac 500", "high", "", []),
                            ("AHU-01 heat recovery wheel", "AHUs", "Hoval", "Enventus", "medium", "", []),
                        ],
                    ),
                    ("Bed lift L1", "Lifts", "Schindler", "5500", "critical", "lift", []),
                    ("Bed lift L2", "Lifts", "Schindler", "5500", "critical", "lift", []),
                ],
            ),
            (
                "Ward block North",
                "Alsterdorfer Markt 10\n22297 Hamburg",
                BERLIN,
                "53.6133",
                "10.0208",
                "Wards: quiet hours 13:00–15:00, no drilling.",
                [
                    ("AHU-02 wards", "AHUs", "Trox", "X-CUBE 2.0", "high", "ahu", []),
                    ("Passenger lift L3", "Lifts", "KONE", "MonoSpace 500", "high", "lift", []),
                    ("Main distribution board", "Electrical", "ABB", "ArTu K", "high", "", []),
                ],
            ),
        ],
    },
    {
        "name": "Elbtal Immobilien AG",
        "billing_address": "Elbtal Immobilien AG\nBallindamm 17\n20095 Hamburg\nGermany",
        "vat_id": "DE274410983",
        "email": "objektmanagement@elbtal-immobilien.example",
        "phone": "+49 40 6690 1100",
        "notes": "Property manager; orders above EUR 1,500 need written approval by Peter Lang.",
        "contacts": [
            ("Peter Lang", "Property manager", "p.lang@elbtal-immobilien.example", "+49 40 6690 1180", True),
            ("Miriam Koch", "Accounts payable", "m.koch@elbtal-immobilien.example", "+49 40 6690 1120", False),
        ],
        "sites": [
            (
                "Office building Ballindamm",
                "Ballindamm 17\n20095 Hamburg",
                BERLIN,
                "53.5522",
                "9.9966",
                "Underground car park, level -2, spaces 14–16 for contractors.",
                [
                    ("AHU-1 offices", "AHUs", "Trox", "X-CUBE 1.6", "medium", "ahu", []),
                    ("Passenger lift A", "Lifts", "Otis", "Gen2 Comfort", "high", "lift", []),
                    ("Passenger lift B", "Lifts", "Otis", "Gen2 Comfort", "high", "lift", []),
                    ("Gas condensing boiler", "Boilers", "Buderus", "Logano plus KB372-300", "high", "boiler", []),
                    ("Smoke extraction system", "Fire safety", "Colt", "SHEV", "high", "", []),
                ],
            ),
            (
                "Harburg shopping centre",
                "Lüneburger Straße 40\n21073 Hamburg",
                BERLIN,
                "53.4606",
                "9.9836",
                "Centre management office next to entrance B. Opening hours 10:00–20:00.",
                [
                    ("Rooftop unit RTU-1", "AHUs", "Lennox", "e-Baltic EBC 170", "medium", "ahu", []),
                    ("Escalator E1", "Lifts", "Schindler", "9300 AE", "medium", "lift", []),
                    ("Goods lift G1", "Lifts", "Schindler", "2600", "medium", "lift", []),
                    (
                        "Sprinkler pump set",
                        "Fire safety",
                        "Minimax",
                        "MX 5000",
                        "critical",
                        "",
                        [
                            ("Sprinkler pump (electric)", "Pumps", "Grundfos", "NBG 125-100-315", "critical", "", []),
                            ("Sprinkler pump (diesel)", "Pumps", "Clarke", "JU6H", "critical", "", []),
                        ],
                    ),
                ],
            ),
            (
                "Eppendorf residential complex",
                "Eppendorfer Weg 210\n20251 Hamburg",
                BERLIN,
                "53.5846",
                "9.9652",
                "Caretaker Mr. Yıldız, flat 1a, mobile +49 160 552 1190.",
                [
                    (
                        "Heating plant",
                        "Boilers",
                        "Viessmann",
                        "",
                        "high",
                        "",
                        [
                            ("Boiler H-1", "Boilers", "Viessmann", "Vitodens 200-W 150 kW", "high", "boiler", []),
                            ("Circulation pump", "Pumps", "Wilo", "Yonos MAXO 50/0.5-12", "medium", "", []),
                        ],
                    ),
                    ("Lift house 1", "Lifts", "KONE", "MonoSpace 300", "medium", "lift", []),
                ],
            ),
        ],
    },
    {
        "name": "Brandt & Söhne Logistik GmbH",
        "billing_address": "Brandt & Söhne Logistik GmbH\nAm Tabakquartier 4\n28197 Bremen\nGermany",
        "vat_id": "DE301925746",
        "email": "facility@brandt-logistik.example",
        "phone": "+49 421 5509 300",
        "notes": "Two warehouses; invoices by e-mail only.",
        "contacts": [
            ("Frank Albers", "Site manager Bremen", "f.albers@brandt-logistik.example", "+49 421 5509 310", True),
            ("Nicole Baumann", "Site manager Hannover", "n.baumann@brandt-logistik.example", "+49 511 8830 200", False),
        ],
        "sites": [
            (
                "Logistics centre Bremen",
                "Am Tabakquartier 4\n28197 Bremen",
                BERLIN,
                "53.0906",
                "8.7710",
                "Register at gate 3; safety shoes and high-visibility vest required.",
                [
                    ("Sprinkler system", "Fire safety", "Minimax", "ESFR wet system", "critical", "", []),
                    ("Warehouse heating", "Boilers", "Schwank", "deltaSchwank 40", "medium", "boiler", []),
                    ("Main LV switchboard", "Electrical", "Siemens", "SIVACON S8", "high", "", []),
                    ("Goods lift W1", "Lifts", "Schindler", "2600", "medium", "lift", []),
                ],
            ),
            (
                "Hub Hannover",
                "Hansastraße 22\n30419 Hannover",
                BERLIN,
                "52.4091",
                "9.6902",
                "Night shift lead has the keys after 18:00.",
                [
                    ("Fire alarm panel", "Fire safety", "Hekatron", "Integral IP", "critical", "", []),
                    ("UPS system", "Electrical", "Eaton", "93PM 100 kW", "high", "", []),
                ],
            ),
        ],
    },
    {
        "name": "Kessler Pharma GmbH",
        "billing_address": "Kessler Pharma GmbH\nRheinallee 80\n55120 Mainz\nGermany",
        "vat_id": "DE812556013",
        "email": "engineering@kessler-pharma.example",
        "phone": "+49 6131 9570 0",
        "notes": "GMP areas: work permits from QA. US sites are invoiced to the German headquarters.",
        "contacts": [
            ("Dr. Stefan Ritter", "Head of Engineering", "s.ritter@kessler-pharma.example", "+49 6131 9570 410", True),
            ("Linda Park", "Plant engineer, Newark", "l.park@kessler-pharma.example", "+1 973 555 0101", False),
        ],
        "sites": [
            (
                "Mainz plant",
                "Rheinallee 80\n55120 Mainz",
                BERLIN,
                "50.0113",
                "8.2555",
                "GMP zone C: change at airlock 2. Work permit from QA before starting.",
                [
                    ("Clean-room AHU CR-1", "AHUs", "Wolf", "KG Top 160", "critical", "ahu", []),
                    (
                        "Process chiller PC-1",
                        "Chillers",
                        "Daikin",
                        "EWAD-TZ 350",
                        "critical",
                        "chiller",
                        [
                            ("Process chilled water pump", "Pumps", "KSB", "Etanorm 65-200", "high", "", []),
                        ],
                    ),
                ],
            ),
            (
                "Newark plant",
                "480 Ferry Street\nNewark, NJ 07105\nUSA",
                NY,
                "40.7246",
                "-74.1583",
                "Badge at security desk; escort required in production.",
                [
                    (
                        "Chiller plant NW",
                        "Chillers",
                        "Trane",
                        "",
                        "critical",
                        "",
                        [
                            (
                                "Chiller NW-CH1",
                                "Chillers",
                                "Trane",
                                "CenTraVac CVHF",
                                "critical",
                                "chiller",
                                [
                                    (
                                        "Compressor NW-CH1/C1",
                                        "Chillers",
                                        "Trane",
                                        "centrifugal, 3-stage",
                                        "critical",
                                        "",
                                        [],
                                    ),
                                ],
                            ),
                            ("Chilled water pump NW-P1", "Pumps", "Bell & Gossett", "e-1510", "high", "", []),
                        ],
                    ),
                    ("Rooftop AHU NW-AHU1", "AHUs", "Carrier", "50XC", "high", "ahu", []),
                ],
            ),
            (
                "Allentown distribution center",
                "7150 Airport Road\nAllentown, PA 18109\nUSA",
                NY,
                "40.6521",
                "-75.4420",
                "Dock 4 is the contractor entrance.",
                [
                    ("Fire pump", "Fire safety", "Aurora", "Pentair 481", "critical", "", []),
                    ("Freight elevator", "Lifts", "Otis", "HydroFit", "medium", "lift", []),
                ],
            ),
        ],
    },
    {
        "name": "Hotel Alsterblick GmbH",
        "billing_address": "Hotel Alsterblick GmbH\nAn der Alster 52\n20099 Hamburg\nGermany",
        "vat_id": "DE209118664",
        "email": "haustechnik@alsterblick.example",
        "phone": "+49 40 2880 40",
        "notes": "No noisy work in guest areas before 10:00.",
        "contacts": [("Marco Feldmann", "Chief engineer", "m.feldmann@alsterblick.example", "+49 40 2880 4150", True)],
        "sites": [
            (
                "Hotel Alsterblick",
                "An der Alster 52\n20099 Hamburg",
                BERLIN,
                "53.5586",
                "10.0097",
                "Staff entrance in Koppel; ask reception for the service lift key.",
                [
                    ("Boiler HB-1", "Boilers", "Weishaupt", "WTC-GW 320", "high", "boiler", []),
                    ("Guest lift", "Lifts", "Otis", "Gen2 Premier", "high", "lift", []),
                    ("Kitchen extract AHU", "AHUs", "Systemair", "Topvex TR15", "medium", "ahu", []),
                ],
            ),
        ],
    },
]

PARTS: list[tuple[str, str, str, str, str]] = [
    # sku, name, unit, unit cost, sale price
    ("FLT-G4-592-592", "Panel filter G4 592×592×48", "pc", "6.80", "12.90"),
    ("FLT-F7-592-592-6P", "Bag filter F7 592×592, 6 pockets", "pc", "24.50", "42.00"),
    ("FLT-M5-287-592", "Bag filter M5 287×592", "pc", "15.20", "27.50"),
    ("BLT-SPA-1250", "V-belt SPA 1250", "pc", "9.40", "17.80"),
    ("BLT-SPB-1800", "V-belt SPB 1800", "pc", "14.60", "26.90"),
    ("BRG-6205-2RS", "Deep-groove ball bearing 6205-2RS", "pc", "7.10", "14.50"),
    ("BRG-6306-2Z", "Deep-groove ball bearing 6306-2Z", "pc", "11.30", "21.00"),
    ("SEAL-MS-28-BQQE", "Mechanical seal 28 mm BQQE", "pc", "118.00", "189.00"),
    ("REF-R410A", "Refrigerant R410A", "kg", "38.00", "69.00"),
    ("REF-R134A", "Refrigerant R134a", "kg", "42.00", "78.00"),
    ("OIL-POE-68-1L", "Compressor oil POE 68", "l", "28.50", "49.00"),
    ("SEN-PT1000-100", "Immersion sensor PT1000, 100 mm", "pc", "34.00", "62.00"),
    ("VLV-3W-DN25", "3-way mixing valve DN25", "pc", "146.00", "238.00"),
    ("ACT-24V-10NM", "Damper actuator 24 V, 10 Nm", "pc", "89.00", "149.00"),
    ("IGN-ELEC-VIT", "Ignition electrode set (Viessmann)", "pc", "31.00", "58.00"),
    ("GSK-FLUE-DN110", "Flue gas gasket DN110", "pc", "6.20", "13.00"),
    ("EXP-VES-50L", "Expansion vessel 50 l", "pc", "72.00", "125.00"),
    ("CNT-3P-25A", "Contactor 3-pole 25 A, 230 V coil", "pc", "38.00", "68.00"),
    ("FUSE-NH00-63A", "NH00 fuse link 63 A", "pc", "4.10", "9.80"),
    ("RLY-OVL-9-13A", "Thermal overload relay 9–13 A", "pc", "29.00", "54.00"),
    ("BAT-12V-7AH", "Battery 12 V 7 Ah (fire panel)", "pc", "18.50", "36.00"),
    ("BAT-12V-100AH", "Battery 12 V 100 Ah AGM (UPS)", "pc", "164.00", "259.00"),
    ("DET-OPT-FAP", "Optical smoke detector", "pc", "41.00", "79.00"),
    ("MCP-RED", "Manual call point, red", "pc", "22.00", "44.00"),
    ("EXT-CO2-5KG", "CO₂ fire extinguisher 5 kg", "pc", "64.00", "112.00"),
    ("LMP-EXIT-LED", "LED exit sign, maintained", "pc", "48.00", "92.00"),
    ("LFT-ROLLER-80", "Lift door roller 80 mm", "pc", "16.00", "34.00"),
    ("LFT-LIGHT-CURTAIN", "Light curtain for lift doors", "pc", "310.00", "495.00"),
    ("LFT-ROPE-8MM", "Lift suspension rope 8 mm", "m", "6.50", "12.00"),
    ("CBL-NYM-3X1.5", "Cable NYM-J 3×1.5 mm²", "m", "0.85", "1.90"),
    ("PIPE-CU-22", "Copper pipe 22 mm", "m", "9.80", "17.50"),
    ("CLN-COIL-5L", "Coil cleaner, 5 l can", "pc", "19.00", "34.00"),
]

# Parts a technician reaches for per category of equipment (sku, typical quantities).
CATEGORY_PARTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "AHUs": [
        ("BLT-SPA-1250", ("1", "2")),
        ("BRG-6205-2RS", ("2",)),
        ("ACT-24V-10NM", ("1",)),
        ("FLT-F7-592-592-6P", ("4", "6")),
        ("CLN-COIL-5L", ("1",)),
    ],
    "Chillers": [
        ("REF-R134A", ("2.5", "4", "6")),
        ("OIL-POE-68-1L", ("1", "2")),
        ("SEN-PT1000-100", ("1",)),
        ("CNT-3P-25A", ("1",)),
        ("PIPE-CU-22", ("1.5", "3")),
    ],
    "Pumps": [("SEAL-MS-28-BQQE", ("1",)), ("BRG-6306-2Z", ("2",)), ("RLY-OVL-9-13A", ("1",))],
    "Boilers": [
        ("IGN-ELEC-VIT", ("1",)),
        ("GSK-FLUE-DN110", ("1", "2")),
        ("EXP-VES-50L", ("1",)),
        ("VLV-3W-DN25", ("1",)),
        ("SEN-PT1000-100", ("1",)),
    ],
    "Lifts": [("LFT-ROLLER-80", ("2", "4")), ("LFT-LIGHT-CURTAIN", ("1",)), ("LFT-ROPE-8MM", ("24", "36"))],
    "Fire safety": [
        ("DET-OPT-FAP", ("1", "2", "3")),
        ("BAT-12V-7AH", ("2",)),
        ("MCP-RED", ("1",)),
        ("LMP-EXIT-LED", ("1", "2")),
        ("EXT-CO2-5KG", ("1",)),
    ],
    "Electrical": [
        ("FUSE-NH00-63A", ("3",)),
        ("CNT-3P-25A", ("1",)),
        ("BAT-12V-100AH", ("4", "8")),
        ("CBL-NYM-3X1.5", ("10", "25")),
    ],
}

# ---------------------------------------------------------------------------------------------
# templates

TEMPLATES: dict[str, dict] = {
    "ahu": {
        "name": "Quarterly AHU service",
        "type": "preventive",
        "default_priority": "normal",
        "estimated_duration_minutes": 120,
        "requires_equipment": True,
        "requires_signature": False,
        "description": "Isolate the unit, replace the filters, check belts, bearings and dampers, clean the "
        "condensate tray, record the supply air temperature after restart.",
        "checklist": [
            ("Unit isolated and locked out", "checkbox", True),
            ("Filters replaced", "checkbox", True),
            ("Belt tension and wear", "pass_fail", True),
            ("Supply air temperature (°C)", "number", False),
            ("Condensate tray cleaned", "checkbox", False),
            ("Remarks", "text", False),
        ],
        "parts": [("FLT-G4-592-592", "4"), ("FLT-F7-592-592-6P", "4")],
    },
    "boiler": {
        "name": "Annual boiler inspection",
        "type": "inspection",
        "default_priority": "normal",
        "estimated_duration_minutes": 180,
        "requires_equipment": True,
        "requires_signature": False,
        "description": "Flue gas measurement, burner and heat exchanger check, safety devices test.",
        "checklist": [
            ("Flue gas loss (%)", "number", True),
            ("CO in flue gas (ppm)", "number", True),
            ("Burner and ignition", "pass_fail", True),
            ("Safety valve tested", "pass_fail", True),
            ("Heat exchanger cleaned", "checkbox", False),
            ("Findings", "text", False),
        ],
        "parts": [("GSK-FLUE-DN110", "1")],
    },
    "lift": {
        "name": "Lift safety inspection",
        "type": "inspection",
        "default_priority": "high",
        "estimated_duration_minutes": 90,
        "requires_equipment": True,
        "requires_signature": True,
        "description": "Periodic inspection per operator duties (BetrSichV / ASME A17.1). The operator's "
        "representative signs the report on site.",
        "checklist": [
            ("Emergency call to 24/7 service tested", "pass_fail", True),
            ("Door safety edge / light curtain", "pass_fail", True),
            ("Brake test", "pass_fail", True),
            ("Levelling accuracy (mm)", "number", False),
            ("Logbook signed", "checkbox", True),
        ],
        "parts": [],
    },
    "chiller": {
        "name": "Chiller seasonal maintenance",
        "type": "preventive",
        "default_priority": "normal",
        "estimated_duration_minutes": 240,
        "requires_equipment": True,
        "requires_signature": False,
        "description": "Leak test (F-gas regulation), pressures, oil, compressor currents, condenser cleaning.",
        "checklist": [
            ("Leak test (F-gas)", "pass_fail", True),
            ("High pressure (bar)", "number", True),
            ("Low pressure (bar)", "number", True),
            ("Oil level correct", "checkbox", True),
            ("Compressor current (A)", "number", False),
            ("Condenser cleaned", "checkbox", False),
        ],
        "parts": [("OIL-POE-68-1L", "1")],
    },
    "fire": {
        "name": "Fire safety walk-through",
        "type": "inspection",
        "default_priority": "normal",
        "estimated_duration_minutes": 60,
        "requires_equipment": False,
        "requires_signature": False,
        "description": "Site-level round: escape routes, exit signs, extinguishers, fire doors.",
        "checklist": [
            ("Escape routes clear", "pass_fail", True),
            ("Exit signs lit", "pass_fail", True),
            ("Extinguishers inspected and in date", "checkbox", True),
            ("Fire doors close", "pass_fail", False),
            ("Findings", "text", False),
        ],
        "parts": [],
    },
}

NUMBER_ANSWERS = {
    "Supply air temperature (°C)": (17.5, 21.5, 1),
    "Flue gas loss (%)": (3.2, 7.8, 1),
    "CO in flue gas (ppm)": (6, 48, 0),
    "Levelling accuracy (mm)": (1, 9, 0),
    "High pressure (bar)": (12.5, 17.8, 1),
    "Low pressure (bar)": (2.9, 4.6, 1),
    "Compressor current (A)": (58, 96, 0),
}
TEXT_ANSWERS = [
    "No findings.",
    "Filter housing seal brittle – replace at next visit.",
    "All in order.",
    "Slight corrosion on the flange, monitored.",
    "Client informed about wear on the drive belt.",
    "Signage in stairwell 2 replaced.",
    "Logbook updated on site.",
]

CORRECTIVE: dict[str, list[tuple[str, str, str, tuple[tuple[str, str], ...]]]] = {
    # category: (title, description, resolution, parts used: (sku, quantity))
    "Chillers": [
        (
            "Chiller tripped on high pressure",
            "Alarm HP1 on the BMS since 06:40, chilled water supply 12 °C.",
            "Condenser fouled; cleaned tubes, reset HP switch, unit running at 7 °C supply.",
            (("CLN-COIL-5L", "2"),),
        ),
        (
            "Compressor short-cycling",
            "Compressor starts every 3–4 minutes according to the BMS trend.",
            "Faulty suction temperature sensor replaced; cycling normal after 2 h observation.",
            (("SEN-PT1000-100", "1"),),
        ),
        (
            "Refrigerant leak suspected",
            "Leak detector alarm in the chiller hall.",
            "Leak at flare nut on the liquid line; repaired, pressure-tested and recharged. F-gas log updated.",
            (("REF-R134A", "4.5"), ("PIPE-CU-22", "1.5")),
        ),
        (
            "Low chilled water flow alarm",
            "Flow switch alarm, plant switching between chillers.",
            "Strainer blocked; cleaned, flow back to 42 m³/h.",
            (),
        ),
    ],
    "Pumps": [
        (
            "Pump leaking at mechanical seal",
            "Water under the pump, drip every few seconds.",
            "Mechanical seal replaced, pump tested under load, no leakage.",
            (("SEAL-MS-28-BQQE", "1"),),
        ),
        (
            "Noisy pump bearing",
            "Grinding noise from the motor side.",
            "Motor bearings replaced, alignment checked, vibration back to normal.",
            (("BRG-6306-2Z", "2"),),
        ),
        (
            "Pump does not start",
            "Pump shows fault, twin pump running alone.",
            "Overload relay tripped due to a worn contactor; contactor and relay replaced.",
            (("CNT-3P-25A", "1"), ("RLY-OVL-9-13A", "1")),
        ),
    ],
    "Boilers": [
        (
            "Boiler lockout – ignition failure",
            "Boiler in lockout F4 several times since the weekend.",
            "Ignition electrode worn and misaligned; replaced, combustion re-adjusted, three restarts OK.",
            (("IGN-ELEC-VIT", "1"), ("GSK-FLUE-DN110", "1")),
        ),
        (
            "Low system pressure",
            "Heating pressure drops to 0.8 bar overnight.",
            "Expansion vessel membrane defective; vessel replaced, system refilled to 1.8 bar.",
            (("EXP-VES-50L", "1"),),
        ),
        (
            "No hot water in the east wing",
            "Lukewarm water at the taps since this morning.",
            "Mixing valve stuck; valve replaced, hot water 60 °C at the farthest tap.",
            (("VLV-3W-DN25", "1"),),
        ),
    ],
    "AHUs": [
        (
            "Supply fan belt squealing",
            "Loud squealing from the AHU room at start-up.",
            "Belts worn and loose; replaced both belts and re-tensioned.",
            (("BLT-SPA-1250", "2"),),
        ),
        (
            "Filter pressure alarm",
            "Differential pressure alarm on the bag filter stage.",
            "Bag filters replaced ahead of schedule (pollen season); alarm cleared.",
            (("FLT-F7-592-592-6P", "6"),),
        ),
        (
            "Rooms too warm – AHU not cooling",
            "Offices on the 3rd floor at 27 °C.",
            "Cooling valve actuator defective; replaced, supply air back to 18 °C.",
            (("ACT-24V-10NM", "1"),),
        ),
    ],
    "Lifts": [
        (
            "Lift stuck between floors",
            "Passenger released by the fire brigade, lift out of service.",
            "Door lock contact misaligned; adjusted and tested 20 runs. Lift back in service.",
            (("LFT-ROLLER-80", "2"),),
        ),
        (
            "Lift door does not close",
            "Door reopens repeatedly on the ground floor.",
            "Light curtain defective; replaced and door timing checked.",
            (("LFT-LIGHT-CURTAIN", "1"),),
        ),
        (
            "Emergency phone in lift car faulty",
            "Weekly test call did not connect.",
            "SIM card of the emergency call unit replaced; test call to the service centre OK.",
            (),
        ),
    ],
    "Fire safety": [
        (
            "Fire panel fault: detector loop 2",
            "Panel shows a fault on loop 2, zone 14.",
            "Detector in room 2.31 contaminated; replaced and loop tested.",
            (("DET-OPT-FAP", "1"),),
        ),
        (
            "False alarms from a smoke detector",
            "Detector near the kitchen triggered twice this week.",
            "Optical detector replaced by a heat detector approved for kitchens.",
            (("DET-OPT-FAP", "1"),),
        ),
        (
            "Fire panel battery fault",
            "Panel reports 'battery fault' after the mains test.",
            "Standby batteries replaced (4 years old); 30-minute mains-failure test OK.",
            (("BAT-12V-7AH", "2"),),
        ),
    ],
    "Electrical": [
        (
            "Generator failed weekly test run",
            "Test run aborted after 2 minutes, alarm 'low coolant'.",
            "Coolant topped up, leak at hose clamp fixed; 30-minute load test OK.",
            (),
        ),
        (
            "Breaker trips on distribution board",
            "Circuit 3F2 trips several times a day.",
            "Insulation fault in a ceiling luminaire feed; cable section replaced, circuit back on.",
            (("CBL-NYM-3X1.5", "12"),),
        ),
        (
            "Blown fuses on the main switchboard",
            "Two NH fuses blown on feeder 4 overnight.",
            "Fuses replaced, loose busbar connection re-tightened and checked with the thermal camera.",
            (("FUSE-NH00-63A", "3"),),
        ),
    ],
}
INSTALLATIONS = [
    (
        "Install additional smoke detectors in the archive",
        "Fire safety",
        "Three optical detectors installed, wired to loop 3, programmed and tested.",
        (("DET-OPT-FAP", "3"), ("CBL-NYM-3X1.5", "25")),
    ),
    (
        "Replace 3-way valve on heating circuit 2",
        "Boilers",
        "Valve replaced and circuit balanced.",
        (("VLV-3W-DN25", "1"), ("SEN-PT1000-100", "1")),
    ),
    (
        "Install temperature sensors on the chilled water circuit",
        "Chillers",
        "Two sensors installed and connected to the BMS.",
        (("SEN-PT1000-100", "2"), ("PIPE-CU-22", "1")),
    ),
]

HOLD_REASONS = {
    HoldReason.WAITING_FOR_PARTS: [
        "Spare part ordered from the manufacturer, delivery in 3 days.",
        "Seal kit not in stock at the wholesaler; ordered.",
    ],
    HoldReason.WAITING_FOR_CLIENT: [
        "Client must approve the quote for the replacement first.",
        "Waiting for the client's decision on repair vs. replacement.",
    ],
    HoldReason.WAITING_FOR_ACCESS: [
        "Area in use; access only after the client clears it.",
        "Plant room locked, key holder away until Monday.",
    ],
    HoldReason.OTHER: ["Crane for the rooftop unit must be booked.", "Scaffolding needed, requested by the client."],
}
CANCEL_REASONS = [
    "Client cancelled: the unit will be replaced by the manufacturer under warranty.",
    "Duplicate of an existing work order.",
    "Site closed for renovation; the work moves to next quarter.",
    "Problem solved by the client's caretaker before our visit.",
]
OFFICE_NOTES = [
    "Client called: please use the loading dock entrance and ask for the shift lead.",
    "Quote for the replacement sent to the client.",
    "Access confirmed for the morning.",
    "Client asked for the service report by e-mail.",
]
FIELD_NOTES = [
    "Worn coupling noticed – recommend replacing at the next service.",
    "Photos of the nameplate taken for the asset register.",
    "Insulation on the return pipe damaged over 2 m; client informed.",
    "Unit is 22 years old, spare parts getting hard to find – suggest a replacement quote.",
]
CLIENT_NOTES = [
    "Please coordinate with the ward office before entering.",
    "Our caretaker will be on site from 8:00 to let you in.",
]
NO_CHARGE_REASONS = [
    "Warranty: repeat repair within 30 days of our last visit.",
    "Goodwill: client's first call-out under the new contract.",
]

REQUESTS_ACCEPTED = [
    # who, source, site name, equipment name or "", title, description, priority
    (
        "requester",
        RequestSource.WEB,
        "Office building Ballindamm",
        "Passenger lift A",
        "Lift A makes a loud noise",
        "Tenants on the 4th floor report a banging noise when the lift stops.",
        Priority.HIGH,
    ),
    (
        "requester",
        RequestSource.QR,
        "Harburg shopping centre",
        "Rooftop unit RTU-1",
        "Mall too warm near entrance B",
        "Scanned the QR code on the unit: display shows fault E21.",
        Priority.NORMAL,
    ),
    (
        "client",
        RequestSource.PORTAL,
        "Ward block North",
        "AHU-02 wards",
        "Draught in ward 3 corridor",
        "Patients complain about cold air from the ceiling outlets.",
        Priority.NORMAL,
    ),
    (
        "client",
        RequestSource.PORTAL,
        "Main building",
        "Bed lift L2",
        "Bed lift L2 door reopening",
        "Door reopens several times before the lift leaves.",
        Priority.HIGH,
    ),
    (
        "dispatcher",
        RequestSource.EMAIL,
        "Hotel Alsterblick",
        "Boiler HB-1",
        "No heating in rooms 301–320",
        "E-mail from the chief engineer: radiators cold on the 3rd floor since last night.",
        Priority.CRITICAL,
    ),
    (
        "requester",
        RequestSource.WEB,
        "Eppendorf residential complex",
        "Boiler H-1",
        "Low pressure on heating",
        "Caretaker topped up twice this week.",
        Priority.NORMAL,
    ),
    (
        "dispatcher",
        RequestSource.EMAIL,
        "Newark plant",
        "Chiller NW-CH1",
        "Chiller NW-CH1 surge alarm",
        "Linda Park: surge alarm twice overnight, unit restarted automatically.",
        Priority.HIGH,
    ),
]
REQUESTS_OPEN = [
    (
        "requester",
        RequestSource.WEB,
        "Office building Ballindamm",
        "",
        "Exit sign flickering in stairwell 2",
        "Sign above the door to the car park flickers.",
        Priority.LOW,
    ),
    (
        "client",
        RequestSource.PORTAL,
        "Energy centre",
        "Chilled water pump P-02",
        "Pump P-02 sounds rough",
        "Night shift noticed a rattling noise.",
        Priority.NORMAL,
    ),
    (
        "requester",
        RequestSource.QR,
        "Harburg shopping centre",
        "Escalator E1",
        "Escalator E1 handrail slow",
        "Handrail moves slower than the steps.",
        Priority.HIGH,
    ),
    (
        "dispatcher",
        RequestSource.EMAIL,
        "Allentown distribution center",
        "Freight elevator",
        "Freight elevator leveling off",
        "Car stops about an inch below the dock floor.",
        Priority.NORMAL,
    ),
    (
        "client",
        RequestSource.PORTAL,
        "Main building",
        "",
        "Smell of burning near the lab corridor",
        "Faint smell near room 1.204; no visible smoke.",
        Priority.HIGH,
    ),
]
REQUESTS_REJECTED = [
    (
        "requester",
        RequestSource.WEB,
        "Harburg shopping centre",
        "",
        "Coffee machine in the food court broken",
        "Tenant's coffee machine does not heat.",
        "Not covered by our contract: the coffee machine belongs to the tenant. Please contact the tenant directly.",
    ),
    (
        "client",
        RequestSource.PORTAL,
        "Main building",
        "",
        "Replace the TV in patient room 2.14",
        "Screen stays black.",
        "Patient TVs are serviced by the hospital's media provider, not by Nordwind.",
    ),
]
DUPLICATE_REQUEST = (
    "requester",
    RequestSource.WEB,
    "Office building Ballindamm",
    "Passenger lift A",
    "Noise from lift A",
    "Banging noise when stopping (4th floor).",
)


# ---------------------------------------------------------------------------------------------
# preventive maintenance: plans on the equipment, a running-hours meter, and their history

PM_TEMPLATES: dict[str, dict] = {
    "filter": {
        "name": "AHU filter change",
        "type": "preventive",
        "default_priority": "normal",
        "description": "Replace the bag filters, check the filter frame seals, note the pressure drop.",
        "estimated_duration_minutes": 45,
        "requires_equipment": True,
        "requires_signature": False,
        "checklist": [
            ("Filters replaced", "checkbox", True),
            ("Pressure drop after change (Pa)", "number", True),
            ("Filter frame seals", "pass_fail", False),
        ],
        "parts": [("FLT-F7-592-592-6P", "4")],
    },
    "pump": {
        "name": "Pump inspection",
        "type": "preventive",
        "default_priority": "normal",
        "description": "Inspect seals and bearings, measure vibration and motor current.",
        "estimated_duration_minutes": 60,
        "requires_equipment": True,
        "requires_signature": False,
        "checklist": [
            ("Mechanical seal dry", "pass_fail", True),
            ("Vibration (mm/s)", "number", True),
            ("Motor current (A)", "number", False),
            ("Findings", "text", False),
        ],
        "parts": [],
    },
    "chiller500": {
        "name": "Chiller 500 h service",
        "type": "preventive",
        "default_priority": "normal",
        "description": "Service after every 500 running hours: oil, pressures, alarms log.",
        "estimated_duration_minutes": 120,
        "requires_equipment": True,
        "requires_signature": False,
        "checklist": [
            ("Oil level and colour checked", "checkbox", True),
            ("High pressure (bar)", "number", True),
            ("Low pressure (bar)", "number", True),
            ("Alarm log reviewed", "checkbox", False),
        ],
        "parts": [("OIL-POE-68-1L", "1")],
    },
    "diesel": {
        "name": "Diesel engine test run",
        "type": "preventive",
        "default_priority": "high",
        "description": "Start, run 30 minutes under load, log pressures and temperatures.",
        "estimated_duration_minutes": 45,
        "requires_equipment": True,
        "requires_signature": False,
        "checklist": [
            ("Started within 15 s", "pass_fail", True),
            ("Ran 30 minutes under load", "checkbox", True),
            ("Oil pressure (bar)", "number", False),
            ("Coolant temperature (°C)", "number", False),
        ],
        "parts": [],
    },
}
PM_NUMBER_ANSWERS = {
    "Pressure drop after change (Pa)": (65, 120, 0),
    "Vibration (mm/s)": (1.2, 3.8, 1),
    "Motor current (A)": (18, 29, 0),
    "High pressure (bar)": (12.5, 16.8, 1),
    "Low pressure (bar)": (3.0, 4.4, 1),
    "Oil pressure (bar)": (3.4, 4.6, 1),
    "Coolant temperature (°C)": (79, 88, 0),
}
PM_RESOLUTIONS = {
    "filter": "Bag filters replaced (4 × F7), frame seals fine; pressure drop logged.",
    "pump": "Inspection done: seal dry, vibration within limits.",
    "chiller500": "500 h service done; oil topped up, pressures normal, no alarms.",
    "diesel": "Test run done: started first time, 30 minutes under load, values logged.",
    "lift": "Inspection passed; report signed by the operator's representative.",
}
PM_METER = "Running hours"
# (key, name, equipment, template, technician, plan data); dates are filled in from the day the demo loads
PM_PLANS = [
    (
        "filter",
        "AHU-02 filter change (month end)",
        "AHU-02 wards",
        "filter",
        "technician",
        {"recurrence": {"frequency": "monthly", "monthly_by": "last_day"}, "lead_days": 5, "day_shift": "previous"},
    ),
    (
        "lift",
        "Bed lift L1 inspection (quarterly, 2nd Tuesday)",
        "Bed lift L1",
        "lift",
        "technician2",
        {
            "recurrence": {"frequency": "monthly", "interval": 3, "monthly_by": "nth_weekday", "nth": 2, "weekday": 1},
            "lead_days": 14,
        },
    ),
    (
        "pump",
        "HP-1 pump inspection (30 days after the last)",
        "Heating circuit pump HP-1",
        "pump",
        "technician3",
        {"mode": "floating", "interval_days": 30, "lead_days": 7, "day_shift": "next"},
    ),
    (
        "chiller",
        "Chiller CH-1 service (every 500 running hours)",
        "Chiller CH-1",
        "chiller500",
        "technician",
        {"meter_name": PM_METER, "meter_interval": "500", "lead_days": 0},
    ),
    (
        "sprinkler",
        "Sprinkler diesel pump test run (every 2 weeks)",
        "Sprinkler pump (diesel)",
        "diesel",
        "technician3",
        {"recurrence": {"frequency": "weekly", "interval": 2, "weekdays": [0]}, "lead_days": 3},
    ),
    (
        "generator",
        "Emergency generator weekly test run",
        "Emergency generator",
        "diesel",
        "technician2",
        {"recurrence": {"frequency": "weekly", "weekdays": [2]}, "lead_days": 2, "open_policy": "stack"},
    ),
]


# ---------------------------------------------------------------------------------------------
# billing: the seller, taxes, rates, the key client's prices and contract, a client abroad

# Part categories by SKU prefix: service contracts cover parts by category.
PART_CATEGORIES = {
    "FLT": "Filters",
    "BLT": "Belts and bearings",
    "BRG": "Belts and bearings",
    "REF": "Refrigerants and oils",
    "OIL": "Refrigerants and oils",
    "SEAL": "Valves, seals and piping",
    "VLV": "Valves, seals and piping",
    "GSK": "Valves, seals and piping",
    "EXP": "Valves, seals and piping",
    "PIPE": "Valves, seals and piping",
    "SEN": "Electrical and controls",
    "ACT": "Electrical and controls",
    "IGN": "Electrical and controls",
    "CNT": "Electrical and controls",
    "FUSE": "Electrical and controls",
    "RLY": "Electrical and controls",
    "BAT": "Electrical and controls",
    "CBL": "Electrical and controls",
    "DET": "Fire safety",
    "MCP": "Fire safety",
    "EXT": "Fire safety",
    "LMP": "Fire safety",
    "LFT": "Lift parts",
    "CLN": "Consumables",
}
SELLER = {
    "legal_name": "Nordwind Facility Services GmbH",
    "street": "Süderstraße 77",
    "postcode": "20097",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE298765431",
    "tax_number": "46/721/03318",
    "registration_id": "HRB 154321, Amtsgericht Hamburg",
    "email": "billing@nordwind-facility.example",
    "phone": "+49 40 3785 2200",
    "bank_name": "Hamburger Sparkasse",
    "iban": "DE62 2005 0550 1027 3186 41",
    "bic": "HASPDEHHXXX",
    "payment_terms_days": 14,
    "payment_terms_note": "Payable within 14 days of the invoice date without deduction.",
    "labour_minimum_minutes": 15,
    "labour_increment_minutes": 15,
    "parts_markup_percent": "30",
    "call_out_fee": "39.00",
    "overtime_multiplier": "1.5",
    "leakage_days": 14,
}
# name, category, rate, exemption reason, VATEX code
TAX_RATES = [
    ("VAT 19 %", "S", "19", "", ""),
    ("VAT 7 %", "S", "7", "", ""),
    (
        "Reverse charge (EU business)",
        "AE",
        "0",
        "Reverse charge: VAT to be accounted for by the recipient",
        "VATEX-EU-AE",
    ),
    ("Exempt: vocational training", "E", "0", "Exempt from VAT under § 4 Nr. 21 UStG (vocational training)", ""),
]
# The overtime calendar is one per organization; its hours are read in each site's own time zone (Hamburg
# work on Hamburg time, Newark work on New York time): Monday to Friday 07:00–18:00 with Hamburg's public
# holidays. Work before 07:00, after 18:00, on a weekend or a holiday is billed as overtime.
BILLING_CALENDAR = ("Service hours", "Europe/Berlin", [[["07:00", "18:00"]]] * 5 + [[], []])
RATE_CLASSES = {
    "Senior engineer": ["technician", "technician4"],
    "Service technician": ["technician2", "technician3", "technician5", "technician6"],
}
# (price list or "", rate class or "", kind, price per hour, cost per hour)
RATES = [
    ("", "", "labour", "78.00", "42.00"),
    ("", "", "travel", "52.00", "30.00"),
    ("", "Senior engineer", "labour", "96.00", "55.00"),
    ("Hansa Klinikum framework agreement", "", "labour", "72.00", "0"),
    ("Hansa Klinikum framework agreement", "", "travel", "45.00", "0"),
    ("Hansa Klinikum framework agreement", "Senior engineer", "labour", "88.00", "0"),
]
KEY_PRICE_LIST = {
    "name": "Hansa Klinikum framework agreement",
    "currency": "EUR",
    "parts_markup_percent": "20",
    "call_out_fee": "0",
}
# SKU → price on the key client's price list
KEY_PART_PRICES = {
    "FLT-G4-592-592": "10.90",
    "FLT-F7-592-592-6P": "36.50",
    "FLT-M5-287-592": "23.80",
    "BLT-SPA-1250": "15.20",
    "BRG-6205-2RS": "12.40",
    "DET-OPT-FAP": "68.00",
    "BAT-12V-7AH": "31.00",
}
KEY_CONTRACT = {
    "name": "Full maintenance HVAC, lifts and fire safety",
    "reference": "NW-SV-2025-014",
    "included_labour_minutes": 1200,  # 20 hours a month
    "period": "month",
    "covers_travel": False,
    "waives_call_out": True,
    "discount_percent": "10",
    "notes": "Filters, belts and bearings included; call-outs included; 10 % on all other work and parts.",
    "covered_categories": ["Filters", "Belts and bearings"],
}
# client name → billing details (the buyer, BG-7)
CLIENT_BILLING = {
    "Hansa Klinikum Hamburg gGmbH": {
        "street": "Alsterdorfer Markt 8",
        "address_line_2": "Kreditorenbuchhaltung",
        "postcode": "22297",
        "city": "Hamburg",
        "country": "DE",
        "buyer_reference": "PO 4500071234",
        "invoice_email": "kreditoren@hansa-klinikum.example",
        "payment_terms_days": 30,
    },
    "Elbtal Immobilien AG": {
        "street": "Ballindamm 17",
        "postcode": "20095",
        "city": "Hamburg",
        "country": "DE",
        "invoice_email": "rechnungen@elbtal-immobilien.example",
    },
    "Brandt & Söhne Logistik GmbH": {
        "street": "Am Tabakquartier 4",
        "postcode": "28197",
        "city": "Bremen",
        "country": "DE",
        "invoice_email": "invoices@brandt-logistik.example",
        "endpoint_scheme": "EM",
        "endpoint_id": "invoices@brandt-logistik.example",
    },
    "Kessler Pharma GmbH": {
        "street": "Rheinallee 80",
        "postcode": "55120",
        "city": "Mainz",
        "country": "DE",
        "buyer_reference": "KP-ENG-7710",
        "invoice_email": "ap@kessler-pharma.example",
    },
    "Hotel Alsterblick GmbH": {
        "street": "An der Alster 52",
        "postcode": "20099",
        "city": "Hamburg",
        "country": "DE",
        "invoice_email": "buchhaltung@alsterblick.example",
    },
}
# A business in the Netherlands, invoiced under the reverse charge: its jobs are two stories of their own.
ABROAD_CLIENT = {
    "name": "Van Dijk Koelhuizen B.V.",
    "billing_address": "Van Dijk Koelhuizen B.V.\nVeilingweg 12\n5928 LN Venlo\nNetherlands",
    "vat_id": "NL859123456B01",
    "email": "techniek@vandijk-koelhuizen.example",
    "phone": "+31 77 354 2100",
    "notes": "Cold stores in Venlo; invoices without German VAT (reverse charge).",
    "contact": ("Sanne de Groot", "Technical manager", "s.degroot@vandijk-koelhuizen.example", "+31 77 354 2110"),
    "billing": {
        "street": "Veilingweg 12",
        "postcode": "5928 LN",
        "city": "Venlo",
        "country": "NL",
        "invoice_email": "crediteuren@vandijk-koelhuizen.example",
        "endpoint_scheme": "9944",
        "endpoint_id": "NL859123456B01",
        "buyer_reference": "VDK-2026-118",
    },
    "site": (
        "Cold store Venlo",
        "Veilingweg 12\n5928 LN Venlo\nNetherlands",
        "Europe/Amsterdam",
        "51.3935",
        "6.1462",
        "Report to the gate; cold store doors stay closed (−24 °C).",
    ),
    "equipment": [
        ("Rooftop unit RTU-1", "AHUs", "Trane", "Voyager TC 250", "high"),
        ("Sprinkler pump SP-1", "Pumps", "Grundfos", "NKF 80-250", "critical"),
    ],
}
# title, description, resolution, equipment, parts (sku, quantity), labour minutes (two visits on site)
ABROAD_JOBS = [
    (
        "RTU-1 not cooling: cold store anteroom at 14 °C",
        "Phoned in by the site: the rooftop unit runs, but the anteroom warms up.",
        "Refrigerant leak at the condenser brazing found and repaired, system evacuated and refilled, "
        "contactor of compressor 2 replaced. Anteroom back at 4 °C.",
        "Rooftop unit RTU-1",
        [("REF-R410A", "3.5"), ("CNT-3P-25A", "1")],
        (210, 105),
    ),
    (
        "Sprinkler pump SP-1: annual inspection",
        "Annual inspection of the sprinkler pump with a run test.",
        "Inspection and run test passed; worn coupling bearing replaced, report left with the site.",
        "Sprinkler pump SP-1",
        [("BRG-6306-2Z", "2")],
        (150, 45),
    ),
]
# Quotes: client, title, introduction, lines (kind, SKU or description, quantity, unit price; no price: the
# price list's or the rate), and what became of it. The accepted one was turned into an invoice.
QUOTES = [
    (
        "Hotel Alsterblick GmbH",
        "Spare filters and V-belts for the hotel's own stock",
        "As discussed: a season's filters and belts for the two air handling units, delivered to the hotel.",
        [
            ("part", "FLT-G4-592-592", "12", ""),
            ("part", "FLT-F7-592-592-6P", "6", ""),
            ("part", "BLT-SPA-1250", "4", ""),
            ("manual", "Delivery to the hotel", "1", "25.00"),
        ],
        "accepted",
    ),
    (
        "Kessler Pharma GmbH",
        "Upgrade of the AHU controls in the cleanroom wing",
        "New controllers with a BACnet interface for AHU-C1 and AHU-C2, new actuators and sensors, commissioning "
        "and the qualification documents for QA.",
        [
            ("labour", "Engineering, installation and commissioning", "24", ""),
            ("manual", "Controller with BACnet interface", "2", "1480.00"),
            ("part", "ACT-24V-10NM", "6", ""),
            ("part", "SEN-PT1000-100", "8", ""),
        ],
        "rejected",
    ),
    (
        "Elbtal Immobilien AG",
        "Replace the light curtain of the passenger lift, building A",
        "The light curtain fails intermittently; we replace it with the door rollers and test the lift.",
        [
            ("labour", "Replacement and test run", "5", ""),
            ("part", "LFT-LIGHT-CURTAIN", "1", ""),
            ("part", "LFT-ROLLER-80", "2", ""),
        ],
        "sent",
    ),
    (
        "Brandt & Söhne Logistik GmbH",
        "Annual inspection of the dock levellers",
        "Inspection of the twelve dock levellers in both warehouses, with the report for the insurer.",
        [
            ("labour", "Inspection of 12 dock levellers", "8", ""),
            ("travel", "Travel Hamburg–Bremen and back", "4", ""),
        ],
        "draft",
    ),
]
QUOTE_REJECTION = "The controls upgrade moves to next year's budget; please quote again in January."
# The manual lines the accountant adds to the key client's open draft (mixed VAT: 7 % and exempt).
DRAFT_EXTRAS = [
    ("Lift logbooks, printed (set of 4)", "4", "pc", "18.50", "VAT 7 %"),
    (
        "Operator training: safe operation of the chiller plant (half day)",
        "1",
        "pc",
        "480.00",
        "Exempt: vocational training",
    ),
]


# ---------------------------------------------------------------------------------------------
# time


def _at(d: date, hour: float, tz: ZoneInfo) -> datetime:
    """An instant at local wall time ``hour`` (e.g. 8.25 = 08:15) on day ``d`` in ``tz``, in UTC."""
    minutes = round(hour * 60)
    return datetime.combine(d, time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(UTC)


def _local_hour(t: datetime, tz: ZoneInfo) -> float:
    local = t.astimezone(tz)
    return local.hour + local.minute / 60


def _is_workday(d: date) -> bool:
    return d.weekday() < 5


def _days(first: date, last: date | None = None) -> Iterator[date]:
    """Every day from ``first`` to ``last`` (both included; without ``last``, on and on)."""
    d = first
    while last is None or d <= last:
        yield d
        d += timedelta(days=1)


def _on_workday(d: date) -> date:
    """``d`` when it is a working day, else the next working day."""
    return d if _is_workday(d) else _workday_after(d)


def _workday_after(d: date, n: int = 1) -> date:
    """The ``n``-th working day after ``d`` (``n`` may be negative)."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if _is_workday(d):
            left -= 1
    return d


def _in_hours(t: datetime, tz: ZoneInfo, rng: random.Random, start: float = 7.5, end: float = 16.75) -> datetime:
    """``t`` if it falls in working hours in ``tz``, else the next morning a little after ``start``."""
    local = t.astimezone(tz)
    d, hour = local.date(), _local_hour(t, tz)
    if not _is_workday(d) or hour >= end:
        return _at(_workday_after(d), start + rng.choice((0, 0.25, 0.5, 0.75, 1)), tz)
    if hour < start:
        return _at(d, start + rng.choice((0, 0.25, 0.5, 0.75)), tz)
    return t.replace(second=0, microsecond=0)


def _office_moment_before(limit: datetime, rng: random.Random, days: int = 3) -> datetime:
    """A moment in office hours (Berlin) within the last few working days before ``limit``."""
    for _ in range(50):
        d = (
            _workday_after(limit.astimezone(OFFICE_TZ).date(), -rng.randint(0, days))
            if rng.random() < 0.9
            else limit.astimezone(OFFICE_TZ).date()
        )
        t = _at(d, rng.uniform(7.75, 16.0), OFFICE_TZ)
        if t < limit:
            return t
    return limit - timedelta(hours=1)


# ---------------------------------------------------------------------------------------------
# the replay: stories of steps, run in one chronological order with the clock moved along


class _Clock:
    def __init__(self, real_now: datetime):
        self.real_now = real_now
        self.t = real_now

    def now(self) -> datetime:
        return self.t


@contextmanager
def _replayed_clock(sim: _Clock) -> Iterator[None]:
    """Let every service read ``sim.t`` as the current time while the demo history is replayed."""
    original = clock.now
    clock.now = sim.now
    try:
        yield
    finally:
        clock.now = original


@contextmanager
def _mail_kept_back() -> Iterator[None]:
    """Mail sent while the demo loads (its quotes are e-mailed when sent) goes nowhere: loading the demo
    sends no e-mail, whatever mail server is configured."""
    from django.test.utils import override_settings

    with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}):
        yield


class StoryTooLongError(Exception):
    """A story's steps would run past 'now'; the builder draws other dates."""


@dataclass
class Story:
    """The steps of one work order (or request): strictly increasing moments and what happens then."""

    key: int
    now: datetime
    steps: list[tuple[datetime, Callable[[], None]]] = field(default_factory=list)
    state: dict = field(default_factory=dict)

    @property
    def last(self) -> datetime | None:
        return self.steps[-1][0] if self.steps else None

    def add(self, t: datetime, fn: Callable[[], None]) -> datetime:
        t = t.replace(second=0, microsecond=0)
        if self.last is not None and t <= self.last:
            t = self.last + timedelta(minutes=1)
        if t > self.now:
            raise StoryTooLongError
        self.steps.append((t, fn))
        return t


def _run(stories: list[Story], sim: _Clock) -> None:
    heap: list[tuple[datetime, int, int]] = []
    for story in stories:
        if story.steps:
            heap.append((story.steps[0][0], story.key, 0))
    heapq.heapify(heap)
    by_key = {s.key: s for s in stories}
    while heap:
        t, key, index = heapq.heappop(heap)
        story = by_key[key]
        sim.t = t
        story.steps[index][1]()
        if index + 1 < len(story.steps):
            heapq.heappush(heap, (story.steps[index + 1][0], key, index + 1))


# ---------------------------------------------------------------------------------------------
# loading


def demo_logins() -> list[Login]:
    return [Login(role=str(role), email=f"{local}@{EMAIL_DOMAIN}", full_name=name) for role, local, name, _ in PEOPLE]


def demo_organization() -> Organization | None:
    return Organization.objects.filter(name=ORG_NAME).first()


def load_demo(*, now: datetime | None = None, seed: int = SEED) -> DemoResult:
    """Create the demo organization with 90 days of work, unless it exists (then change nothing)."""
    existing = demo_organization()
    if existing is not None:
        return DemoResult(existing, demo_logins(), created=False, counts=demo_counts(existing))
    now = (now or clock.now()).astimezone(UTC).replace(second=0, microsecond=0)
    with transaction.atomic():
        org = _Loader(now=now, rng=random.Random(seed)).load()
    return DemoResult(org, demo_logins(), created=True, counts=demo_counts(org))


def demo_counts(org: Organization) -> dict[str, int]:
    oid = org.pk
    return {
        "clients": Client.objects.filter(organization_id=oid).count(),
        "sites": Site.objects.filter(organization_id=oid).count(),
        "equipment": Equipment.objects.filter(organization_id=oid).count(),
        "parts": Part.objects.filter(organization_id=oid).count(),
        "templates": WorkOrderTemplate.objects.filter(organization_id=oid).count(),
        "members": Membership.objects.filter(organization_id=oid).count(),
        "work_orders": WorkOrder.objects.filter(organization_id=oid).count(),
        "work_requests": WorkRequest.objects.filter(organization_id=oid).count(),
        "events": WorkOrderEvent.objects.filter(organization_id=oid).count(),
        "time_entries": TimeEntry.objects.filter(organization_id=oid).count(),
        "part_usages": PartUsage.objects.filter(organization_id=oid).count(),
        "maintenance_plans": MaintenancePlan.objects.filter(organization_id=oid).count(),
        "occurrences": Occurrence.objects.filter(organization_id=oid).count(),
        "meter_readings": MeterReading.objects.filter(organization_id=oid).count(),
        "invoices": Invoice.objects.filter(organization_id=oid).count(),
        "payments": Payment.objects.filter(organization_id=oid).count(),
        "quotes": Quote.objects.filter(organization_id=oid).count(),
    }


def _signature_png() -> bytes:
    """A drawn-looking signature: a few strokes on a white canvas."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (360, 120), "white")
    draw = ImageDraw.Draw(img)
    points = [
        (20, 80),
        (45, 30),
        (60, 85),
        (80, 40),
        (95, 78),
        (120, 50),
        (150, 82),
        (175, 35),
        (190, 75),
        (230, 60),
        (260, 70),
        (300, 45),
        (335, 62),
    ]
    draw.line(points, fill=(20, 30, 90), width=3, joint="curve")
    draw.line([(40, 95), (320, 92)], fill=(20, 30, 90), width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _logo_png() -> bytes:
    """The demo seller's logo: three wind strokes and the name, drawn (no font file needed)."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (720, 180), "white")
    draw = ImageDraw.Draw(img)
    blue, teal = (15, 95, 143), (38, 150, 170)
    for n, (length, colour) in enumerate(((120, blue), (95, teal), (130, blue))):
        x, y = 20 + n * 12, 70 + n * 36
        draw.line((x, y, x + length, y), fill=colour, width=11)
        draw.arc((x + length - 22, y - 44, x + length + 22, y), start=270, end=90, fill=colour, width=11)
    try:
        font = ImageFont.load_default(size=64)
        small = ImageFont.load_default(size=28)
    except TypeError:  # an older Pillow without scalable default font
        font = small = ImageFont.load_default()
    draw.text((200, 30), "NORDWIND", fill=blue, font=font)
    draw.text((204, 112), "Facility Services", fill=teal, font=small)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class _Plan:
    """What one work order will look like at the end, before its story is drawn."""

    final: str
    equipment: Equipment | None = None
    site: Site | None = None
    category: str = ""
    template_key: str = ""
    corrective: tuple | None = None  # title, description, resolution, parts used
    type: str = ""
    priority: str = Priority.NORMAL
    reports_down: bool = False
    is_billable: bool = True
    request: tuple | None = None
    technician: str = ""
    today: bool = False
    hold_before_done: bool = False
    hold_reason: str = ""
    reopen: bool = False
    follow_up: str = ""  # "", "new" or "planned": a follow-up is created after closing
    no_charge: bool = False
    cancel_from: str = Status.NEW
    sla_at_risk: bool = False  # a breakdown reported a while ago that nobody has reached yet


class _Loader:
    def __init__(self, *, now: datetime, rng: random.Random):
        self.now = now
        self.rng = rng
        self.setup_time = now - timedelta(days=420)
        self.stamps: list[tuple[type, int, datetime]] = []

    # --- reference data ----------------------------------------------------------------------

    def load(self) -> Organization:
        password_hash = make_password(PASSWORD)  # hashed once: hashing eleven times takes seconds
        users: dict[str, User] = {}
        for _role, local, name, phone in PEOPLE:
            email = f"{local}@{EMAIL_DOMAIN}"
            user = User.objects.filter(email=email).first() or User(email=email)
            user.full_name, user.phone, user.password, user.is_active = name, phone, password_hash, True
            user.save()
            users[local] = user
        self.users = users
        org = organization_create(
            name=ORG_NAME, owner=users["admin"], currency="EUR", timezone="Europe/Berlin", work_order_prefix="WO"
        )
        self.org = org
        admin = actor_for(users["admin"], org.pk)
        self._reference_data(admin)
        self._sla_setup(admin)
        for role, local, name, _phone in PEOPLE:
            if role == Role.ADMIN:
                continue
            client_id = self.clients[CLIENT_USER_CLIENT].pk if role == Role.CLIENT_USER else None
            membership_create(
                actor=admin, email=f"{local}@{EMAIL_DOMAIN}", full_name=name, role=role, client_id=client_id
            )
        self.actors = {local: actor_for(user, org.pk) for local, user in users.items()}
        self.technicians = [k for k in TECH_REGION]
        self._billing_setup(admin)
        sim = _Clock(self.now)
        with _replayed_clock(sim):
            stories = self._stories()
            stories += self._pm_stories(first_key=len(stories))
            stories += self._billing_stories(first_key=len(stories))
            _run(stories, sim)
        sla_engine.scan(now=self.now)  # the clocks whose at-risk or due instant passed since their last change
        self._finish(stories)
        self._field_held()
        return org

    def _field_held(self) -> None:
        """Two changes a phone sent after the office had moved on, waiting in "Held from the field": travel
        time recorded offline on work the office closed meanwhile, and a part on work already invoiced."""
        from fixflow.field.sync import CommandIn, sync_commands

        oid = self.org.pk
        closed = (
            WorkOrder.objects.filter(organization_id=oid, status=Status.CLOSED, billing_status=BillingStatus.TO_INVOICE)
            .exclude(lead_technician=None)
            .order_by("-closed_at", "pk")
            .first()
        )
        invoiced = (
            WorkOrder.objects.filter(organization_id=oid, billing_status=BillingStatus.INVOICED)
            .exclude(lead_technician=None)
            .order_by("-closed_at", "pk")
            .first()
        )
        part = Part.objects.filter(organization_id=oid, is_active=True).order_by("sku").first()
        changes = []  # (work order, command type, payload, the phone's time, when the phone came online)
        if closed is not None:
            done = closed.completed_at or closed.closed_at
            payload = {"started_at": done.isoformat(), "duration_minutes": 35, "kind": "travel"}
            online = min(closed.closed_at + timedelta(hours=3), self.now)
            changes.append((closed, "time.add", {**payload, "note": "Drive back to the depot"}, done, online))
        if invoiced is not None and part is not None:
            issued = (
                Invoice.objects.filter(lines__work_order=invoiced, number__isnull=False)
                .order_by("issued_at")
                .values_list("issued_at", flat=True)
                .first()
            )
            done = invoiced.completed_at or invoiced.closed_at
            online = min((issued or self.now) + timedelta(hours=5), self.now)
            changes.append((invoiced, "part.use", {"part_id": part.pk, "quantity": "1"}, done, online))
        for wo, kind, payload, when, online in changes:
            technician = next(a for a in self.actors.values() if a.user_id == wo.lead_technician_id)
            command = CommandIn(
                mutation_id=uuid.UUID(int=self.rng.getrandbits(128)),
                seq=1,
                type=kind,
                work_order_id=wo.pk,
                payload=payload,
                occurred_at=when.isoformat(),
            )
            device = uuid.UUID(int=self.rng.getrandbits(128))
            with clock.frozen_at(online):
                sync_commands(actor=technician, device_id=device, commands=[command], label="Android phone")

    def _reference_data(self, admin: Actor) -> None:
        self.categories = {
            name: category_create(actor=admin, data={"name": name, "description": text})
            for name, text in CATEGORIES.items()
        }
        self.part_categories = {
            name: part_category_create(actor=admin, data={"name": name})
            for name in dict.fromkeys(PART_CATEGORIES.values())
        }
        self.parts = {}
        for sku, name, unit, cost, price in PARTS:
            self.parts[sku] = part_create(
                actor=admin,
                data={
                    "sku": sku,
                    "name": name,
                    "unit": unit,
                    "unit_cost": Decimal(cost),
                    "sale_price": Decimal(price),
                    "barcode": "",
                    "is_active": True,
                    "category_id": self.part_categories[PART_CATEGORIES[sku.split("-")[0]]].pk,
                },
            )
        self.clients, self.sites = {}, []
        self.equipment: list[tuple[Equipment, str, str]] = []  # (equipment, category, template key)
        serial = 1000
        for spec in CLIENTS:
            client = client_create(
                actor=admin, data={k: spec[k] for k in ("name", "billing_address", "vat_id", "email", "phone", "notes")}
            )
            self.clients[client.name] = client
            for name, title, email, phone, primary in spec["contacts"]:
                contact_create(
                    actor=admin,
                    data={
                        "client_id": client.pk,
                        "name": name,
                        "job_title": title,
                        "email": email,
                        "phone": phone,
                        "is_primary": primary,
                    },
                )
            for name, address, tz, lat, lon, access, equipment in spec["sites"]:
                site = site_create(
                    actor=admin,
                    data={
                        "client_id": client.pk,
                        "name": name,
                        "address": address,
                        "timezone": tz,
                        "latitude": Decimal(lat),
                        "longitude": Decimal(lon),
                        "access_notes": access,
                    },
                )
                self.sites.append(site)

                def add(items, parent, site=site):
                    nonlocal serial
                    for ename, cat, maker, model, crit, tkey, children in items:
                        serial += self.rng.randint(1, 97)
                        installed = self.setup_time.date() - timedelta(days=self.rng.randint(200, 5000))
                        eq = equipment_create(
                            actor=admin,
                            data={
                                "site_id": site.pk,
                                "parent_id": parent.pk if parent else None,
                                "category_id": self.categories[cat].pk,
                                "name": ename,
                                "manufacturer": maker,
                                "model": model,
                                "serial_number": f"{maker[:3].upper()}-{installed.year}-{serial:06d}",
                                "install_date": installed,
                                "warranty_end": installed + timedelta(days=730),
                                "criticality": crit,
                                "status": "operational",
                                "notes": "",
                            },
                        )
                        self.equipment.append((eq, cat, tkey))
                        add(children, eq)

                add(equipment, None)
        self.templates = {}
        for key, spec in TEMPLATES.items():
            data = {k: v for k, v in spec.items() if k not in ("checklist", "parts")}
            data["is_billable"] = True
            data["is_active"] = True
            data["checklist"] = [
                {"label": label, "kind": kind, "is_required": required} for label, kind, required in spec["checklist"]
            ]
            data["parts"] = [{"part_id": self.parts[sku].pk, "quantity": qty} for sku, qty in spec["parts"]]
            self.templates[key] = wo_services.template_create(actor=admin, data=data)

    def _sla_setup(self, admin: Actor) -> None:
        """Business calendars with public holidays and SLA policies, through the SLA services."""
        years = range((self.now - timedelta(days=HISTORY_DAYS)).year, self.now.year + 2)
        calendars = {}
        for name, tz, week, (country, subdivision) in SLA_CALENDARS:
            cal = sla_services.calendar_create(actor=admin, data={"name": name, "timezone": tz, "week": week})
            for year in years:
                sla_services.holidays_generate(
                    actor=admin, calendar_id=cal.pk, country=country, year=year, subdivision=subdivision
                )
            calendars[name] = cal
        default = sla_engine.ensure_defaults(self.org.pk)
        calendars[""] = default.calendar  # the built-in 24×7 calendar

        def targets(pairs: dict) -> dict:
            return {p: {"response": r, "resolution": t} for p, (r, t) in pairs.items()}

        sla_services.policy_update(
            actor=admin,
            policy_id=default.pk,
            data={"calendar_id": calendars["Office hours Berlin"].pk, "targets": targets(DEFAULT_SLA_TARGETS)},
        )
        for name, calendar, conditions, pairs, at_risk in SLA_POLICIES:
            data = {
                "name": name,
                "calendar_id": calendars[calendar].pk,
                "targets": targets(pairs),
                "at_risk_percent": at_risk,
                "escalation_email": "",
            }
            for key in ("types", "criticalities", "priorities"):
                if key in conditions:
                    data[key] = conditions[key]
            if "clients" in conditions:
                data["client_ids"] = [self.clients[c].pk for c in conditions["clients"]]
            if "site_timezone" in conditions:
                data["site_ids"] = [s.pk for s in self.sites if s.timezone == conditions["site_timezone"]]
            sla_services.policy_create(actor=admin, data=data)

    # --- the plans -------------------------------------------------------------------------------

    @staticmethod
    def _region(site: Site) -> str:
        return "US" if site.timezone == NY else "DE"

    def _place(self, plan: _Plan, region: str | None = None) -> None:
        """Choose equipment (or a site, for site-level work) that fits the plan's template or trade."""
        rng = self.rng

        def pool(template_key: str = "", category: str = ""):
            return [
                (eq, cat)
                for eq, cat, tk in self.equipment
                if (not template_key or tk == template_key)
                and (not category or cat == category)
                and (region is None or self._region(eq.site) == region)
            ]

        if plan.template_key == "fire":
            plan.equipment = None
            plan.site = rng.choice([s for s in self.sites if region is None or self._region(s) == region])
            plan.category = "Fire safety"
            return
        candidates = pool(template_key=plan.template_key) if plan.template_key else pool(category=plan.category)
        if not candidates:  # nothing of that kind in the region: a repair on what is there
            plan.template_key, plan.type = "", "corrective"
            candidates = pool()
        plan.equipment, plan.category = rng.choice(candidates)
        plan.site = plan.equipment.site
        if not plan.template_key and (not plan.corrective or plan.type == "corrective"):
            plan.corrective = rng.choice(CORRECTIVE[plan.category])

    def _plans(self) -> list[_Plan]:
        rng = self.rng
        mix = (
            [Status.CLOSED] * 108
            + [Status.COMPLETED] * 14
            + [Status.CANCELLED] * 10
            + [Status.ON_HOLD] * 8
            + [Status.IN_PROGRESS] * 10
            + [Status.PLANNED] * 29
            + [Status.NEW] * 18
        )
        # 197 plans + 3 follow-ups created after closing = 200 work orders
        rng.shuffle(mix)
        plans: list[_Plan] = []
        for final in mix:
            roll = rng.random()
            plan = _Plan(final)
            if roll < 0.46:
                plan.template_key = rng.choice(["ahu", "ahu", "boiler", "lift", "lift", "chiller", "fire"])
                plan.type = TEMPLATES[plan.template_key]["type"]
                plan.priority = TEMPLATES[plan.template_key]["default_priority"] if rng.random() < 0.85 else "low"
            elif roll < 0.96:
                plan.category, plan.type = rng.choice(list(CORRECTIVE)), "corrective"
                plan.priority = rng.choices(
                    [Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW], [14, 25, 46, 15]
                )[0]
                plan.reports_down = plan.priority in (Priority.CRITICAL, Priority.HIGH) and rng.random() < 0.5
            else:
                title, plan.category, resolution, used = rng.choice(INSTALLATIONS)
                plan.corrective, plan.type = (title, "As agreed in the quote.", resolution, used), "installation"
            self._place(plan)
            plan.is_billable = rng.random() > 0.08
            plans.append(plan)
        # special cases, each on plans that fit them
        closed = [p for p in plans if p.final == Status.CLOSED]
        for p in closed[:16]:
            p.hold_before_done = True
        closed[20].reopen = closed[21].reopen = True
        for p, kind in zip([p for p in closed[30:] if p.corrective][:3], ("new", "planned", "planned"), strict=True):
            p.follow_up = kind
        for p in [p for p in closed[40:] if p.is_billable][:4]:
            p.no_charge = True
        for i, p in enumerate(p for p in plans if p.final == Status.ON_HOLD):
            p.hold_reason = list(HOLD_REASONS)[i % len(HOLD_REASONS)]  # every reason occurs
        for i, p in enumerate(p for p in plans if p.final == Status.CANCELLED):
            p.cancel_from = Status.PLANNED if i % 2 else Status.NEW
        # today's work for every technician: two planned visits each, and six jobs under way
        for i, p in enumerate([p for p in plans if p.final == Status.PLANNED][:12]):
            p.today, p.technician = True, self.technicians[i % len(self.technicians)]
            self._place(p, region=TECH_REGION[p.technician])
        for i, p in enumerate([p for p in plans if p.final == Status.IN_PROGRESS][:6]):
            p.today, p.technician = True, self.technicians[i % len(self.technicians)]
            self._place(p, region=TECH_REGION[p.technician])
        # a critical breakdown reported 200 minutes ago, not yet reached: its response target is at risk
        urgent = next(p for p in plans if p.final == Status.NEW and not p.template_key)
        urgent.equipment, urgent.category = next(
            (eq, cat)
            for eq, cat, _t in self.equipment
            if eq.criticality == "critical" and self._region(eq.site) == "DE" and cat in CORRECTIVE
        )
        urgent.site, urgent.corrective, urgent.type = (
            urgent.equipment.site,
            CORRECTIVE[urgent.category][0],
            "corrective",
        )
        urgent.priority, urgent.reports_down, urgent.sla_at_risk = Priority.CRITICAL, True, True
        # requests that became work orders: take over plans without a template
        candidates = [
            p
            for p in plans
            if not p.template_key
            and not p.today
            and not p.follow_up
            and not p.reopen
            and not p.sla_at_risk
            and p.final != Status.CANCELLED
        ]
        for plan, req in zip(candidates[::5], REQUESTS_ACCEPTED, strict=False):
            _who, _source, site_name, eq_name, title, description, priority = req
            eq, cat = next((e, c) for e, c, _t in self.equipment if e.name == eq_name and e.site.name == site_name)
            plan.equipment, plan.site, plan.category = eq, eq.site, cat
            _t, _d, resolution, used = rng.choice(CORRECTIVE[cat])
            plan.corrective = (title, description, resolution, used)
            plan.priority, plan.type, plan.request, plan.reports_down = priority, "corrective", req, False
        return plans

    # --- stories ---------------------------------------------------------------------------------

    def _stories(self) -> list[Story]:
        stories: list[Story] = []
        today_slots = Counter()
        for plan in self._plans():
            for _attempt in range(100):
                story = Story(key=len(stories), now=self.now)
                try:
                    self._draw(story, plan, today_slots)
                    break
                except StoryTooLongError:
                    continue
            else:  # pragma: no cover - the draws above always find a fit within a few attempts
                raise RuntimeError(f"Could not fit a {plan.final} work order into the last {HISTORY_DAYS} days.")
            stories.append(story)
        stories += self._request_stories(first_key=len(stories))
        return stories

    def _technician(self, plan: _Plan) -> str:
        if plan.technician:
            return plan.technician
        region = self._region(plan.site)
        candidates = [t for t in self.technicians if TECH_REGION[t] == region]
        skilled = [t for t in candidates if plan.category in TECH_TRADES[t]] or candidates
        return self.rng.choice(skilled if self.rng.random() < 0.8 else candidates)

    def _draw(self, story: Story, plan: _Plan, today_slots: Counter) -> None:  # noqa: C901, PLR0912, PLR0915
        """Turn a plan into timed steps, from the request or creation to its final status.

        Raises StoryTooLongError when the drawn dates would run past now or before the history window;
        the caller then draws again.
        """
        rng, now, add = self.rng, self.now, story.add
        tz = ZoneInfo(plan.site.timezone)
        today = now.astimezone(tz).date()
        window_start = now - timedelta(days=HISTORY_DAYS)
        final = plan.final
        lead = self._technician(plan)
        helper = None
        if plan.template_key == "chiller" and rng.random() < 0.5:
            helper = rng.choice([t for t in self.technicians if TECH_REGION[t] == TECH_REGION[lead] and t != lead])
        story.state.update(lead=lead, helper=helper, plan=plan)
        duration = (
            TEMPLATES[plan.template_key]["estimated_duration_minutes"]
            if plan.template_key
            else rng.choice((60, 90, 120, 150, 180, 240))
        )
        dispatcher = "dispatcher"
        cancel_reason = rng.choice(CANCEL_REASONS)

        # 1. the scheduled visit
        slots = (7.5, 8.0, 8.5, 9.0, 10.0, 10.5, 13.0, 13.5, 14.0)
        back = {
            Status.CLOSED: (-60, -6),
            Status.CANCELLED: (-60, 6),
            Status.COMPLETED: (-5, -1),
            Status.ON_HOLD: (-9, -1),
            Status.IN_PROGRESS: (-3, -1),
            Status.PLANNED: (1, 10),
            Status.NEW: (1, 8),
        }
        sched_day = _workday_after(today, rng.randint(*back[Status(final)]))
        hour = rng.choice(slots)
        if plan.today:
            sched_day = today if _is_workday(today) else _workday_after(today)
            if final == Status.PLANNED:
                hour = (8.0, 10.5, 13.0, 14.5)[today_slots[lead] % 4]
                today_slots[lead] += 1
            else:
                hour = rng.choice((7.5, 7.75, 8.0))
        sched = _at(sched_day, hour, tz)
        running_today = final == Status.IN_PROGRESS and plan.today
        if running_today and (sched > now - timedelta(minutes=45) or _local_hour(now, tz) > 17.5):
            # too early (or too late) today for a running job: it started on the previous working day
            sched, running_today = _at(_workday_after(today, -1), hour, tz), False

        # 2. created (and planned) some working days before, in office hours
        lo, hi = {Priority.CRITICAL: (0, 0), Priority.HIGH: (0, 2), Priority.NORMAL: (1, 8), Priority.LOW: (3, 12)}[
            Priority(plan.priority)
        ]
        if plan.template_key:
            lo, hi = 5, 15
        if plan.sla_at_risk:
            created = now - timedelta(minutes=200)  # 24×7: at risk after 180 of its 240 minutes
        elif final == Status.NEW:
            created = _in_hours(now - timedelta(hours=rng.uniform(0.5, 24 * 5)), OFFICE_TZ, rng)
        elif hi == 0:
            created = sched - timedelta(minutes=rng.randint(60, 150))  # a breakdown phoned in this morning
            if _local_hour(created, OFFICE_TZ) < 7.25 or not _is_workday(created.astimezone(OFFICE_TZ).date()):
                created = _at(
                    _workday_after(sched.astimezone(OFFICE_TZ).date(), -1), rng.uniform(14.5, 16.5), OFFICE_TZ
                )  # ... or yesterday afternoon
        else:
            office_day = _workday_after(sched.astimezone(OFFICE_TZ).date(), -rng.randint(max(lo, 1), hi))
            created = _at(office_day, rng.uniform(7.75, 15.5), OFFICE_TZ)
        if final == Status.PLANNED and created > now - timedelta(minutes=15):
            created = _office_moment_before(min(now - timedelta(minutes=15), sched - timedelta(minutes=30)), rng)
        if created < window_start or created > now - timedelta(minutes=15):
            raise StoryTooLongError
        if plan.request:
            requested = created - timedelta(minutes=rng.randint(25, 300))
            if requested < window_start:
                raise StoryTooLongError
            add(requested, partial(self._request_create, story, plan.request))
        wished = sched if final == Status.NEW and rng.random() < 0.4 else None
        add(created, partial(self._create, story, wished))
        if final == Status.NEW:
            if rng.random() < 0.3:
                add(
                    created + timedelta(minutes=rng.randint(5, 90)),
                    partial(self._note, story, dispatcher, rng.choice(OFFICE_NOTES)),
                )
            return
        if final == Status.CANCELLED and plan.cancel_from == Status.NEW:
            cancel_at = _in_hours(created + timedelta(hours=rng.uniform(2, 72)), OFFICE_TZ, rng)
            add(
                min(cancel_at, now - timedelta(minutes=10)),
                partial(self._transition, story, dispatcher, Status.CANCELLED, reason=cancel_reason),
            )
            return

        # 3. the dispatcher assigns a technician, schedules the visit and plans it
        planned_at = _in_hours(created + timedelta(minutes=rng.randint(10, 180)), OFFICE_TZ, rng)
        if planned_at >= sched - timedelta(minutes=20):
            planned_at = created + timedelta(minutes=5)
        add(planned_at, partial(self._assign, story, sched, duration))
        add(planned_at, partial(self._transition, story, dispatcher, Status.PLANNED))
        if rng.random() < 0.15:
            add(
                planned_at + timedelta(minutes=rng.randint(10, 60)),
                partial(self._note, story, dispatcher, rng.choice(OFFICE_NOTES)),
            )
        if final == Status.PLANNED:
            return
        if final == Status.CANCELLED:
            cancel_at = _in_hours(planned_at + timedelta(hours=rng.uniform(3, 48)), OFFICE_TZ, rng)
            add(
                min(cancel_at, sched - timedelta(minutes=30), now - timedelta(minutes=5)),
                partial(self._transition, story, dispatcher, Status.CANCELLED, reason=cancel_reason),
            )
            return

        # 4. the technician travels, starts, works
        start = sched + timedelta(minutes=rng.randint(-10, 35))
        travel = timedelta(minutes=rng.randint(15, 55))
        add(start, partial(self._transition, story, lead, Status.IN_PROGRESS))
        add(start, partial(self._time, story, lead, start - travel, start, TimeKind.TRAVEL))
        if running_today:
            add(start, partial(self._timer, story, lead))
            if plan.template_key:
                add(start + timedelta(minutes=rng.randint(5, 30)), partial(self._answer, story, lead, 2))
            return
        if plan.hold_before_done or final == Status.ON_HOLD:
            hold_at = start + timedelta(minutes=rng.randint(40, max(45, duration - 15)))
            if plan.template_key:
                add(hold_at - timedelta(minutes=20), partial(self._answer, story, lead, 2))
            add(
                hold_at - timedelta(minutes=2),
                partial(self._time, story, lead, start, hold_at - timedelta(minutes=2), TimeKind.LABOUR),
            )
            hold_reason = plan.hold_reason or rng.choice(list(HOLD_REASONS))
            add(
                hold_at,
                partial(
                    self._transition,
                    story,
                    lead,
                    Status.ON_HOLD,
                    hold_reason=hold_reason,
                    reason=rng.choice(HOLD_REASONS[hold_reason]),
                ),
            )
            if final == Status.ON_HOLD:
                if rng.random() < 0.5:
                    add(
                        hold_at + timedelta(minutes=rng.randint(30, 240)),
                        partial(self._note, story, dispatcher, rng.choice(OFFICE_NOTES)),
                    )
                return
            resume = _at(
                _workday_after(hold_at.astimezone(tz).date(), rng.randint(1, 4)), rng.choice((7.5, 8.0, 9.0, 10.0)), tz
            )
            add(resume, partial(self._transition, story, lead, Status.IN_PROGRESS))
            add(resume, partial(self._time, story, lead, resume - travel, resume, TimeKind.TRAVEL))
            start, duration = resume, max(45, duration // 2)
        end = start + timedelta(minutes=duration)
        if _local_hour(end, tz) > 17.5 or end.astimezone(tz).date() != start.astimezone(tz).date():
            end = _at(start.astimezone(tz).date(), 17.0 + rng.choice((0, 0.25, 0.5)), tz)
        end = max(end, start + timedelta(minutes=45))
        if final == Status.IN_PROGRESS:  # a job over several days: yesterday's hours are logged
            add(end, partial(self._time, story, lead, start, end, TimeKind.LABOUR))
            if plan.template_key:
                add(end, partial(self._answer, story, lead, 2))
            if rng.random() < 0.5:
                add(end, partial(self._note, story, lead, rng.choice(FIELD_NOTES)))
            return
        if plan.template_key:
            add(start + (end - start) / 3, partial(self._answer, story, lead, None))
        if rng.random() < 0.3:
            add(start + (end - start) / 2, partial(self._note, story, lead, rng.choice(FIELD_NOTES)))
        if plan.site.client.name == CLIENT_USER_CLIENT and rng.random() < 0.15:
            add(start + (end - start) / 2, partial(self._note, story, "client", rng.choice(CLIENT_NOTES)))
        add(end - timedelta(minutes=12), partial(self._parts, story, lead))
        if TEMPLATES.get(plan.template_key, {}).get("requires_signature"):
            add(end - timedelta(minutes=6), partial(self._sign, story, lead))
        add(
            end - timedelta(minutes=3),
            partial(self._time, story, lead, start, end - timedelta(minutes=3), TimeKind.LABOUR),
        )
        if helper:
            add(
                end - timedelta(minutes=2),
                partial(
                    self._time,
                    story,
                    helper,
                    start + timedelta(minutes=15),
                    end - timedelta(minutes=5),
                    TimeKind.LABOUR,
                ),
            )
        add(end, partial(self._transition, story, lead, Status.COMPLETED, resolution_notes=self._resolution(plan)))
        if final == Status.COMPLETED:
            return

        # 5. the office reviews: sometimes it goes back to the technician, then it is closed
        review = _in_hours(end + timedelta(hours=rng.uniform(14, 60)), OFFICE_TZ, rng)
        if plan.reopen:
            add(
                review,
                partial(
                    self._transition,
                    story,
                    dispatcher,
                    Status.IN_PROGRESS,
                    reason="Client reports the fault again the next morning; technician to check again.",
                ),
            )
            again = _at(_workday_after(review.astimezone(tz).date(), 1), rng.choice((8.0, 9.0)), tz)
            again_end = again + timedelta(minutes=rng.randint(45, 120))
            add(
                again_end - timedelta(minutes=2),
                partial(self._time, story, lead, again, again_end - timedelta(minutes=2), TimeKind.LABOUR),
            )
            add(
                again_end,
                partial(
                    self._transition,
                    story,
                    lead,
                    Status.COMPLETED,
                    resolution_notes=self._resolution(plan) + " Second visit: loose terminal in the "
                    "control panel re-tightened.",
                ),
            )
            review = _in_hours(again_end + timedelta(hours=rng.uniform(14, 40)), OFFICE_TZ, rng)
        add(review, partial(self._transition, story, dispatcher, Status.CLOSED))
        if plan.no_charge:
            add(review + timedelta(minutes=rng.randint(30, 300)), partial(self._no_charge, story))
        if plan.is_billable and not plan.no_charge and review < now - timedelta(days=14):
            # drawn when the demo marked old work as invoiced by hand; invoices now come from the monthly
            # billing runs (_billing_stories): the draw stays so the rest of the history is as it was
            rng.random()
        if plan.follow_up:
            follow = _in_hours(review + timedelta(hours=rng.uniform(20, 80)), OFFICE_TZ, rng)
            add(follow, partial(self._follow_up, story, rng.choice(FIELD_NOTES[:1] + FIELD_NOTES[3:])))
            if plan.follow_up == "planned":
                later = _at(_workday_after(today, rng.randint(2, 9)), rng.choice(slots), tz)
                add(follow + timedelta(minutes=20), partial(self._assign, story, later, 90, "follow_up"))
                add(
                    follow + timedelta(minutes=20),
                    partial(self._transition, story, dispatcher, Status.PLANNED, "follow_up"),
                )

    # --- steps -------------------------------------------------------------------------------------

    def _stamp(self, obj) -> None:
        self.stamps.append((type(obj), obj.pk, clock.now()))

    def _request_create(self, story: Story, req: tuple) -> None:
        who, source, site_name, eq_name, title, description, priority = req
        site = next(s for s in self.sites if s.name == site_name)
        eq = next((e for e, _c, _t in self.equipment if e.name == eq_name and e.site_id == site.pk), None)
        r = wo_services.work_request_create(
            actor=self.actors[who],
            title=title,
            site_id=site.pk,
            equipment_id=eq.pk if eq else None,
            description=description,
            suggested_priority=priority,
            source=source,
        )
        # created_at is Django's auto_now_add (the real time): the replayed moment instead, now already,
        # because the SLA clocks of the work order it becomes start when the request arrived
        r.created_at = r.updated_at = clock.now()
        WorkRequest.objects.filter(pk=r.pk).update(created_at=r.created_at, updated_at=r.updated_at)
        self._stamp(r)
        story.state["request"] = r

    def _create(self, story: Story, wished_start: datetime | None) -> None:
        plan: _Plan = story.state["plan"]
        dispatcher = self.actors["dispatcher"]
        template = self.templates.get(plan.template_key)
        if "request" in story.state:
            wo = wo_services.work_request_convert(
                actor=dispatcher, request_id=story.state["request"].pk, priority=plan.priority
            )
            self._stamp_request_decision(story.state["request"])
            if not plan.is_billable:
                wo = wo_services.work_order_update(actor=dispatcher, work_order_id=wo.pk, data={"is_billable": False})
        else:
            title, description = (plan.corrective[0], plan.corrective[1]) if plan.corrective else (None, "")
            wo = wo_services.work_order_create(
                actor=dispatcher,
                title=title,
                description=description,
                site_id=plan.site.pk,
                equipment_id=plan.equipment.pk if plan.equipment else None,
                template_id=template.pk if template else None,
                type=plan.type or None,
                priority=plan.priority,
                is_billable=plan.is_billable,
                reports_equipment_down=plan.reports_down,
                scheduled_start=wished_start,
            )
        story.state["wo"] = wo

    def _stamp_request_decision(self, req: WorkRequest) -> None:
        self.stamps.append((WorkRequest, req.pk, None))  # updated_at follows decided_at, see _finish

    def _wo(self, story: Story, which: str = "wo") -> WorkOrder:
        return story.state[which]

    def _assign(self, story: Story, start: datetime, duration: int, which: str = "wo") -> None:
        data = {
            "lead_technician_id": self.users[story.state["lead"]].pk,
            "scheduled_start": start,
            "scheduled_end": start + timedelta(minutes=duration),
        }
        if story.state.get("helper") and which == "wo":
            data["helper_ids"] = [self.users[story.state["helper"]].pk]
        wo_services.work_order_update(
            actor=self.actors["dispatcher"], work_order_id=self._wo(story, which).pk, data=data
        )

    def _transition(self, story: Story, who: str, to: str, which: str = "wo", **kwargs) -> None:
        wo_services.work_order_transition(
            actor=self.actors[who], work_order_id=self._wo(story, which).pk, to=to, **kwargs
        )

    def _time(self, story: Story, who: str, start: datetime, end: datetime, kind: str) -> None:
        entry = wo_services.time_entry_create(
            actor=self.actors[who], work_order_id=self._wo(story).pk, started_at=start, ended_at=end, kind=kind
        )
        self._stamp(entry)

    def _timer(self, story: Story, who: str) -> None:
        entry = wo_services.timer_start(actor=self.actors[who], work_order_id=self._wo(story).pk)
        self._stamp(entry)

    def _answer(self, story: Story, who: str, first: int | None) -> None:
        rng = self.rng
        wo = self._wo(story)
        items = list(ChecklistAnswer.objects.filter(work_order=wo, value="").order_by("position"))
        if first is not None:
            items = items[:first]
        for item in items:
            if item.kind == "checkbox":
                value = "done"
            elif item.kind == "pass_fail":
                value = "fail" if rng.random() < 0.04 and not item.is_required else "pass"
            elif item.kind == "number":
                lo, hi, digits = NUMBER_ANSWERS.get(item.label, (1, 10, 0))
                value = str(round(rng.uniform(lo, hi), digits)) if digits else str(rng.randint(int(lo), int(hi)))
            else:
                value = rng.choice(TEXT_ANSWERS)
            wo_services.checklist_answer(actor=self.actors[who], work_order_id=wo.pk, item_id=item.pk, value=value)

    def _parts(self, story: Story, who: str) -> None:
        rng, plan, wo = self.rng, story.state["plan"], self._wo(story)
        lines: list[tuple[str, str]] = []
        if plan.template_key:
            lines += [(sku, qty) for sku, qty in TEMPLATES[plan.template_key]["parts"]]
            if rng.random() < 0.25:
                sku, qtys = rng.choice(CATEGORY_PARTS[plan.category])
                lines.append((sku, rng.choice(qtys)))
        else:
            lines += list(plan.corrective[3])
        for sku, qty in lines:
            usage = wo_services.part_usage_create(
                actor=self.actors[who], work_order_id=wo.pk, part_id=self.parts[sku].pk, quantity=qty
            )
            self._stamp(usage)
        if not plan.template_key and rng.random() < 0.15:
            usage = wo_services.part_usage_create(
                actor=self.actors[who],
                work_order_id=wo.pk,
                description="Small material (screws, cable ties, sealant)",
                quantity="1",
                unit_cost="4.50",
            )
            self._stamp(usage)

    def _sign(self, story: Story, who: str) -> None:
        client = story.state["plan"].site.client
        name = next((c.name for c in Contact.objects.filter(client=client).order_by("-is_primary", "id")), "Client")
        wo_services.signature_capture(
            actor=self.actors[who], work_order_id=self._wo(story).pk, image_png=self._signature, signed_by_name=name
        )

    @property
    def _signature(self) -> bytes:
        if not hasattr(self, "_signature_bytes"):
            self._signature_bytes = _signature_png()
        return self._signature_bytes

    def _note(self, story: Story, who: str, body: str, which: str = "wo") -> None:
        visible = who in ("client", "requester") or self.rng.random() < 0.3
        note = wo_services.note_create(
            actor=self.actors[who], work_order_id=self._wo(story, which).pk, body=body, is_client_visible=visible
        )
        self._stamp(note)

    def _no_charge(self, story: Story) -> None:
        wo_services.work_order_set_billing(
            actor=self.actors["dispatcher"],
            work_order_id=self._wo(story).pk,
            billing_status=BillingStatus.NO_CHARGE,
            reason=self.rng.choice(NO_CHARGE_REASONS),
        )

    def _follow_up(self, story: Story, reason: str) -> None:
        story.state["follow_up"] = wo_services.work_order_follow_up(
            actor=self.actors["dispatcher"], work_order_id=self._wo(story).pk, reason=reason
        )

    def _resolution(self, plan: _Plan) -> str:
        if plan.corrective:
            return plan.corrective[2]
        return {
            "ahu": "Filters replaced, belts and bearings checked, unit running normally.",
            "boiler": "Inspection done; combustion values within limits, report left with the client.",
            "lift": "Inspection passed; report signed by the operator's representative.",
            "chiller": "Seasonal maintenance done; no leaks found, values logged.",
            "fire": "Walk-through done; findings listed in the checklist.",
        }[plan.template_key]

    # --- requests that are still open, rejected or duplicates ---------------------------------------

    def _request_stories(self, first_key: int) -> list[Story]:
        rng, now = self.rng, self.now
        stories = []
        for i, req in enumerate(REQUESTS_OPEN):
            story = Story(key=first_key + len(stories), now=now)
            at = _in_hours(now - timedelta(hours=rng.uniform(2, 60) + 10 * i), OFFICE_TZ, rng)
            story.add(min(at, now - timedelta(minutes=30 + i)), partial(self._request_create, story, req))
            stories.append(story)
        for who, source, site, eq, title, description, rejection in REQUESTS_REJECTED:
            story = Story(key=first_key + len(stories), now=now)
            at = _in_hours(now - timedelta(days=rng.uniform(10, 60)), OFFICE_TZ, rng)
            story.add(
                at, partial(self._request_create, story, (who, source, site, eq, title, description, Priority.NORMAL))
            )
            story.add(
                _in_hours(at + timedelta(hours=rng.uniform(1, 20)), OFFICE_TZ, rng),
                partial(self._reject, story, rejection),
            )
            stories.append(story)
        # the same lift noise reported a second time, marked as a duplicate
        story = Story(key=first_key + len(stories), now=now)
        story.add(
            now - timedelta(minutes=50), partial(self._request_create, story, (*DUPLICATE_REQUEST, Priority.NORMAL))
        )
        story.add(now - timedelta(minutes=25), partial(self._duplicate, story))
        stories.append(story)
        return stories

    def _reject(self, story: Story, reason: str) -> None:
        req = story.state["request"]
        wo_services.work_request_reject(actor=self.actors["dispatcher"], request_id=req.pk, reason=reason)
        self._stamp_request_decision(req)

    def _duplicate(self, story: Story) -> None:
        req = story.state["request"]
        original = WorkRequest.objects.filter(organization_id=self.org.pk, title=REQUESTS_ACCEPTED[0][4]).first()
        wo_services.work_request_mark_duplicate(
            actor=self.actors["dispatcher"], request_id=req.pk, duplicate_of_id=original.pk
        )
        self._stamp_request_decision(req)

    # --- preventive maintenance: plans, a meter, and what became of their occurrences ---------------

    def _pm_stories(self, first_key: int) -> list[Story]:
        """The preventive maintenance history (with its own random draws: the rest stays as it was).

        Twelve weeks ago the dispatcher set up five plans — a filter change on the last day of each
        month (the working day before when that is a weekend or holiday), a quarterly lift inspection
        on the 2nd Tuesday, a pump inspection 30 days after the last one, a chiller service every 500
        running hours, a diesel sprinkler pump test every 2 weeks — and a running-hours meter on the
        chiller with a year of weekly readings; four weeks ago a weekly generator test run that nobody
        has started since (a stale plan). The generator ran every morning at 05:00. The work was done
        on its due date, except the last filter change (two working days late) and one sprinkler test
        that waited for parts for over two weeks, so the next one was skipped.
        """
        rng, now = random.Random(SEED + 1), self.now
        self.pm_rng = rng
        today = now.astimezone(OFFICE_TZ).date()
        t0_day = _workday_after(today - timedelta(days=86))
        gen_day = _workday_after(today - timedelta(days=30))
        office = BusinessCalendar.objects.get(organization=self.org, name="Office hours Berlin")
        working = pm_generator.working_day_test(SimpleNamespace(calendar_id=office.pk, calendar=office))
        self.pm_plans: dict[str, object] = {}
        self.pm_anchor = {
            "filter": t0_day,
            "lift": next(d for d in _days(t0_day + timedelta(days=7)) if d.weekday() == 1 and 8 <= d.day <= 14),
            "pump": _workday_after(t0_day, 8),
            "chiller": t0_day,
            "sprinkler": next(d for d in _days(t0_day + timedelta(days=3)) if d.weekday() == 0),
            "generator": next(d for d in _days(gen_day + timedelta(days=1)) if d.weekday() == 2),
        }
        self.pm_calendar = office
        self.pm_t0 = t0_day
        self.pm_lifetime = self._pm_meter_history(today, rng)
        self.pm_start = (self.pm_lifetime[t0_day] + 120) // 500 * 500 + 500  # the chiller's first threshold
        stories: list[Story] = []

        def story() -> Story:
            stories.append(Story(key=first_key + len(stories), now=now))
            return stories[-1]

        setup = story()
        setup.add(_at(t0_day, 9.0, OFFICE_TZ), self._pm_setup)
        setup.add(_at(gen_day, 9.5, OFFICE_TZ), partial(self._pm_plan, "generator"))
        ticks = story()  # the generator every morning
        for d in _days(t0_day + timedelta(days=1), today):
            if _at(d, 5.0, OFFICE_TZ) < now:
                ticks.add(_at(d, 5.0, OFFICE_TZ), self._pm_generate)
        readings = story()  # the technician reads the chiller's meter every Monday morning
        for d in _days(t0_day + timedelta(days=1), today):
            if d.weekday() == 0 and _at(d, 7.75, OFFICE_TZ) < now - timedelta(minutes=30):
                readings.add(_at(d, 7.75, OFFICE_TZ), partial(self._pm_read, d))

        def shift(day: date, direction: str) -> date:
            return recurrence.shift_to_working_day(day, working, direction)

        def done_by(day: date, hour: float = 13.0) -> bool:
            return _at(day, hour, OFFICE_TZ) < now - timedelta(hours=1)

        # the filter change: on its (shifted) due date; the last one so far two working days late
        rule = pm_services.rule_from_choices(PM_PLANS[0][5]["recurrence"], self.pm_anchor["filter"])
        dues = [
            (n, shift(n, "previous"))
            for n in recurrence.occurrences(rule, self.pm_anchor["filter"], start=t0_day, end=today)
        ]
        dues = [(n, d) for n, d in dues if done_by(d)]
        for i, (nominal, due) in enumerate(dues):
            late = i == len(dues) - 1 and done_by(_workday_after(due, 2))
            work = _workday_after(due, 2) if late else due
            self._pm_visit(story(), "filter", nominal.isoformat(), due - timedelta(days=5), work, 8.0)
        # the lift inspection: on the 2nd Tuesday, signed by the client
        rule = pm_services.rule_from_choices(PM_PLANS[1][5]["recurrence"], self.pm_anchor["lift"])
        for due in recurrence.occurrences(rule, self.pm_anchor["lift"], start=t0_day, end=today):
            if done_by(due, 12.0):
                self._pm_visit(story(), "lift", due.isoformat(), due - timedelta(days=14), due, 9.0)
        # the pump inspection: 30 days after the last one, done on its due date
        nominal = self.pm_anchor["pump"]
        while True:
            due = shift(nominal, "next")
            if not done_by(due, 12.0):
                break
            self._pm_visit(story(), "pump", nominal.isoformat(), due - timedelta(days=7), due, 10.0)
            nominal = due + timedelta(days=30)
        # the chiller: a work order when a Monday reading passes the next 500 h, done two working days later
        threshold = self.pm_start
        for d in sorted(self.pm_lifetime):
            if d <= t0_day or d.weekday() != 0 or not _at(d, 7.75, OFFICE_TZ) < now - timedelta(minutes=30):
                continue
            value = self.pm_lifetime[d]
            if value >= threshold:
                work = _workday_after(d, 2)
                if done_by(work, 12.0):
                    key = f"m:{Decimal(threshold).normalize():f}"
                    self._pm_visit(story(), "chiller", key, d, work, 9.0, generated_at=_at(d, 7.75, OFFICE_TZ))
                threshold = (value // 500 + 1) * 500
        # the sprinkler pump: the third test waited for parts, so the fourth was skipped
        rule = pm_services.rule_from_choices(PM_PLANS[4][5]["recurrence"], self.pm_anchor["sprinkler"])
        dues = recurrence.occurrences(rule, self.pm_anchor["sprinkler"], start=t0_day, end=today)
        held = 2 if len(dues) >= 5 else None
        for i, due in enumerate(dues):
            if held is not None and i == held + 1:
                continue  # skipped: the held one is still open when this one is made
            if held is not None and i == held:
                resume = _workday_after(due, 12)
                if not done_by(resume, 12.0):
                    break  # still waiting: the later ones are skipped while it is open
                self._pm_visit(story(), "sprinkler", due.isoformat(), due - timedelta(days=3), due, 10.0, resume)
                continue
            if done_by(due, 12.0):
                self._pm_visit(story(), "sprinkler", due.isoformat(), due - timedelta(days=3), due, 10.0)
        return stories

    def _pm_meter_history(self, today: date, rng: random.Random) -> dict[date, Decimal]:
        """The chiller's lifetime hours at 07:45 each day of the last year: about 6 h a day in winter,
        18 in summer, a little noise."""
        lifetime, out = Decimal("21350"), {}
        for d in _days(today - timedelta(days=364), today):
            out[d] = lifetime
            season = math.cos(2 * math.pi * (d.timetuple().tm_yday - 196) / 365.25)
            lifetime += Decimal(str(round(max(0.0, 12 + 6 * season + rng.uniform(-2.5, 2.5)), 1)))
        return out

    def _pm_setup(self) -> None:
        """Templates, the chiller's meter with the readings of the past year, and the plans."""
        admin, rng = self.actors["admin"], self.pm_rng
        self.pm_templates = {}
        for key, spec in PM_TEMPLATES.items():
            data = {k: v for k, v in spec.items() if k not in ("checklist", "parts")}
            data["is_billable"], data["is_active"] = True, True
            data["checklist"] = [
                {"label": label, "kind": kind, "is_required": required} for label, kind, required in spec["checklist"]
            ]
            data["parts"] = [{"part_id": self.parts[sku].pk, "quantity": qty} for sku, qty in spec["parts"]]
            self.pm_templates[key] = wo_services.template_create(actor=admin, data=data)
        self.pm_templates["lift"] = self.templates["lift"]
        chiller = self._pm_equipment("Chiller CH-1")
        self.pm_meter = meters.meter_create(
            actor=admin, equipment_id=chiller.pk, data={"name": PM_METER, "unit": "h", "usage_window_days": 28}
        )
        self._stamp(self.pm_meter)
        now_day = clock.now().astimezone(OFFICE_TZ).date()
        for d, value in sorted(self.pm_lifetime.items()):
            if d < now_day and d.weekday() == 0:
                meters.reading_record(
                    actor=admin,
                    meter_id=self.pm_meter.pk,
                    value=value,
                    read_at=_at(d, 7.75, OFFICE_TZ) + timedelta(minutes=rng.randint(0, 40)),
                    source="import",
                )
        for key, *_rest in PM_PLANS:
            if key != "generator":
                self._pm_plan(key)

    def _pm_equipment(self, name: str) -> Equipment:
        return next(e for e, _c, _t in self.equipment if e.name == name and e.site.timezone == BERLIN)

    def _pm_plan(self, key: str) -> None:
        _key, name, equipment, template, who, data = next(p for p in PM_PLANS if p[0] == key)
        payload = {
            "name": name,
            "template_id": self.pm_templates[template].pk,
            "equipment_id": self._pm_equipment(equipment).pk,
            "anchor": self.pm_anchor[key].isoformat(),
            "lead_technician_id": self.users[who].pk,
            "calendar_id": self.pm_calendar.pk,
            **data,
        }
        if key == "chiller":
            payload["meter_start"] = str(self.pm_start)
        plan = pm_services.plan_create(actor=self.actors["dispatcher"], data=payload)
        self._stamp(plan)
        self.pm_plans[key] = plan

    def _pm_generate(self) -> None:
        before = Occurrence.objects.filter(organization_id=self.org.pk).aggregate(m=Max("pk"))["m"] or 0
        pm_generator.generate(organization_id=self.org.pk)
        self._pm_stamp_new(before)

    def _pm_stamp_new(self, before: int) -> None:
        Occurrence.objects.filter(organization_id=self.org.pk, pk__gt=before).update(created_at=clock.now())

    def _pm_read(self, day: date) -> None:
        before = Occurrence.objects.filter(organization_id=self.org.pk).aggregate(m=Max("pk"))["m"] or 0
        meters.reading_record(
            actor=self.actors["technician"], meter_id=self.pm_meter.pk, value=self.pm_lifetime[day], source="phone"
        )
        self._pm_stamp_new(before)

    def _pm_visit(
        self,
        story: Story,
        plan: str,
        key: str,
        made: date,
        work: date,
        hour: float,
        resume: date | None = None,
        *,
        generated_at: datetime | None = None,
    ) -> None:
        """Plan the visit, do the work (held for parts until ``resume`` when given), complete, close."""
        rng = self.pm_rng
        _key, _name, _equipment, plan_template, who, _data = next(p for p in PM_PLANS if p[0] == plan)
        minutes = (PM_TEMPLATES.get(plan_template) or TEMPLATES[plan_template])["estimated_duration_minutes"]
        start = _at(work, hour + rng.choice((0, 0.25, 0.5)), OFFICE_TZ)
        # the dispatcher plans it the first working morning after the generator made it
        made = max(made, self.pm_t0 + timedelta(days=1))
        planned = _at(_workday_after(made - timedelta(days=1)), 9.5, OFFICE_TZ)
        if generated_at is not None:
            planned = max(planned, generated_at + timedelta(minutes=20))
        if planned >= start - timedelta(minutes=30):
            raise RuntimeError(f"The {plan} visit {key} would be planned after it starts.")
        story.state["lead"] = who
        story.add(planned, partial(self._pm_pick, story, plan, key))
        story.add(planned, partial(self._pm_schedule, story, start, minutes))
        story.add(planned, partial(self._transition, story, "dispatcher", Status.PLANNED))
        story.add(start, partial(self._transition, story, who, Status.IN_PROGRESS))
        story.add(start, partial(self._time, story, who, start - timedelta(minutes=25), start, TimeKind.TRAVEL))
        if resume is not None:
            hold = start + timedelta(minutes=40)
            story.add(hold - timedelta(minutes=2), partial(self._time, story, who, start, hold, TimeKind.LABOUR))
            story.add(
                hold,
                partial(
                    self._transition,
                    story,
                    who,
                    Status.ON_HOLD,
                    hold_reason=HoldReason.WAITING_FOR_PARTS,
                    reason="Injector pipe leaking at the union; spare part ordered from Clarke.",
                ),
            )
            start = _at(resume, 9.0, OFFICE_TZ)
            story.add(start, partial(self._transition, story, who, Status.IN_PROGRESS))
            story.add(start, partial(self._time, story, who, start - timedelta(minutes=25), start, TimeKind.TRAVEL))
        end = start + timedelta(minutes=minutes)
        story.add(start + timedelta(minutes=10), partial(self._pm_answer, story, who))
        story.add(end - timedelta(minutes=12), partial(self._pm_parts, story, who, plan_template))
        if plan_template == "lift":
            story.add(end - timedelta(minutes=6), partial(self._sign, story, who))
        story.add(
            end - timedelta(minutes=3), partial(self._time, story, who, start, end - timedelta(minutes=3), "labour")
        )
        story.add(
            end,
            partial(self._transition, story, who, Status.COMPLETED, resolution_notes=PM_RESOLUTIONS[plan_template]),
        )
        closed = _at(_workday_after(end.astimezone(OFFICE_TZ).date()), 9.0 + rng.random(), OFFICE_TZ)
        if closed < self.now - timedelta(minutes=30):
            story.add(closed, partial(self._transition, story, "dispatcher", Status.CLOSED))

    def _pm_pick(self, story: Story, plan: str, key: str) -> None:
        occurrence = Occurrence.objects.select_related("work_order__site__client").get(
            plan=self.pm_plans[plan], key=key
        )
        story.state["wo"] = occurrence.work_order
        story.state["plan"] = SimpleNamespace(site=occurrence.work_order.site)

    def _pm_schedule(self, story: Story, start: datetime, minutes: int) -> None:
        wo_services.work_order_update(
            actor=self.actors["dispatcher"],
            work_order_id=self._wo(story).pk,
            data={"scheduled_start": start, "scheduled_end": start + timedelta(minutes=minutes)},
        )

    def _pm_answer(self, story: Story, who: str) -> None:
        rng, wo = self.pm_rng, self._wo(story)
        for item in ChecklistAnswer.objects.filter(work_order=wo, value="").order_by("position"):
            if item.kind == "checkbox":
                value = "done"
            elif item.kind == "pass_fail":
                value = "pass"
            elif item.kind == "number":
                lo, hi, digits = PM_NUMBER_ANSWERS.get(item.label) or NUMBER_ANSWERS.get(item.label, (1, 10, 0))
                value = str(round(rng.uniform(lo, hi), digits)) if digits else str(rng.randint(int(lo), int(hi)))
            else:
                value = rng.choice(TEXT_ANSWERS)
            wo_services.checklist_answer(actor=self.actors[who], work_order_id=wo.pk, item_id=item.pk, value=value)

    def _pm_parts(self, story: Story, who: str, template: str) -> None:
        spec = PM_TEMPLATES.get(template) or TEMPLATES[template]
        for sku, qty in spec["parts"]:
            usage = wo_services.part_usage_create(
                actor=self.actors[who], work_order_id=self._wo(story).pk, part_id=self.parts[sku].pk, quantity=qty
            )
            self._stamp(usage)

    def _pm_finish(self) -> None:
        """The plans' and meter's change records at their replayed moment; occurrences made when their
        work order was; readings recorded when read."""
        oid = self.org.pk
        stamped = {
            (model._meta.label_lower, pk): at for model, pk, at in self.stamps if model in (MaintenancePlan, Meter)
        }
        for (label, pk), at in stamped.items():
            ChangeRecord.objects.filter(organization_id=oid, object_type=label, object_id=str(pk)).update(at=at)
        MaintenancePlan.objects.filter(organization_id=oid).update(updated_at=models.F("created_at"))
        Meter.objects.filter(organization_id=oid).update(updated_at=models.F("created_at"))
        MeterReading.objects.filter(organization_id=oid).update(created_at=models.F("read_at"))
        Occurrence.objects.filter(organization_id=oid, work_order__isnull=False).update(
            created_at=Subquery(WorkOrder.objects.filter(pk=OuterRef("work_order_id")).values("created_at")[:1])
        )

    # --- billing: the seller's set-up, monthly invoicing, payments, a credit note, open drafts -------

    def _billing_setup(self, admin: Actor) -> None:
        """The seller (with a logo), tax rates, the overtime calendar, rate classes and hourly rates, the key
        client's price list and service contract, every client's billing details and a business client in
        the Netherlands (reverse charge): through the billing configuration services, as the settings pages
        write them, at set-up time."""
        self.tax_rates = {
            name: billing_config.tax_rate_create(
                actor=admin,
                data={
                    "name": name,
                    "category": category,
                    "rate": rate,
                    "exemption_reason": reason,
                    "exemption_code": code,
                },
            )
            for name, category, rate, reason, code in TAX_RATES
        }
        name, zone, week = BILLING_CALENDAR
        calendar = sla_services.calendar_create(actor=admin, data={"name": name, "timezone": zone, "week": week})
        for year in range((self.now - timedelta(days=HISTORY_DAYS)).year, self.now.year + 2):
            sla_services.holidays_generate(
                actor=admin, calendar_id=calendar.pk, country="DE", year=year, subdivision="HH"
            )
        billing_config.billing_settings_update(
            actor=admin,
            data={**SELLER, "default_tax_rate_id": self.tax_rates["VAT 19 %"].pk, "overtime_calendar_id": calendar.pk},
            logo=SimpleUploadedFile("nordwind-logo.png", _logo_png(), content_type="image/png"),
        )
        classes = {}
        for class_name, members in RATE_CLASSES.items():
            classes[class_name] = billing_config.rate_class_create(actor=admin, data={"name": class_name})
            for local in members:
                billing_config.technician_rate_class_set(
                    actor=admin, user_id=self.users[local].pk, rate_class_id=classes[class_name].pk
                )
        price_list = billing_config.price_list_create(actor=admin, data=KEY_PRICE_LIST)
        for list_name, class_name, kind, price, cost in RATES:
            data = {"kind": kind, "unit_price": price, "unit_cost": cost}
            if list_name:
                data["price_list_id"] = price_list.pk
            if class_name:
                data["rate_class_id"] = classes[class_name].pk
            billing_config.rate_create(actor=admin, data=data)
        for sku, price in KEY_PART_PRICES.items():
            billing_config.price_list_item_set(
                actor=admin, price_list_id=price_list.pk, part_id=self.parts[sku].pk, unit_price=price
            )
        key = self.clients[CLIENT_USER_CLIENT]
        for client_name, data in CLIENT_BILLING.items():
            extra = {"price_list_id": price_list.pk} if client_name == key.name else {}
            billing_config.client_billing_update(actor=admin, client_id=self.clients[client_name].pk, data=data | extra)
        contract = dict(KEY_CONTRACT)
        covered = contract.pop("covered_categories")
        valid_from = (self.now - timedelta(days=200)).astimezone(OFFICE_TZ).date().replace(day=1)
        billing_config.contract_create(
            actor=admin,
            data={
                **contract,
                "reference": contract["reference"].replace("2025", str(valid_from.year)),
                "client_id": key.pk,
                "valid_from": valid_from,
                "price_list_id": price_list.pk,
                "covered_part_category_ids": [self.part_categories[c].pk for c in covered],
            },
        )
        self._abroad_client(admin)

    def _abroad_client(self, admin: Actor) -> None:
        """The client in Venlo with its cold store and two units, invoiced under the reverse charge. It stays
        out of the pools the other stories draw from (their random draws stay as they were)."""
        spec = ABROAD_CLIENT
        client = client_create(
            actor=admin, data={k: spec[k] for k in ("name", "billing_address", "vat_id", "email", "phone", "notes")}
        )
        contact, title, email, phone = spec["contact"]
        contact_create(
            actor=admin,
            data={
                "client_id": client.pk,
                "name": contact,
                "job_title": title,
                "email": email,
                "phone": phone,
                "is_primary": True,
            },
        )
        site_name, address, zone, lat, lon, access = spec["site"]
        site = site_create(
            actor=admin,
            data={
                "client_id": client.pk,
                "name": site_name,
                "address": address,
                "timezone": zone,
                "latitude": Decimal(lat),
                "longitude": Decimal(lon),
                "access_notes": access,
            },
        )
        installed = self.setup_time.date() - timedelta(days=1100)
        equipment = {}
        for n, (name, category, maker, model, criticality) in enumerate(spec["equipment"], 1):
            equipment[name] = equipment_create(
                actor=admin,
                data={
                    "site_id": site.pk,
                    "parent_id": None,
                    "category_id": self.categories[category].pk,
                    "name": name,
                    "manufacturer": maker,
                    "model": model,
                    "serial_number": f"{maker[:3].upper()}-{installed.year}-{880100 + n:06d}",
                    "install_date": installed,
                    "warranty_end": installed + timedelta(days=730),
                    "criticality": criticality,
                    "status": "operational",
                    "notes": "",
                },
            )
        billing_config.client_billing_update(
            actor=admin,
            client_id=client.pk,
            data={**spec["billing"], "tax_rate_id": self.tax_rates["Reverse charge (EU business)"].pk},
        )
        self.abroad = SimpleNamespace(client=client, site=site, equipment=equipment)

    def _billing_stories(self, first_key: int) -> list[Story]:
        """The money side of the history (with its own random draws: the rest stays as it was).

        On the first working day of each month at 09:30 the accountant invoices the work closed in the month
        before (one invoice per client, currency and tax regime) and issues the invoices. Clients pay by
        transfer 8 to 25 days later, booked from the bank statement each working morning; of the run before
        last, one invoice is paid in part and one not at all (overdue), and a week after that run half an
        hour of one invoice's labour is credited. Two jobs for the client in Venlo: one invoiced, one done
        last week. Shortly before now the accountant invoices the key client's and the Venlo client's closed
        work without issuing it, and adds two manual lines (7 % VAT and exempt) to the key client's draft;
        the rest of this month's closed work waits for the next run.
        """
        rng, now = random.Random(SEED + 2), self.now
        self.billing_rng = rng
        self.payment_plan: list[tuple[date, int, str]] = []  # (day, invoice id, "full" or "part")
        self.invoice_moments: dict[int, list[datetime]] = {}
        self.credit_target: int | None = None
        self.quotes: dict[int, int] = {}  # QUOTES index → quote id
        self.quote_moments: dict[int, list[datetime]] = {}
        today = now.astimezone(OFFICE_TZ).date()
        first = (now - timedelta(days=HISTORY_DAYS)).astimezone(OFFICE_TZ).date()
        runs: list[tuple[datetime, date]] = []  # (when, work closed up to)
        month = first.replace(day=1)
        while True:
            month = (month + timedelta(days=32)).replace(day=1)
            at = _at(month if _is_workday(month) else _workday_after(month), 9.5, OFFICE_TZ)
            if at >= now - timedelta(minutes=30):
                break
            runs.append((at, month - timedelta(days=1)))
        steps: list[tuple[datetime, Callable[[], None]]] = [
            (at, partial(self._billing_run, until, len(runs) - 1 - i)) for i, (at, until) in enumerate(runs)
        ]
        if len(runs) >= 2:
            credit_at = _at(_workday_after(runs[-2][0].astimezone(OFFICE_TZ).date(), 5), 11.25, OFFICE_TZ)
            if credit_at < now:
                steps.append((credit_at, self._billing_credit))
        for day in _days(runs[0][0].astimezone(OFFICE_TZ).date() + timedelta(days=1), today):
            if _is_workday(day) and _at(day, 8.25, OFFICE_TZ) < now:
                steps.append((_at(day, 8.25, OFFICE_TZ), partial(self._billing_bank_day, day)))
        steps += self._quote_steps(today)
        drafts_at = max(_office_moment_before(now, rng, days=1), runs[-1][0] + timedelta(hours=1))
        steps.append((min(drafts_at, now - timedelta(minutes=5)), self._billing_drafts))
        story = Story(key=first_key, now=now)
        for at, fn in sorted(steps, key=lambda step: step[0]):
            story.add(at, fn)
        return [story, *self._abroad_stories(first_key + 1, rng)]

    def _abroad_stories(self, first_key: int, rng: random.Random) -> list[Story]:
        """The two jobs in Venlo: booked a few days ahead, a four-hour drive there and back, two stints of
        work on site with the parts, completed that evening and closed the next morning."""
        stories = []
        today = self.now.astimezone(OFFICE_TZ).date()
        site = self.abroad.site
        zone = ZoneInfo(site.timezone)
        for n, (job, back) in enumerate(zip(ABROAD_JOBS, ((29, 38), (4, 7)), strict=True)):
            title, description, resolution, eq_name, parts, (first_minutes, second_minutes) = job
            equipment = self.abroad.equipment[eq_name]
            plan = _Plan(
                Status.CLOSED,
                equipment=equipment,
                site=site,
                category="AHUs" if n == 0 else "Pumps",
                corrective=(title, description, resolution, parts),
                type="corrective" if n == 0 else "inspection",
                priority=Priority.HIGH if n == 0 else Priority.NORMAL,
                technician="technician4",
            )
            story = Story(key=first_key + n, now=self.now)
            story.state.update(plan=plan, lead="technician4", helper=None)
            day = _workday_after(today, -rng.randint(*back))
            start = _at(day, 8.5, zone)
            booked = _at(_workday_after(day, -rng.randint(2, 5)), rng.uniform(9, 11.5), OFFICE_TZ)
            drive = timedelta(minutes=rng.choice((225, 240, 255)))
            first_end = start + timedelta(minutes=first_minutes)
            second = first_end + timedelta(minutes=30)
            second_end = second + timedelta(minutes=second_minutes)
            home = second_end + timedelta(minutes=10) + drive
            story.add(booked, partial(self._create, story, start))
            story.add(booked, partial(self._assign, story, start, first_minutes + second_minutes + 30))
            story.add(booked, partial(self._transition, story, "dispatcher", Status.PLANNED))
            story.add(start, partial(self._time, story, "technician4", start - drive, start, TimeKind.TRAVEL))
            story.add(start, partial(self._transition, story, "technician4", Status.IN_PROGRESS))
            story.add(first_end, partial(self._time, story, "technician4", start, first_end, TimeKind.LABOUR))
            story.add(first_end, partial(self._abroad_parts, story, parts))
            story.add(second_end, partial(self._time, story, "technician4", second, second_end, TimeKind.LABOUR))
            story.add(home, partial(self._time, story, "technician4", home - drive, home, TimeKind.TRAVEL))
            story.add(
                home, partial(self._transition, story, "technician4", Status.COMPLETED, resolution_notes=resolution)
            )
            story.add(
                _at(_workday_after(day), 9.75, OFFICE_TZ), partial(self._transition, story, "dispatcher", Status.CLOSED)
            )
            stories.append(story)
        return stories

    def _abroad_parts(self, story: Story, parts: list[tuple[str, str]]) -> None:
        for sku, quantity in parts:
            usage = wo_services.part_usage_create(
                actor=self.actors["technician4"],
                work_order_id=self._wo(story).pk,
                part_id=self.parts[sku].pk,
                quantity=quantity,
            )
            self._stamp(usage)

    def _touch(self, invoice: Invoice) -> None:
        self.invoice_moments.setdefault(invoice.pk, []).append(clock.now())

    def _billing_run(self, until: date, age: int) -> None:
        """The monthly run (``age`` 0: the latest): invoice the work closed up to ``until``, issue every draft,
        and plan how each invoice gets paid."""
        accountant, rng = self.actors["accountant"], self.billing_rng
        today = clock.now().astimezone(OFFICE_TZ).date()
        issued = []
        for draft in billing.invoice_closed_work(actor=accountant, until=until):
            self._touch(draft)
            issued.append(billing.invoice_issue(actor=accountant, invoice_id=draft.pk))
            self._touch(issued[-1])
        by_name = {i.client.name: i for i in issued}
        ordered = sorted(issued, key=lambda i: i.client.name)

        def pick(preferred: str, *taken) -> Invoice | None:
            if preferred in by_name and by_name[preferred] not in taken:
                return by_name[preferred]
            return next((i for i in ordered if i not in taken), None)

        unpaid, part = set(), None
        if age == 1:
            part = pick("Elbtal Immobilien AG")
            overdue = pick("Kessler Pharma GmbH", part)
            credited = pick("Brandt & Söhne Logistik GmbH", part, overdue)
            unpaid = {i.pk for i in (overdue, credited) if i is not None}  # the credited one pays after its credit
            self.credit_target = credited.pk if credited is not None else None
        for invoice in issued:
            if invoice.pk in unpaid:
                continue
            if age == 0:  # the latest run: the hotel pays within a week, the others in their time (some not yet)
                days = 6 if invoice.client.name == "Hotel Alsterblick GmbH" else rng.randint(10, 30)
            else:
                days = rng.randint(8, 25)
            self.payment_plan.append(
                (_on_workday(today + timedelta(days=days)), invoice.pk, "part" if invoice == part else "full")
            )

    def _billing_bank_day(self, day: date) -> None:
        """The morning's bank statement: the transfers planned for ``day`` are recorded against their invoices."""
        accountant = self.actors["accountant"]
        for paid_on, invoice_id, share in self.payment_plan:
            if paid_on != day:
                continue
            invoice = Invoice.objects.select_related("client").get(pk=invoice_id)
            if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID) or invoice.amount_due <= 0:
                continue
            amount = invoice.amount_due
            if share == "part":  # a round first instalment of about half
                amount = max(Decimal(100), (amount / 2).quantize(Decimal(100)))
                amount = min(amount, invoice.amount_due - 1)
            payment = billing.payment_record(
                actor=accountant,
                invoice_id=invoice.pk,
                amount=amount,
                paid_on=day,
                reference=f"{invoice.number} {invoice.client.name}"[:200],
            )
            self._stamp(payment)
            self._touch(invoice)

    def _billing_credit(self) -> None:
        """Half an hour of waiting time charged by mistake: a credit note for 0.5 h of the first chargeable
        labour line, issued; the client then pays what is left."""
        if self.credit_target is None:
            return
        line = (
            InvoiceLine.objects.filter(
                invoice_id=self.credit_target, kind="labour", quantity__gt=Decimal("0.5"), discount_percent__lt=100
            )
            .order_by("position", "id")
            .first()
        )
        if line is None:
            return
        accountant = self.actors["accountant"]
        note = billing.credit_note_create(
            actor=accountant,
            invoice_id=self.credit_target,
            reason="Waiting time at the gate (30 minutes) was charged by mistake.",
            lines=[(line.pk, "0.5")],
        )
        self._touch(note)
        note = billing.invoice_issue(actor=accountant, invoice_id=note.pk)
        self._touch(note)
        self._touch(Invoice.objects.get(pk=self.credit_target))
        today = clock.now().astimezone(OFFICE_TZ).date()
        self.payment_plan.append(
            (_on_workday(today + timedelta(days=self.billing_rng.randint(3, 8))), self.credit_target, "full")
        )

    def _billing_drafts(self) -> None:
        """Drafts for the key client and the client in Venlo; two manual lines on the key client's."""
        accountant = self.actors["accountant"]
        key = self.clients[CLIENT_USER_CLIENT]
        drafts = billing.invoice_closed_work(actor=accountant, client_ids=[key.pk, self.abroad.client.pk])
        for draft in drafts:
            self._touch(draft)
        draft = next((d for d in drafts if d.client_id == key.pk and d.document_type == DocumentType.INVOICE), None)
        if draft is None:
            return
        for description, quantity, unit, price, tax in DRAFT_EXTRAS:
            billing.invoice_line_add(
                actor=accountant,
                invoice_id=draft.pk,
                data={
                    "description": description,
                    "quantity": quantity,
                    "unit": unit,
                    "unit_price": price,
                    "tax_rate_id": self.tax_rates[tax].pk,
                    "service_date": clock.now().astimezone(OFFICE_TZ).date(),
                },
            )
        self._touch(draft)

    def _quote_steps(self, today: date) -> list[tuple[datetime, Callable[[], None]]]:
        """When each quote of ``QUOTES`` was made, sent, decided and converted (working days before today)."""
        steps: list[tuple[datetime, Callable[[], None]]] = []
        made = {"accepted": (-16, 10.5), "rejected": (-24, 11.0), "sent": (-3, 15.0), "draft": (-1, 11.5)}
        for n, (*_spec, outcome) in enumerate(QUOTES):
            back, hour = made[outcome]
            day = _workday_after(today, back)
            steps.append((_at(day, hour, OFFICE_TZ), partial(self._quote_make, n, send=outcome != "draft")))
            if outcome == "accepted":
                decided = _workday_after(day, 2)
                steps.append((_at(decided, 16.5, OFFICE_TZ), partial(self._quote_decide, n, accept=True)))
                steps.append((_at(_workday_after(decided), 9.25, OFFICE_TZ), partial(self._quote_invoice, n)))
            elif outcome == "rejected":
                steps.append(
                    (_at(_workday_after(day, 4), 14.25, OFFICE_TZ), partial(self._quote_decide, n, accept=False))
                )
        return steps

    def _quote_touch(self, quote) -> None:
        self.quote_moments.setdefault(quote.pk, []).append(clock.now())

    def _quote_make(self, n: int, *, send: bool) -> None:
        """A blank quote for a client with its lines (parts and hours priced as the invoice would), sent to the
        client's primary contact unless it stays a draft. Its e-mail goes nowhere: loading sends no mail."""
        client_name, title, introduction, lines, _outcome = QUOTES[n]
        dispatcher = self.actors["dispatcher"]
        quote = quote_services.quote_create(
            actor=dispatcher, client_id=self.clients[client_name].pk, title=title, introduction=introduction
        )
        for kind, what, quantity, price in lines:
            data = {"kind": kind, "quantity": quantity}
            if kind == "part":
                data["part_id"] = self.parts[what].pk
            else:
                data["description"] = what
            if price:
                data["unit_price"] = price
            quote_services.quote_line_add(actor=dispatcher, quote_id=quote.pk, data=data)
        if send:
            with _mail_kept_back():
                quote = quote_services.quote_send(actor=dispatcher, quote_id=quote.pk)
        self.quotes[n] = quote.pk
        self._quote_touch(quote)

    def _quote_decide(self, n: int, *, accept: bool) -> None:
        """The client's contact decides on the public page (no account): accepts with a drawn signature, or
        rejects with a reason."""
        quote = Quote.objects.select_related("client").get(pk=self.quotes[n])
        contact = Contact.objects.filter(client=quote.client).order_by("-is_primary", "id").first()
        name = contact.name if contact else quote.client.name
        if accept:
            quote = quote_services.quote_accept(
                token=quote.public_token, signed_by_name=name, signature_png=self._signature, ip_address="198.51.100.23"
            )
        else:
            quote = quote_services.quote_reject(
                token=quote.public_token, reason=QUOTE_REJECTION, name=name, ip_address="203.0.113.77"
            )
        self._quote_touch(quote)

    def _quote_invoice(self, n: int) -> None:
        """The accepted supply is delivered: the quote becomes a draft invoice, issued at once; paid a week later."""
        accountant = self.actors["accountant"]
        quote = quote_services.quote_convert(actor=accountant, quote_id=self.quotes[n], target="invoice")
        self._quote_touch(quote)
        invoice = billing.invoice_issue(actor=accountant, invoice_id=quote.converted_invoice_id)
        self._touch(invoice)
        today = clock.now().astimezone(OFFICE_TZ).date()
        self.payment_plan.append((_on_workday(today + timedelta(days=7)), invoice.pk, "full"))

    def _billing_finish(self) -> None:
        """Invoices created and last changed at their replayed moments. Only these two bookkeeping columns
        move, through the plain base manager: the invoice manager refuses any change to an issued invoice
        but its payment state."""
        for pk, moments in self.invoice_moments.items():
            Invoice._base_manager.filter(pk=pk).update(created_at=min(moments), updated_at=max(moments))
        for pk, moments in self.quote_moments.items():
            Quote._base_manager.filter(pk=pk).update(created_at=min(moments), updated_at=max(moments))

    # --- afterwards: move Django's auto_now stamps into the replayed past -------------------------

    def _finish_sla(self) -> None:
        """SLA clocks and escalations as of the replayed past; the escalations count as sent then.

        A clock was last changed at its latest event; an escalation was recorded when its threshold
        passed (the scan runs every minute) and mailed to the dispatcher right after, so loading the
        demo queues no e-mail about its history.
        """
        oid = self.org.pk
        clocks = list(SlaClock.objects.filter(organization_id=oid))
        for c in clocks:
            # (a preventive work order's clocks start at its due instant, which may be ahead: not updated then)
            c.updated_at = min(
                max(t for t in (c.started_at, c.paused_since, c.met_at, c.breached_at) if t is not None), self.now
            )
        SlaClock.objects.bulk_update(clocks, ["updated_at"], batch_size=500)
        by_key = {(c.work_order_id, c.target, c.cycle): c for c in clocks}
        dispatcher = [f"dispatcher@{EMAIL_DOMAIN}"]
        notes = list(SlaNotification.objects.filter(organization_id=oid))
        for n in notes:
            c = by_key[(n.work_order_id, n.target, n.cycle)]
            at = (c.at_risk_at if n.level == "at_risk" else c.breached_at) or c.breached_at or c.updated_at
            n.created_at = min(at + timedelta(seconds=30), self.now)
            n.sent_at, n.recipients, n.attempts = n.created_at, dispatcher, 1
        SlaNotification.objects.bulk_update(notes, ["created_at", "sent_at", "recipients", "attempts"], batch_size=500)

    def _finish(self, stories: list[Story]) -> None:
        oid = self.org.pk
        events = WorkOrderEvent.objects.filter(work_order=OuterRef("pk")).order_by()
        WorkOrder.objects.filter(organization_id=oid).update(
            created_at=Subquery(events.filter(kind=EventKind.CREATED).values("recorded_at")[:1]),
            updated_at=Subquery(events.values("work_order").annotate(last=Max("recorded_at")).values("last")[:1]),
        )
        for model, pk, at in self.stamps:
            if model is WorkRequest and at is None:  # decided: updated when decided
                WorkRequest.objects.filter(pk=pk).update(updated_at=models.F("decided_at"))
            elif model is WorkRequest:
                WorkRequest.objects.filter(pk=pk).update(created_at=at, updated_at=at)
            else:
                model.objects.filter(pk=pk).update(created_at=at)
        setup = self.setup_time
        for model in (
            Client,
            Contact,
            Site,
            EquipmentCategory,
            Equipment,
            Part,
            WorkOrderTemplate,
            BusinessCalendar,
            SlaPolicy,
            PartCategory,
            TaxRate,
            RateClass,
            PriceList,
            ServiceContract,
        ):
            model.objects.filter(organization_id=oid).update(created_at=setup, updated_at=setup)
        BillingSettings.objects.filter(organization_id=oid).update(updated_at=setup)
        self._billing_finish()
        self._finish_sla()
        Membership.objects.filter(organization_id=oid).update(created_at=setup)
        ChangeRecord.objects.filter(organization_id=oid).update(at=setup)
        self._pm_finish()
        Organization.objects.filter(pk=oid).update(created_at=setup)
        User.objects.filter(memberships__organization_id=oid).update(date_joined=setup)
