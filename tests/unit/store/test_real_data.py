"""The real public data (data/real) loads into a store with its figures, statuses and provenance intact.

One module-scoped in-memory store is loaded once with :func:`cspa.store.real_data.load_real_data`;
every test reads from it. Expected figures are quoted from the data README
(``shared/data/real/README.md``) and seed 000 (exclusions 3091DE/3092DE, 000:L3938-3991).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cspa.catalogue.areas import load_areas
from cspa.catalogue.lait import DICTIONARY, OUT_DIR, generate_lait_catalogue
from cspa.store.database import Store
from cspa.store.real_data import (
    EXCLUSIONS_VINTAGE,
    LAIT_FILE,
    OGL,
    load_real_data,
)

pytestmark = pytest.mark.slow

LUTON = "821"
# Luton's NFER 2007 statistical neighbours as printed in seed 000 appendix 1 (7001OF, 000:L7139-7148);
# used only if data/neighbours/seed000_groups.csv (group nfer_2007) is not in the store.
NFER_2007_LUTON = [
    "Birmingham",
    "Bradford",
    "Slough",
    "Enfield",
    "Coventry",
    "Walsall",
    "Derby",
    "Sandwell",
    "Blackburn with Darwen",
    "Peterborough",
]


@pytest.fixture(scope="module")
def loaded():
    store = Store.open(":memory:")
    store.sync_reference()
    summary = load_real_data(store)
    yield store, {s["name"]: s for s in summary}
    store.close()


@pytest.fixture(scope="module")
def q(loaded):
    store, _ = loaded

    def run(sql: str, params: list | None = None) -> list[tuple]:
        return store.con.execute(sql, params or []).fetchall()

    return run


def one(rows: list[tuple]):
    assert len(rows) == 1, rows
    return rows[0]


# ---------------------------------------------------------------------------------- row counts

EXPECTED = {
    # name: (rows in the file, rows loaded, rows skipped)
    "LAIT base data set": (641_070, 633_360, 7_710),
    "cla_number_and_rate_per_10k_children": (2_505, 4_950, 30),
    "b1_children_in_need_2013_to_2025": (2_132, 4_212, 26),
    "c1_children_in_need_referrals_and_rereferrals_2013_to_2025": (2_132, 4_212, 26),
    "d3_cpps_subsequent_plan_2013_to_2025": (2_132, 2_106, 26),
    "d5_cpps_at31march_by_duration_2013_to_2025": (2_132, 2_106, 26),
    "ks2_la": (3_444, 3_402, 42),
    "ks4_la": (3_444, 3_402, 42),
    "ons_mid-year_population_estimates_2012_to_2024": (2_132, 2_106, 26),
    "children in need rates per 10,000 (derived)": (2_132, 4_212, 26),
    "exclusions 2006/07-2016/17": (7_122, 14_064, 90),
    "Ofsted LA inspections 2009-2023": (156, 2_273, 5),
    "Ofsted ILACS history and outcomes at 31 March 2025": (424, 424, 0),
    "Ofsted provider outcomes at 31 March 2023": (3_546, 3_546, 0),
}


def test_every_source_is_summarised_with_counts_vintage_and_licence(loaded):
    _, summary = loaded
    assert set(summary) == set(EXPECTED)
    for name, (rows_in, rows_loaded, rows_skipped) in EXPECTED.items():
        s = summary[name]
        assert (s["rows_in_file"], s["rows_loaded"], s["rows_skipped"]) == (
            rows_in,
            rows_loaded,
            rows_skipped,
        ), name
        assert sum(s["skipped"].values()) == s["rows_skipped"]
        assert s["licence"] == OGL
        assert s["vintage"]


def test_lait_skips_only_the_year_0_rows_and_the_london_sub_regions(loaded):
    _, summary = loaded
    assert summary["LAIT base data set"]["skipped"] == {
        "CINPermExclusion: Years '0' is not a period": 170,
        "LA Number 987 (London (Inner)) is not an area of the registry": 3_770,
        "LA Number 988 (London (Outer)) is not an area of the registry": 3_770,
    }


def test_the_store_holds_what_the_summaries_say(loaded, q):
    _, summary = loaded
    for s in summary.values():
        if "table" in s:
            continue
        for load_id in s["load_ids"]:
            (n,) = one(q("SELECT count(*) FROM observation WHERE load_id = ?", [load_id]))
            (logged,) = one(q("SELECT rows FROM load_log WHERE load_id = ?", [load_id]))
            assert n == logged == s["rows_loaded"], s["name"]
    assert one(q("SELECT count(*) FROM inspection_la_history")) == (2_273,)
    assert one(q("SELECT count(*) FROM inspection_ilacs WHERE dataset = 'history'")) == (271,)
    assert one(
        q("SELECT count(*) FROM inspection_ilacs WHERE dataset = 'latest_at_31_march_2025'")
    ) == (153,)
    assert one(q("SELECT count(*) FROM inspection_provider")) == (3_546,)
    assert one(q("SELECT DISTINCT licence FROM load_log")) == (OGL,)


def test_load_log_names_the_original_files(q):
    files = {Path(f).name for (f,) in q("SELECT file FROM load_log")}
    assert LAIT_FILE.name in files and "clean_la_data.csv" in files
    # the log names the shipped files themselves, not a temporary copy made while loading
    data = str(Path(__import__("cspa").__file__).resolve().parent / "data")
    assert all(str(Path(f).resolve()).startswith(data) for (f,) in q("SELECT file FROM load_log"))


# ---------------------------------------------------------------------------------- Luton figures


def test_luton_cla_rate_2025_from_dfe_and_from_lait(q):
    # README: Luton, CLA on 31 March, 2025 = 359 children, rate 58 per 10,000.
    value, num, den, label = one(
        q(
            """SELECT value, numerator, denominator, period_label FROM observation_current
                                      WHERE indicator = 'CLA_31MAR' AND measure = 'rate' AND area = ?
                                        AND period = 'FY2024-25'""",
            [LUTON],
        )
    )
    assert (value, num, den, label) == (58, 359, 62_280, "2025")
    assert one(
        q(
            """SELECT value FROM observation_current WHERE indicator = 'CLA_31MAR' AND measure = 'count'
                    AND area = ? AND period = 'FY2024-25'""",
            [LUTON],
        )
    ) == (359,)
    assert one(
        q(
            """SELECT value FROM observation_current
                    WHERE indicator = 'LAC' AND area = ? AND period_label = '2025'""",
            [LUTON],
        )
    ) == (58,)


def test_luton_lait_lac_2016_to_2025(q):
    rows = q(
        """SELECT period_label, value FROM observation_current WHERE indicator = 'LAC' AND area = ?
                ORDER BY period_start""",
        [LUTON],
    )
    assert rows == [
        (str(y), v)
        for y, v in zip(range(2016, 2026), [68, 64, 66, 70, 66, 64, 65, 71, 62, 58], strict=True)
    ]


def test_derived_cin_rate_matches_lait(q):
    # CIN at 31 March 2025 / ONS mid-2024 0-17 population x 10,000 = 1990 / 62280 = 319.5 (LAIT CIN 2025).
    derived = one(
        q(
            """SELECT value, numerator, denominator FROM observation_current WHERE indicator = 'CIN_31MAR'
                       AND measure = 'rate' AND area = ? AND period = 'FY2024-25'""",
            [LUTON],
        )
    )
    assert derived == (319.5, 1_990, 62_280)
    assert one(
        q(
            """SELECT value FROM observation_current WHERE indicator = 'CIN' AND area = ?
                    AND period_label = '2025'""",
            [LUTON],
        )
    ) == (319.5,)


# ---------------------------------------------------------------------------------- suppression


def test_lait_suppression_markers_stay_statuses(q):
    # bds_long_0.parquet: Luton, PriTotAbs, 2020 = '-'.
    assert one(
        q(
            """SELECT value, status FROM observation_current WHERE indicator = 'PriTotAbs' AND area = ?
                    AND period_label = '2020'""",
            [LUTON],
        )
    ) == (None, "-")
    raw = duckdb.sql(f"""SELECT count(*) FROM read_parquet('{LAIT_FILE}')
                         WHERE trim("Values") = '-' AND "Years" <> '0' AND "LA Number" NOT IN (987, 988)""").fetchall()[
        0
    ][0]
    loaded = one(
        q("""SELECT count(*) FROM observation_current o JOIN load_log l USING (load_id)
                      WHERE l.format = 'lait' AND o.status = '-' AND o.value IS NULL""")
    )[0]
    assert loaded == raw > 90_000


@pytest.mark.parametrize(
    ("indicator", "measure", "area", "period", "status"),
    [
        # d5 file, Luton 2025: 2_years_or_more = c, 2_years_or_more_percent = c
        ("CPP_2YRS_PLUS", "value", LUTON, "FY2024-25", "c"),
        # ks2_la.csv, Luton 202425, CLA 12 months at 31 March: t_rwm_met_expected_standard = c
        ("KS2_RWM_SCG", "cla", LUTON, "AY2024-25", "c"),
        # cla file, Cumbria (909) 2025: discontinued authority, rate z
        ("CLA_31MAR", "rate", "909", "FY2024-25", "z"),
        # clean_la_data.csv, Luton 201617 Primary: perm_excl = x
        ("3091DE", "permanent", LUTON, "AY2016-17", "x"),
        # clean_la_data.csv, Bedford (822) 200809 Total: rates '.' (headcount 0)
        ("EXCL_TOTAL", "fixed", "822", "AY2008-09", "."),
    ],
)
def test_ees_and_exclusion_suppression_codes_stay_statuses(
    q, indicator, measure, area, period, status
):
    assert one(
        q(
            """SELECT value, numerator, status FROM observation_current WHERE indicator = ? AND measure = ?
                    AND area = ? AND period = ?""",
            [indicator, measure, area, period],
        )
    ) == (None, None, status)


def test_no_suppressed_cell_became_a_number(q):
    assert one(
        q("SELECT count(*) FROM observation WHERE status IS NOT NULL AND value IS NOT NULL")
    ) == (0,)
    statuses = {s for (s,) in q("SELECT DISTINCT status FROM observation WHERE status IS NOT NULL")}
    assert {"-", "x", "c", "z", "u", "."} <= statuses


def test_zero_denominators_keep_z_and_no_ratio_inputs(q):
    # d3: 6 rows with CPP_start = 0, CPP_subsequent_percent = z (0/0 is not a rate).
    rows = q("""SELECT status, numerator, denominator FROM observation_current
                WHERE indicator = 'CPP_SUBSEQUENT' AND status = 'z'""")
    assert rows and all(r == ("z", None, None) for r in rows)
    assert one(q("SELECT count(*) FROM observation WHERE denominator = 0")) == (0,)


# ---------------------------------------------------------------------------------- exclusions, seed 000


def _nfer_2007_luton(q) -> list[str]:
    areas = load_areas()
    printed = [areas.resolve(n).code for n in NFER_2007_LUTON]
    codes = [
        c
        for (c,) in q(
            """SELECT neighbour_code FROM neighbour WHERE grp = 'nfer_2007' AND la_code = ?
                                ORDER BY rank""",
            [LUTON],
        )
    ]
    if codes:  # the group as shipped in data/neighbours/seed000_groups.csv
        assert codes == printed
        return codes
    return printed


@pytest.mark.golden
@pytest.mark.parametrize(
    ("indicator", "measure", "luton", "sn"),
    [
        ("3091DE", "fixed", 1.18, 1.03),  # 000:L3942 fixed 2007: 1.18% / SN 1.03%
        ("3092DE", "permanent", 0.14, 0.29),  # 000:L3990 permanent 2007: 0.14% / SN 0.29%
    ],
)
def test_2007_exclusions_and_sn_medians_from_the_loaded_data(q, indicator, measure, luton, sn):
    neighbours = _nfer_2007_luton(q)
    assert len(neighbours) == 10
    median, n = one(
        q(
            """SELECT round(median(value), 2), count(value) FROM observation_current
                         WHERE indicator = ? AND measure = ? AND period = 'AY2006-07'
                           AND area IN (SELECT unnest(?))""",
            [indicator, measure, neighbours],
        )
    )
    assert (median, n) == (sn, 10)
    assert one(
        q(
            """SELECT value FROM observation_current WHERE indicator = ? AND measure = ? AND area = ?
                    AND period = 'AY2006-07'""",
            [indicator, measure, LUTON],
        )
    ) == (luton,)


def test_exclusions_vintage_and_pre_2009_authorities(q):
    assert {
        v
        for (v,) in q(
            "SELECT DISTINCT vintage FROM observation WHERE indicator IN ('3091DE', '3092DE')"
        )
    } == {EXCLUSIONS_VINTAGE}
    # Bedfordshire (820) and Cheshire (875) before the 2009 reorganisation; 150 LAs in 2006/07.
    assert one(
        q("""SELECT count(DISTINCT area) FROM observation_current o JOIN area a ON a.code = o.area
                    WHERE o.indicator = '3091DE' AND o.period = 'AY2006-07' AND a.type = 'la'""")
    ) == (150,)
    assert (
        one(
            q("""SELECT value, numerator, denominator FROM observation_current WHERE indicator = '3092DE'
                    AND measure = 'fixed' AND area = '820' AND period = 'AY2006-07'""")
        )
        is not None
    )


# ---------------------------------------------------------------------------------- inspections


def test_ilacs_latest_outcomes_for_153_authorities(q):
    rows = q("""SELECT overall_grade, overall_label, count(*) FROM inspection_ilacs
                WHERE dataset = 'latest_at_31_march_2025' GROUP BY ALL ORDER BY 1""")
    assert rows == [
        (1, "Outstanding", 36),
        (2, "Good", 67),
        (3, "Requires improvement to be good", 31),
        (4, "Inadequate", 19),
    ]
    assert one(
        q("""SELECT count(DISTINCT la_code), count(*) FILTER (WHERE la_code IS NULL) FROM inspection_ilacs
                    WHERE dataset = 'latest_at_31_march_2025'""")
    ) == (153, 0)
    # README: Luton E06000032, inspected 2022-07-11: Requires improvement to be good.
    assert one(
        q(
            """SELECT ons_code, CAST(inspection_date AS VARCHAR), overall_grade FROM inspection_ilacs
                    WHERE dataset = 'latest_at_31_march_2025' AND la_code = ?""",
            [LUTON],
        )
    ) == ("E06000032", "2022-07-11", 3)


def test_inspection_history_resolves_authorities_by_era(q):
    # Dorset: the county (835) no longer exists; the unitary Dorset (838) is current.
    rows = set(
        q("SELECT DISTINCT la_status, la_code FROM inspection_la_history WHERE la_name = 'Dorset'")
    )
    assert rows == {("no longer exists", "835"), ("current", "838")}
    assert one(q("SELECT count(*) FROM inspection_la_history WHERE la_code IS NULL")) == (0,)
    assert {g for (g,) in q("SELECT DISTINCT grade FROM inspection_la_history")} == {1, 2, 3, 4}


def test_provider_outcomes_at_31_march_2023(q):
    # README: overall grades Good 2,447, Requires improvement 558, Outstanding 468, Inadequate 73.
    rows = q("SELECT overall_grade, count(*) FROM inspection_provider GROUP BY 1 ORDER BY 1")
    assert rows == [(1, 468), (2, 2_447), (3, 558), (4, 73)]
    assert one(
        q("SELECT count(*) FROM inspection_provider WHERE provision_type = 'Children''s home'")
    ) == (2_814,)
    assert one(q("SELECT count(*) FROM inspection_provider WHERE la_code IS NULL")) == (0,)


# ---------------------------------------------------------------------------------- LAIT catalogue


def test_lait_catalogue_regenerates_identically(tmp_path):
    written = generate_lait_catalogue(DICTIONARY, tmp_path)
    assert len(written) == 434
    shipped = sorted(OUT_DIR.glob("*.yaml"))
    assert [p.name for p in shipped] == sorted(p.name for p in written)
    for p in shipped:
        assert p.read_text(encoding="utf-8") == (tmp_path / p.name).read_text(encoding="utf-8"), (
            p.name
        )
    dup_notes = sum("lists this code twice" in p.read_text(encoding="utf-8") for p in written)
    assert dup_notes == 14
