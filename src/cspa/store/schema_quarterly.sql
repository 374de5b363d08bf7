-- Quarterly performance management (issue 7): targets and narrative typed by people.
-- Append-only: a change is a new revision row, never an UPDATE or DELETE, so every value a user
-- ever entered is kept with who entered it and when. The current value of a key is its latest
-- revision; a cleared target or text is a revision with deleted = TRUE (kept, not shown).

CREATE SEQUENCE IF NOT EXISTS quarterly_revision_seq START 1;
CREATE SEQUENCE IF NOT EXISTS quarterly_load_seq START 1;

-- One row per load of a filled-in template or seed transcription: who, when, which file.
CREATE TABLE IF NOT EXISTS quarterly_load (
    load_id BIGINT PRIMARY KEY, file VARCHAR, sha256 VARCHAR, area VARCHAR, period VARCHAR,
    loaded_by VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL, source VARCHAR,
    targets INTEGER, texts INTEGER, actuals INTEGER, observation_load_id INTEGER
);

-- Targets per indicator, measure (the measure the target applies to: actual, english, value ...),
-- area, period and target type (local, LAA, ...). period = '*' is a target printed across every
-- period column (001:L136 'To reduce numbers'). A target is a number, a status symbol or words.
CREATE TABLE IF NOT EXISTS quarterly_target_revision (
    revision BIGINT PRIMARY KEY, indicator VARCHAR NOT NULL, measure VARCHAR NOT NULL,
    area VARCHAR NOT NULL, period VARCHAR NOT NULL, period_label VARCHAR, period_kind VARCHAR,
    period_start DATE, period_end DATE, target_type VARCHAR NOT NULL,
    value DOUBLE, status VARCHAR, text VARCHAR, note VARCHAR, seed_ref VARCHAR,
    deleted BOOLEAN NOT NULL DEFAULT FALSE, based_on BIGINT,
    changed_by VARCHAR NOT NULL, changed_at TIMESTAMP NOT NULL, source VARCHAR, load_id BIGINT
);

CREATE OR REPLACE VIEW quarterly_target_latest AS
    SELECT * FROM quarterly_target_revision
    QUALIFY row_number() OVER (PARTITION BY indicator, measure, area, period, target_type ORDER BY revision DESC) = 1;

CREATE OR REPLACE VIEW quarterly_target AS
    SELECT * FROM quarterly_target_latest WHERE NOT deleted;

-- Narrative per area and report period: report-level (indicator = '') headline news, version,
-- meeting dates, caveats; indicator-level commentary, planned action, action plan, milestones ...
-- item numbers the entries of a list field (headline news items, key entries); 0 otherwise.
-- extra holds typed details as JSON (marker, rag, date, seed_line, heading, url, note).
CREATE TABLE IF NOT EXISTS quarterly_text_revision (
    revision BIGINT PRIMARY KEY, area VARCHAR NOT NULL, period VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL, field VARCHAR NOT NULL, item INTEGER NOT NULL,
    text VARCHAR, extra VARCHAR, seed_ref VARCHAR,
    deleted BOOLEAN NOT NULL DEFAULT FALSE, based_on BIGINT,
    changed_by VARCHAR NOT NULL, changed_at TIMESTAMP NOT NULL, source VARCHAR, load_id BIGINT
);

CREATE OR REPLACE VIEW quarterly_text_latest AS
    SELECT * FROM quarterly_text_revision
    QUALIFY row_number() OVER (PARTITION BY area, period, indicator, field, item ORDER BY revision DESC) = 1;

CREATE OR REPLACE VIEW quarterly_text AS
    SELECT * FROM quarterly_text_latest WHERE NOT deleted;
