-- The full-text index keeps which documents hold each word, not where in
-- them (detail=none): search asks only for documents holding every word
-- (each as a prefix), never for phrases or rankings. The index is a few
-- times smaller, so merging its segments as reports arrive costs a few
-- times less: with positions, intake slowed as the index grew and stalled
-- for minutes in single merges by 700,000 reports.
DROP TABLE search_text;
CREATE VIRTUAL TABLE search_text USING fts5 (body, content = 'search_documents', content_rowid = 'doc_id', tokenize = 'unicode61 remove_diacritics 2', detail = none);
INSERT INTO search_text (search_text) VALUES ('rebuild');
