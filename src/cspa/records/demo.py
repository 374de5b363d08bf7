"""The demo's record-level returns: the FAKE SSDA903 and CIN census returns shipped in data/real,
validated, loaded and turned into the ``records`` framework's figures.

They are generated test fixtures (no real child); the demo files them under its authority, Luton
(821), because the 903 CSV extracts name no authority and the CIN file's LEA 975 is no English
authority's number. Every figure's source says FAKE, and each figure's note names its return.
The 903 return is the CSV extract set without ``placed_for_adoption_errors.csv`` (a copy of the
placed-for-adoption table broken on purpose); the rule file's blocking rules decide what would stop
the load, and the fixtures' deliberate errors are kept as findings (``record_finding``).
"""

from __future__ import annotations

import time

from cspa.catalogue.areas import DATA
from cspa.records.cin import read_cin
from cspa.records.load import compute_to_store, load_return
from cspa.records.rules import validate
from cspa.records.ssda903 import read_903
from cspa.store.database import Store

DEMO_LA = "821"
FAKE_903 = DATA / "real" / "ssda903"
FAKE_CIN = DATA / "real" / "cin_census" / "fake_CIN_data.xml"
FILES_903 = [
    "header.csv",
    "episodes.csv",
    "uasc.csv",
    "reviews.csv",
    "missing.csv",
    "oc2.csv",
    "oc3.csv",
    "ad1.csv",
    "placed_for_adoption.csv",
    "previous_permanence.csv",
    "sw_episodes.csv",
    "DoLo.csv",
]
LICENCE = "MIT (fake test data from data-to-insight's DfE-rules validators); not real children"


def load_demo_returns(store: Store) -> list[dict]:
    t0 = time.perf_counter()
    out = []
    for ret, source in (
        (
            read_903([FAKE_903 / f for f in FILES_903], la=DEMO_LA),
            "FAKE SSDA903 return (data-to-insight csc-validator-be-903 test fixtures), filed under Luton for the demo",
        ),
        (
            read_cin(FAKE_CIN, la=DEMO_LA),
            "FAKE CIN census return (data-to-insight csc-validator-be-cin test fixture), filed under Luton for the demo",
        ),
    ):
        v = validate(ret)
        rid = load_return(store, ret, v, source=source, licence=LICENCE, loaded_by="cspa demo")
        out.append(
            {
                "name": f"{ret.kind} return {rid}",
                "source": source,
                "rows": sum(ret.rows().values()),
                "findings": len(v.findings),
                "period": ret.period_label,
            }
        )
    res = compute_to_store(store)
    out.append(
        {
            "name": "records measures",
            "source": "cspa.records",
            "rows": sum(r.rows for r in res),
            "seconds": round(time.perf_counter() - t0, 2),
        }
    )
    return out
