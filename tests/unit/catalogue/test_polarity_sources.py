"""Every judged measure's polarity is pinned to a statement made outside the catalogue (issue 17).

The metamorphic tests (tests/unit/engine/test_metamorphic.py) prove that the engine turns every
judgement when a polarity is reversed; they cannot notice a polarity that is wrong in the catalogue,
since they reverse whatever it says. This test does: each measure the engine judges (polarity
``high`` or ``low``) must agree with one of these, read here from the sources themselves, so that
reversing its polarity in its YAML file fails here (or in the golden test that pins it):

* LAIT's data dictionary (DfE), column ``Polarity``, for the LAIT measures;
* the same measure in that dictionary for the DfE and record-level measures that LAIT also
  publishes (``SAME_AS_LAIT``: re-referrals, second plans, exclusions, care leavers, ...);
* the seed's own words: ``High is good`` / ``Low is good`` on one of the indicator's seed lines
  (000:L233, L392, L434, L480, L687, L691);
* the seed's guidance and definitions on the indicator's own page ("A low figure is considered good
  performance", 000:L2529; "Low surplus place numbers are good", L6885; a target to reduce, L4912),
  cited line by line in :data:`STATED` (32 measures of 22 indicators);
* the seed's PAF bands: the blobs (5 = best) rise towards the high cut-offs (high is good) or the
  low ones (low is good) (000:L1393-1397);
* a golden rule case that turns with polarity (a printed improved / worsened, Improving / Not
  improving, a quartile position or RAG judged under the polarity, not strictly xfailed): the golden
  test fails when the polarity is reversed (checked by mutation for 1015HC: its four printed progress
  cases fail, docs/engine.md).

What no source pins is counted per framework (``PINNED_AT_LEAST``), with why in the comment above
it; a pin that disappears fails the count.
"""

from __future__ import annotations

import copy
import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

import cspa
from cspa.catalogue.load import load_catalogue
from tests.golden.cases import read_cases
from tests.seeds import SHARED, seed_lines

DICTIONARY = (
    Path(cspa.__file__).resolve().parent
    / "data"
    / "real"
    / "indicators"
    / "lait_data_dictionary.csv"
)

#: DfE and record-level measures that LAIT publishes too (the same definition), with the LAIT
#: measure and whether the LAIT measure is the complement (not in touch = 100 - in touch).
SAME_AS_LAIT: dict[str, tuple[str, bool]] = {
    "REREFERRALS_12M": ("ReReferral", False),
    "REC_REREFERRALS_12M": ("ReReferral", False),
    "CPP_SUBSEQUENT": ("PrevRegCPR", False),
    "REC_CPP_SUBSEQUENT": ("PrevRegCPR", False),
    "CPP_2YRS_PLUS": ("CPPlans2yrsActive", False),
    "REC_CPP_2YRS": ("CPPlans2yrsActive", False),
    "EXCL_TOTAL": ("TotPermEx", False),
    "EXCL_SPECIAL": ("SpecPermEx", False),
    "KS2_RWM_SCG": ("KS2RWM_Expected_STD", False),
    "KS4_ATT8_SCG": ("AVG_Attain8_Score", False),
    "REC_ASSESSMENTS_45D": ("Continue_Assess_Comp", False),
    "REC_CARE_LEAVERS_ACCOM": ("CareLeaverAcc", False),
    "REC_CARE_LEAVERS_EET": ("CareLeaverEET", False),
    "REC_CARE_LEAVERS_IN_TOUCH": ("CareLeavers_LA_NotInTouch", True),
    "REC_PLACED_20_MILES": ("LACDistance", False),
    "REC_PLACEMENTS_3PLUS": ("LACStable_2016on", False),
    "REC_LONG_TERM_STABILITY": ("LAC_LongStable%", False),
    # seed 000's measures that LAIT publishes today under the same definition (a measure of an
    # indicator is named ``code/measure``, a regular expression over the measure ids)
    "1047SC/conception_rate": ("Under18concep", False),
    "2001DT/ksi": ("RTA", False),
    "3091DE/permanent": ("PriPermEx", False),
    "3092DE/permanent": ("SecPermEx", False),
    "3034OF/attendance": ("PriTotAbs", True),  # attendance = 100 - overall absence
    "3035OF/attendance": ("SecTotAbs", True),
    "5045DE/eth_.*_neet_pct": ("16-17 NEET", False),
}


def _same_as_lait(code: str, measure: str) -> tuple[str, bool] | None:
    if code in SAME_AS_LAIT:
        return SAME_AS_LAIT[code]
    for key, target in SAME_AS_LAIT.items():
        ind, _, pattern = key.partition("/")
        if ind == code and pattern and re.fullmatch(pattern, measure):
            return target
    return None


#: Seed 000's own words on an indicator's direction, outside the "High/Low is good" lines its
#: catalogue entry cites: the guidance or definition of the indicator's page (``code`` or
#: ``code/measure-regex`` -> seed line, direction, the words on that line, checked against the seed
#: by :func:`test_stated_directions_are_on_their_lines`). A change or a difference from a comparator
#: of the same figure (``_change``, ``_region_diff``, ``vs_...``) turns with the figure, so it shares
#: the figure's direction. Only plain statements count ("is good", "good performance", a target to
#: reduce or raise); a hedged "may indicate" (2017SC, 000:L1166; 3085SC, L4152; 3106DE, L4621;
#: 6012SC, L6986) and a bare national target value (4021OF's 25%, L4981) are not read as a direction.
STATED: dict[str, tuple[int, str, str]] = {
    "1040NT/aged_under_18.*": (
        687,
        "high",
        "High is good - the number of under 18 substance misusers",
    ),
    "1040NT/yp_services.*": (
        691,
        "high",
        "High is good, suggesting that interventions for young people",
    ),
    "1047SC/pct_change_from_1998": (
        327,
        "low",
        "Progress in reducing conception rates amongst 15-17 year olds against the 1998 baseline "
        "would be represented by a negative figure",
    ),
    "2001DT/pct_change_on_baseline": (
        894,
        "low",
        "the number of children killed or seriously injured by 50%, by 2010 compared with the average for 1994-98",
    ),
    "2020SC": (1290, "high", "High scores indicate good performance"),
    "2052SC": (2529, "low", "A low figure is considered good performance"),
    "2054SC": (2590, "high", "A comparatively high figure is considered good performance"),
    "2058SC": (2737, "high", "A high figure is good performance"),
    "2060SC": (2892, "high", "A high figure indicates good performance"),
    "2067SC": (2468, "high", "a high figure is an indicator of good performance"),
    "2068SC": (2660, "high", "High figures are an indicator of good performance"),
    "2062YJ": (
        4912,
        "low",
        "The target is to reduce year on year, the number of first time entrants",
    ),
    "3061DE": (
        3779,
        "low",
        "to have any school not meeting the 2007 floor target is deemed to be a poor outcome",
    ),
    "3063DE/new_statements": (4706, "low", "Numbers of new statements should be reducing steadily"),
    "3071SC": (4226, "high", "A high figure is an indicator of good performance"),
    "3073SC": (4443, "high", "High figures indicate good performance"),
    "3080YJ": (
        4955,
        "high",
        "target to ensure that 90% of young offenders supervised by YOTs are in full time education",
    ),
    "3089DE": (6885, "low", "Low surplus place numbers are good"),
    "3090DE": (6925, "low", "Low surplus place numbers are good"),
    "3095DE": (4664, "low", "Numbers of statements should be reducing steadily over time"),
    "3097DE": (4792, "low", "There should be no permanent exclusions of pupils in special schools"),
    "6049DE": (7111, "low", "A lower percentage is better than a higher percentage"),
}


def _stated(code: str, measure: str) -> tuple[int, str] | None:
    for key, (line, direction, _) in STATED.items():
        ind, _, pattern = key.partition("/")
        if ind == code and (not pattern or re.fullmatch(pattern, measure)):
            return line, direction
    return None


#: golden fields whose printed value a rule decides under the polarity
TURNING = {
    "progress": {"improved", "worsened", "improving", "not improving"},
    "quartile_position": None,  # any printed position
    "quartile": None,
}

FLIP = {"high": "low", "low": "high"}


def _dictionary() -> dict[str, str]:
    with DICTIONARY.open(encoding="utf-8-sig", newline="") as f:
        out: dict[str, str] = {}
        for r in csv.DictReader(f):
            code = (r.get("Measure_short") or "").strip()
            if code and code not in out:  # the catalogue takes a code's first row
                out[code] = (r.get("Polarity") or "").strip().lower()
    return out


def _judged(cat=None) -> dict[tuple[str, str], tuple[str, str, object]]:
    """(indicator, measure) -> (framework, polarity, indicator) for every measure with a direction."""
    out = {}
    for code, ind in (cat or load_catalogue()).indicators.items():
        for mid in ind.measure_ids():
            pol = ind.resolved(mid).polarity.value
            if pol in FLIP:
                out[(code, mid)] = (ind.framework, pol, ind)
    return out


def _band_direction(bands) -> str | None:
    """high / low when the blobs rise only towards one end of the printed cut-offs."""
    from cspa.catalogue.models import parse_cutoff

    dirs = set()
    for b in bands:
        pts = [
            (parse_cutoff(c)[0], n)
            for c, n in zip(b.cutoffs, b.blobs, strict=True)
            if parse_cutoff(c) is not None and parse_cutoff(c)[0] is not None
        ]
        pts.sort()
        blobs = [n for _, n in pts]
        if len(set(blobs)) < 2:
            continue
        if blobs == sorted(blobs):
            dirs.add("high")
        elif blobs == sorted(blobs, reverse=True):
            dirs.add("low")
        else:
            dirs.add("middle")
    return dirs.pop() if len(dirs) == 1 else None


def _golden_pins() -> dict[str, set[str]]:
    """Indicator -> the golden rule fields that pin its polarity (cases not strictly xfailed)."""
    pins: dict[str, set[str]] = defaultdict(set)
    for c in read_cases("*.csv"):
        if c.xfail or c.field not in TURNING:
            continue
        wanted = TURNING[c.field]
        if wanted is None or c.expected.strip().lower() in wanted:
            pins[c.indicator].add(c.field)
    return pins


def _seed_statement(ind) -> str | None:
    lines = seed_lines()
    for n in ind.seed_lines or []:
        if 0 < n < len(lines):
            m = re.search(r"\b(High|Low) is good\b", lines[n])
            if m:
                return m.group(1).lower()
    return None


def pins(cat=None) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """(pinned: measure -> how, wrong: measure -> the disagreement) over every judged measure of
    the catalogue (the package's own unless given)."""
    lait = _dictionary()
    golden = _golden_pins()
    pinned, wrong = {}, {}
    for (code, mid), (fw, pol, ind) in _judged(cat).items():
        said = []  # (source, polarity it says)
        if fw == "lait" and lait.get(code) in FLIP:
            said.append(("LAIT dictionary", lait[code]))
        if (same := _same_as_lait(code, mid)) is not None:
            other, complement = same
            p = lait.get(other)
            if p in FLIP:
                said.append((f"LAIT dictionary ({other})", FLIP[p] if complement else p))
        if (stated := _seed_statement(ind)) is not None:
            said.append(("seed text", stated))
        if fw == "apa2008" and (defined := _stated(code, mid)) is not None:
            said.append((f"seed 000:L{defined[0]}", defined[1]))
        if (d := _band_direction(ind.resolved(mid).bands)) in FLIP:
            said.append(("PAF band blobs", d))
        for source, p in said:
            if p != pol:
                wrong[(code, mid)] = f"{source} says {p}, the catalogue {pol}"
        if said:
            pinned[(code, mid)] = ", ".join(s for s, _ in said)
        elif code in golden:
            pinned[(code, mid)] = "golden " + "/".join(sorted(golden[code]))
    return pinned, wrong


#: How many judged measures each framework has pinned, at least (a pin removed fails here). What is
#: not pinned has no statement of direction in any source cspa holds: the seeds print no "high/low is
#: good", direction in its guidance, band, progress glyph or quartile position for it (89 of seed
#: 000's 163: its attainment, attendance-change and school-inspection measures, 2061YJ's
#: re-offending, 1032OF, 1043SC, 2024SC, 2038SC, 3099DE, 3102DE, 4021OF, 5003OF, 5037SC, 6016SC, the hedged
#: ones STATED names), the 2011 profile's inspection shares, the 2006 letter's grades, four
#: quarterly measures, the adoption scorecard's A1 and A2), so its polarity is the catalogue's reading
#: of the definition; docs/engine.md lists the counts.
PINNED_AT_LEAST = {
    "lait": 308,
    "dfe_csc": 11,
    "records": 10,
    "apa2008": 74,
    "quarterly2008": 29,
}


@pytest.fixture(scope="module")
def result():
    if not (SHARED / "seeds").exists():
        pytest.skip("the seeds are not beside the checkout")
    return pins()


def test_no_source_contradicts_the_catalogue(result):
    _, wrong = result
    assert wrong == {}


def test_most_judged_measures_are_pinned(result):
    pinned, _ = result
    judged = _judged()
    by_fw: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, (fw, _, _) in judged.items():
        by_fw[fw][0] += 1
        by_fw[fw][1] += key in pinned
    print({fw: f"{p} of {n} pinned" for fw, (n, p) in sorted(by_fw.items())})
    assert by_fw["lait"][0] == by_fw["lait"][1]  # every LAIT measure, by its dictionary
    assert by_fw["dfe_csc"][0] == by_fw["dfe_csc"][1]  # every DfE measure, by LAIT's
    for key in SAME_AS_LAIT:
        code, _, pattern = key.partition("/")
        assert any(k[0] == code and re.fullmatch(pattern or ".*", k[1]) for k in pinned), key
    assert all(by_fw[fw][1] >= n for fw, n in PINNED_AT_LEAST.items()), dict(by_fw)


def test_stated_directions_are_on_their_lines():
    """Each of :data:`STATED`'s citations holds: the words are on the seed line it names, and the
    indicator exists in the catalogue with a judged measure the entry applies to."""
    if not (SHARED / "seeds").exists():
        pytest.skip("the seeds are not beside the checkout")
    lines = seed_lines()
    judged = _judged()
    for key, (line, _, words) in STATED.items():
        assert words in lines[line], f"{key}: 000:L{line} does not say {words!r}"
        code, _, pattern = key.partition("/")
        assert any(c == code and re.fullmatch(pattern or ".*", m) for c, m in judged), key


def test_a_reversed_polarity_is_caught(result):
    """Mutation check of the test itself: reverse one measure pinned by each kind of source (LAIT's
    dictionary, LAIT's for a record-level measure, the seed's words, the PAF blobs) in a copy of the
    catalogue, and the disagreement is reported."""
    shared = load_catalogue()  # cached for the whole process: changed only in a copy
    for code in ("ReReferral", "REC_CARE_LEAVERS_IN_TOUCH", "1029HC", "2022SC"):
        ind = shared.indicators[code]
        flipped = ind.model_copy(
            update={
                "polarity": type(ind.polarity)(FLIP[ind.polarity.value]),
                "measures": [
                    m
                    if m.polarity is None or m.polarity.value not in FLIP
                    else m.model_copy(update={"polarity": type(m.polarity)(FLIP[m.polarity.value])})
                    for m in ind.measures
                ],
            }
        )
        cat = copy.copy(shared)
        cat.indicators = {**shared.indicators, code: flipped}
        _, wrong = pins(cat)
        assert any(k[0] == code for k in wrong), code
    assert pins()[1] == {}, "the shared catalogue is unchanged"
