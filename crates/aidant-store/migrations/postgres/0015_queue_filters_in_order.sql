-- The queue's filters by postcode district, town and sector each walk an
-- index in the page's order (most urgent first, or by received time), so a
-- page of a filter that holds a third of a million reports reads a page's
-- worth of rows instead of sorting them all (a district took 628 ms at a
-- million reports on SQLite). A district is the postcode less its inward
-- code: stored postcodes are always "OUTWARD INWARD", with a three-character
-- inward code. The first queue index, on status alone, has been unused
-- since every page is within its owner (0011).
DROP INDEX reports_queue;
DROP INDEX reports_owner_postcode;
DROP INDEX reports_owner_town;
DROP INDEX reports_owner_sector;
CREATE INDEX reports_owner_district_urgent ON reports (owning_organisation_id, (substr(postcode, 1, length(postcode) - 4)), risk_rank, received_at, id);
CREATE INDEX reports_owner_district_received ON reports (owning_organisation_id, (substr(postcode, 1, length(postcode) - 4)), received_at, id);
CREATE INDEX reports_owner_town_urgent ON reports (owning_organisation_id, (lower(town)), risk_rank, received_at, id);
CREATE INDEX reports_owner_town_received ON reports (owning_organisation_id, (lower(town)), received_at, id);
CREATE INDEX reports_owner_sector_urgent ON reports (owning_organisation_id, sector, risk_rank, received_at, id);
CREATE INDEX reports_owner_sector_received ON reports (owning_organisation_id, sector, received_at, id);
