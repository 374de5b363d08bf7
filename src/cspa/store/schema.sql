-- cspa store schema (DuckDB), version 2 (meta.schema_version; cspa.store.database.SCHEMA_VERSION).
-- A change here is a new version with a migration in cspa.store.database.MIGRATIONS.
-- The store is the only module that writes here.
-- Observations are long form; every load is logged, and a newer load of the same key
-- supersedes the current row without deleting it, so the history of vintages is queryable.

CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE IF NOT EXISTS area (
    code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, type VARCHAR NOT NULL,
    dfe_code VARCHAR, ons_code VARCHAR, region_code VARCHAR, la_type VARCHAR,
    in_2008 BOOLEAN, in_2025 BOOLEAN, successors VARCHAR, lat DOUBLE, long DOUBLE,
    lait_number INTEGER, parent VARCHAR, note VARCHAR,
    -- schema 2: when the authority existed and the span DfE publishes figures for it over
    exists_from DATE, exists_until DATE, figures_from DATE, figures_until DATE
);

CREATE TABLE IF NOT EXISTS neighbour_group (
    grp VARCHAR PRIMARY KEY, name VARCHAR, period VARCHAR, source VARCHAR, licence VARCHAR
);

CREATE TABLE IF NOT EXISTS neighbour (
    grp VARCHAR NOT NULL, la_code VARCHAR NOT NULL, rank INTEGER NOT NULL,
    neighbour_code VARCHAR, neighbour_name VARCHAR, closeness VARCHAR,
    PRIMARY KEY (grp, la_code, rank)
);

CREATE TABLE IF NOT EXISTS indicator (
    code VARCHAR PRIMARY KEY, framework VARCHAR NOT NULL, title VARCHAR NOT NULL,
    outcome VARCHAR, section VARCHAR, page INTEGER, unit VARCHAR, polarity VARCHAR,
    year_type VARCHAR, definition_json VARCHAR
);

-- One row per measure with every field resolved from the indicator's defaults: the engine's
-- rules read their parameters from here, never from code.
CREATE TABLE IF NOT EXISTS measure (
    indicator VARCHAR NOT NULL, measure VARCHAR NOT NULL, label VARCHAR, framework VARCHAR,
    unit VARCHAR, polarity VARCHAR, decimals INTEGER, percent_sign BOOLEAN, thousands BOOLEAN,
    plus_sign BOOLEAN, prefix VARCHAR, suffix VARCHAR,
    formula_type VARCHAR, multiplier DOUBLE, base_period VARCHAR, of_measure VARCHAR,
    formula_comparator VARCHAR, formula_comparator_area VARCHAR, formula_measures VARCHAR,
    sn_method VARCHAR, england_method VARCHAR, neighbour_group VARCHAR, year_type VARCHAR,
    geography_level VARCHAR, quartiles BOOLEAN, ranks BOOLEAN, trend VARCHAR,
    light_rule VARCHAR, light_json VARCHAR,
    PRIMARY KEY (indicator, measure)
);

-- added after the first release: a store made before it gains the column when opened
ALTER TABLE measure ADD COLUMN IF NOT EXISTS significance_json VARCHAR;
ALTER TABLE measure ADD COLUMN IF NOT EXISTS recent_trend VARCHAR;

-- Breaks in series (catalogue ``breaks``): figures from the break's period on are not compared
-- with those before it (no change, progress or trend across it).
CREATE TABLE IF NOT EXISTS series_break (
    indicator VARCHAR NOT NULL, measure VARCHAR NOT NULL, period VARCHAR NOT NULL,
    period_label VARCHAR, period_start DATE, period_end DATE, reason VARCHAR, seed_line INTEGER
);

CREATE TABLE IF NOT EXISTS band (
    indicator VARCHAR NOT NULL, measure VARCHAR NOT NULL, periods VARCHAR NOT NULL,
    first_year INTEGER, last_year INTEGER, grp VARCHAR, idx INTEGER NOT NULL,
    cutoff_text VARCHAR, low DOUBLE, high DOUBLE, high_inclusive BOOLEAN, blobs INTEGER, seed_line INTEGER
);

CREATE SEQUENCE IF NOT EXISTS load_seq START 1;

CREATE TABLE IF NOT EXISTS load_log (
    load_id INTEGER PRIMARY KEY, file VARCHAR, format VARCHAR, source VARCHAR, vintage VARCHAR,
    licence VARCHAR, rows INTEGER, loaded_at TIMESTAMP, loaded_by VARCHAR, sha256 VARCHAR
);
-- the date the load's figures were published (added after the first release): a dated document
-- shows only figures released by its own date (engine.selection.Selection.released_by)
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS released DATE;

CREATE TABLE IF NOT EXISTS observation (
    indicator VARCHAR NOT NULL, measure VARCHAR NOT NULL, area VARCHAR NOT NULL,
    period VARCHAR NOT NULL, period_label VARCHAR, period_kind VARCHAR,
    period_start DATE, period_end DATE, statistic VARCHAR NOT NULL DEFAULT 'value',
    value DOUBLE, numerator DOUBLE, denominator DOUBLE,
    status VARCHAR, text VARCHAR, quality VARCHAR, provisional BOOLEAN, note VARCHAR,
    published BOOLEAN, source VARCHAR, vintage VARCHAR, licence VARCHAR,
    load_id INTEGER, seed_ref VARCHAR, row_no INTEGER, is_current BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE OR REPLACE VIEW observation_current AS
    SELECT * FROM observation WHERE is_current;

-- What changed from which vintage (the seed's "updated from" notes, 000:L21-35).
CREATE OR REPLACE VIEW observation_changes AS
    SELECT c.indicator, c.measure, c.area, c.period, c.statistic,
           p.value AS previous_value, p.status AS previous_status, p.vintage AS previous_vintage,
           c.value AS value, c.status AS status, c.vintage AS vintage
    FROM observation c
    JOIN observation p USING (indicator, measure, area, period, statistic)
    WHERE c.is_current AND NOT p.is_current AND p.load_id < c.load_id
      AND (c.value IS DISTINCT FROM p.value OR c.status IS DISTINCT FROM p.status
           OR c.numerator IS DISTINCT FROM p.numerator OR c.denominator IS DISTINCT FROM p.denominator);
