-- Assessment (issue 8): historical assessment records, inspection events transcribed from the
-- seeds, proposed grades and their moderation. Everything a user typed is kept: proposals and
-- moderations are append-only (a newer row supersedes an older one for reading, never deletes it).

CREATE SEQUENCE IF NOT EXISTS assessment_seq START 1;

-- Grades as a document printed them (seed 002 2006 APA letter, 003 profile history, 004 2011 letter).
CREATE TABLE IF NOT EXISTS assessment_record (
    area VARCHAR NOT NULL, year INTEGER NOT NULL, framework VARCHAR NOT NULL, judgement VARCHAR NOT NULL,
    indicator VARCHAR, grade INTEGER, label VARCHAR, printed VARCHAR, document VARCHAR, seed_ref VARCHAR,
    source VARCHAR, loaded_at TIMESTAMP, loaded_by VARCHAR
);

-- Inspection events a profile prints that are not in Ofsted's data files (seed 003's safeguarding
-- block: unannounced inspection, serious case reviews, joint area review, private fostering).
CREATE TABLE IF NOT EXISTS assessment_inspection_event (
    area VARCHAR NOT NULL, year INTEGER NOT NULL, inspection VARCHAR NOT NULL, event_date DATE, date_text VARCHAR,
    aspect VARCHAR, outcome VARCHAR, grade INTEGER, adequate_or_better INTEGER, conducted INTEGER,
    row_order INTEGER, seed_ref VARCHAR, source VARCHAR
);

-- One row per proposed grade; a run proposes every judgement for every area of the population.
CREATE TABLE IF NOT EXISTS assessment_proposal (
    proposal_id BIGINT NOT NULL, run_id BIGINT NOT NULL, ruleset VARCHAR NOT NULL, ruleset_version VARCHAR,
    ruleset_sha256 VARCHAR, area VARCHAR NOT NULL, year INTEGER NOT NULL, judgement VARCHAR NOT NULL,
    grade INTEGER, label VARCHAR, basis VARCHAR, rules_json VARCHAR, evidence_json VARCHAR,
    proposed_at TIMESTAMP NOT NULL, proposed_by VARCHAR NOT NULL
);

-- An inspector's confirmation or override of a grade, or an edit of the letter's text.
-- action: confirm | override | edit_text | add_text | remove_text. reason is required.
CREATE TABLE IF NOT EXISTS assessment_moderation (
    moderation_id BIGINT NOT NULL, ruleset VARCHAR NOT NULL, area VARCHAR NOT NULL, year INTEGER NOT NULL,
    judgement VARCHAR, action VARCHAR NOT NULL, proposed_grade INTEGER, grade INTEGER, label VARCHAR,
    section VARCHAR, item_key VARCHAR, text VARCHAR, reason VARCHAR NOT NULL, moderated_by VARCHAR NOT NULL,
    moderated_at TIMESTAMP NOT NULL, proposal_id BIGINT, seed_ref VARCHAR
);
