-- Reports and intelligence are indexed apart: one partial GIN index per
-- kind, and every search names the kind it reads. A partner agency sees
-- only intelligence, and one index for both made its search gather every
-- report holding the word (317 ms for "nail" at a million reports) before
-- keeping none of them.
DROP INDEX search_documents_text;
CREATE INDEX search_documents_report_text ON search_documents USING GIN (document) WHERE record_kind = 'report';
CREATE INDEX search_documents_intelligence_text ON search_documents USING GIN (document) WHERE record_kind = 'intelligence';
