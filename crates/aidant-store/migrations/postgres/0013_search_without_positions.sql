-- SQLite's full-text index drops word positions in this migration (see the
-- SQLite file). PostgreSQL's tsvector and GIN index are unchanged: the
-- numbering of the two backends' migrations stays the same.
SELECT 1;
