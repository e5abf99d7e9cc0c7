-- The dashboards count a force's reports in a date range by risk, sector,
-- postcode district and time to first look: an index holding exactly those
-- columns, led by the owner and the time received, lets each count read the
-- index alone instead of the wide report rows.
CREATE INDEX reports_insight ON reports (owning_organisation_id, received_at, risk_level, sector, postcode, first_opened_at);
