-- Record-level returns (cspa.records): each loaded return, what its validation found, and
-- (created by cspa.records.load from the table specifications) one table per return table,
-- rec_<kind>_<table>, whose rows carry the return_id. A newer return of the same kind,
-- authority and year supersedes the older one, which is kept.
CREATE SEQUENCE IF NOT EXISTS record_return_seq START 1;

CREATE TABLE IF NOT EXISTS record_return (
    return_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, la VARCHAR NOT NULL, year INTEGER NOT NULL,
    period VARCHAR, year_basis VARCHAR, spec_version VARCHAR, rule_version VARCHAR, files VARCHAR,
    sha256 VARCHAR, rows_json VARCHAR, findings INTEGER, blocking_rules VARCHAR, source VARCHAR,
    licence VARCHAR, loaded_at TIMESTAMP, loaded_by VARCHAR, is_current BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE IF NOT EXISTS record_finding (
    return_id INTEGER NOT NULL, rule VARCHAR NOT NULL, blocking BOOLEAN, tbl VARCHAR, file VARCHAR,
    row_no BIGINT, child VARCHAR, field VARCHAR, value VARCHAR, message VARCHAR
);
