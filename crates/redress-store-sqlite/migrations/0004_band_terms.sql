-- The fingerprint bands move into a full-text table of their own. As rows of a B-tree keyed by
-- band they were 32 random inserts per complaint, each dirtying a different page of a large
-- index at every commit; FTS5 gathers a commit's terms in memory and writes them as one sorted
-- segment, merging segments in the background, and still reads a band's newest rows first.
-- A term is `b` followed by the key as 16 hex digits (two's complement for negative keys).
CREATE VIRTUAL TABLE text_band_terms USING fts5 (
    keys,
    tokenize = 'unicode61',
    content = '',
    contentless_delete = 1,
    detail = none
);

INSERT INTO text_band_terms (rowid, keys)
SELECT row_id, group_concat(printf('b%016x', band_key), ' ') FROM text_bands GROUP BY row_id;

DROP TABLE text_bands;
