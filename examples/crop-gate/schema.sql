-- The crop service's tables as Django creates them, reduced to what the gate reads.
-- Portable between SQLite and PostgreSQL except two column types, which build_db.py swaps:
-- JSON_TYPE (Django's JSONField: text on SQLite, jsonb on PostgreSQL) and
-- BYTES_TYPE (a BinaryField: BLOB on SQLite, bytea on PostgreSQL).
CREATE TABLE image (
    id integer PRIMARY KEY,
    path varchar(255) NOT NULL,       -- relative to MEDIA_ROOT
    width integer NOT NULL,
    height integer NOT NULL
);
CREATE TABLE crop_run (
    id integer PRIMARY KEY,
    image_id integer NOT NULL REFERENCES image (id),
    source JSON_TYPE NOT NULL,        -- {type, backend, deployment, version}
    notes text,                       -- free text from the reporter; NULL when none was given
    created_at varchar(32) NOT NULL
);
CREATE TABLE crop_annotation (
    id integer PRIMARY KEY,
    run_id integer NOT NULL REFERENCES crop_run (id),
    mask BYTES_TYPE NOT NULL,         -- PNG, non-zero = foreground, the photo's size
    annotator varchar(64) NOT NULL
);
