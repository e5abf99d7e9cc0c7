-- Reports and intelligence are indexed apart: `search_text` holds reports
-- only and `intelligence_search_text` intelligence only. A partner agency
-- sees only intelligence, and searching one index for both made its search
-- read the entries of every report holding the word (1.5 s for "nail" at a
-- million reports) before keeping none of them.
DROP TRIGGER search_documents_insert;
DROP TRIGGER search_documents_delete;
DROP TRIGGER search_documents_update;

INSERT INTO search_text (search_text, rowid, body)
    SELECT 'delete', doc_id, body FROM search_documents WHERE record_kind <> 'report';

CREATE VIRTUAL TABLE intelligence_search_text USING fts5 (body, content = 'search_documents', content_rowid = 'doc_id', tokenize = 'unicode61 remove_diacritics 2', detail = none);

INSERT INTO intelligence_search_text (rowid, body)
    SELECT doc_id, body FROM search_documents WHERE record_kind = 'intelligence';

CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents WHEN new.record_kind = 'report' BEGIN
    INSERT INTO search_text (rowid, body) VALUES (new.doc_id, new.body);
END;

CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents WHEN old.record_kind = 'report' BEGIN
    INSERT INTO search_text (search_text, rowid, body) VALUES ('delete', old.doc_id, old.body);
END;

CREATE TRIGGER search_documents_update AFTER UPDATE OF body ON search_documents WHEN new.record_kind = 'report' BEGIN
    INSERT INTO search_text (search_text, rowid, body) VALUES ('delete', old.doc_id, old.body);
    INSERT INTO search_text (rowid, body) VALUES (new.doc_id, new.body);
END;

CREATE TRIGGER intelligence_search_insert AFTER INSERT ON search_documents WHEN new.record_kind = 'intelligence' BEGIN
    INSERT INTO intelligence_search_text (rowid, body) VALUES (new.doc_id, new.body);
END;

CREATE TRIGGER intelligence_search_delete AFTER DELETE ON search_documents WHEN old.record_kind = 'intelligence' BEGIN
    INSERT INTO intelligence_search_text (intelligence_search_text, rowid, body) VALUES ('delete', old.doc_id, old.body);
END;

CREATE TRIGGER intelligence_search_update AFTER UPDATE OF body ON search_documents WHEN new.record_kind = 'intelligence' BEGIN
    INSERT INTO intelligence_search_text (intelligence_search_text, rowid, body) VALUES ('delete', old.doc_id, old.body);
    INSERT INTO intelligence_search_text (rowid, body) VALUES (new.doc_id, new.body);
END;
