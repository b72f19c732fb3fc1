-- Items a port declares it will not port for now, with the reason (from
-- mapping files). `verify` records them as deferred through the guarded
-- status path, so the history says who and why.
CREATE TABLE deferral_declarations (
    item_kind TEXT NOT NULL CHECK (item_kind IN ('feature', 'test')),
    item_id   INTEGER NOT NULL,
    reason    TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    source    TEXT NOT NULL,
    PRIMARY KEY (item_kind, item_id)
) WITHOUT ROWID;
