-- The dashboards and the hotspot map over a force's whole range read these
-- counts instead of counting the reports on every reading: how many of an
-- organisation's reports were received on each day (UTC, as days since
-- 1970), by risk level, time to first look (the bands of
-- `aidant_core::insight::FirstLook`), business sector and postcode sector
-- ('' for no postcode). Triggers keep them as reports arrive, are opened,
-- change owner or date, or are deleted at retention review, in the same
-- transaction; a count that falls to zero is removed (nothing is left of a
-- report deleted at retention review).
CREATE TABLE report_tallies (
    organisation_id TEXT NOT NULL,
    dimension TEXT NOT NULL,
    day INTEGER NOT NULL,
    value TEXT NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, dimension, day, value)
) WITHOUT ROWID;

INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
SELECT owning_organisation_id, 'risk', received_at / 86400000, risk_level, COUNT(*)
FROM reports WHERE owning_organisation_id IS NOT NULL GROUP BY 1, 3, 4;

INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
SELECT owning_organisation_id, 'first_look', received_at / 86400000,
    CASE WHEN first_opened_at IS NULL THEN 'not_yet'
        WHEN first_opened_at - received_at <= 3600000 THEN 'hour'
        WHEN first_opened_at - received_at <= 14400000 THEN 'four_hours'
        WHEN first_opened_at - received_at <= 86400000 THEN 'day'
        WHEN first_opened_at - received_at <= 259200000 THEN 'three_days'
        ELSE 'longer' END,
    COUNT(*)
FROM reports WHERE owning_organisation_id IS NOT NULL GROUP BY 1, 3, 4;

INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
SELECT owning_organisation_id, 'sector', received_at / 86400000, sector, COUNT(*)
FROM reports WHERE owning_organisation_id IS NOT NULL GROUP BY 1, 3, 4;

INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
SELECT owning_organisation_id, 'postcode_sector', received_at / 86400000, COALESCE(substr(postcode, 1, length(postcode) - 2), ''), COUNT(*)
FROM reports WHERE owning_organisation_id IS NOT NULL GROUP BY 1, 3, 4;

CREATE TRIGGER reports_tally_insert AFTER INSERT ON reports WHEN NEW.owning_organisation_id IS NOT NULL
BEGIN
    INSERT INTO report_tallies (organisation_id, dimension, day, value, reports) VALUES
        (NEW.owning_organisation_id, 'risk', NEW.received_at / 86400000, NEW.risk_level, 1),
        (NEW.owning_organisation_id, 'first_look', NEW.received_at / 86400000,
            CASE WHEN NEW.first_opened_at IS NULL THEN 'not_yet'
                WHEN NEW.first_opened_at - NEW.received_at <= 3600000 THEN 'hour'
                WHEN NEW.first_opened_at - NEW.received_at <= 14400000 THEN 'four_hours'
                WHEN NEW.first_opened_at - NEW.received_at <= 86400000 THEN 'day'
                WHEN NEW.first_opened_at - NEW.received_at <= 259200000 THEN 'three_days'
                ELSE 'longer' END, 1),
        (NEW.owning_organisation_id, 'sector', NEW.received_at / 86400000, NEW.sector, 1),
        (NEW.owning_organisation_id, 'postcode_sector', NEW.received_at / 86400000, COALESCE(substr(NEW.postcode, 1, length(NEW.postcode) - 2), ''), 1)
    ON CONFLICT (organisation_id, dimension, day, value) DO UPDATE SET reports = reports + excluded.reports;
END;

CREATE TRIGGER reports_tally_delete AFTER DELETE ON reports WHEN OLD.owning_organisation_id IS NOT NULL
BEGIN
    INSERT INTO report_tallies (organisation_id, dimension, day, value, reports) VALUES
        (OLD.owning_organisation_id, 'risk', OLD.received_at / 86400000, OLD.risk_level, -1),
        (OLD.owning_organisation_id, 'first_look', OLD.received_at / 86400000,
            CASE WHEN OLD.first_opened_at IS NULL THEN 'not_yet'
                WHEN OLD.first_opened_at - OLD.received_at <= 3600000 THEN 'hour'
                WHEN OLD.first_opened_at - OLD.received_at <= 14400000 THEN 'four_hours'
                WHEN OLD.first_opened_at - OLD.received_at <= 86400000 THEN 'day'
                WHEN OLD.first_opened_at - OLD.received_at <= 259200000 THEN 'three_days'
                ELSE 'longer' END, -1),
        (OLD.owning_organisation_id, 'sector', OLD.received_at / 86400000, OLD.sector, -1),
        (OLD.owning_organisation_id, 'postcode_sector', OLD.received_at / 86400000, COALESCE(substr(OLD.postcode, 1, length(OLD.postcode) - 2), ''), -1)
    ON CONFLICT (organisation_id, dimension, day, value) DO UPDATE SET reports = reports + excluded.reports;
    DELETE FROM report_tallies WHERE organisation_id = OLD.owning_organisation_id AND day = OLD.received_at / 86400000 AND reports = 0;
END;

-- An update is the old row taken away and the new one added (SQLite has one
-- writer, so touching rows that did not change costs nothing but the write).
CREATE TRIGGER reports_tally_update AFTER UPDATE OF owning_organisation_id, received_at, risk_level, first_opened_at, sector, postcode ON reports
BEGIN
    INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
    SELECT OLD.owning_organisation_id, dimension, OLD.received_at / 86400000, value, -1 FROM (
        SELECT 'risk' AS dimension, OLD.risk_level AS value
        UNION ALL SELECT 'first_look',
            CASE WHEN OLD.first_opened_at IS NULL THEN 'not_yet'
                WHEN OLD.first_opened_at - OLD.received_at <= 3600000 THEN 'hour'
                WHEN OLD.first_opened_at - OLD.received_at <= 14400000 THEN 'four_hours'
                WHEN OLD.first_opened_at - OLD.received_at <= 86400000 THEN 'day'
                WHEN OLD.first_opened_at - OLD.received_at <= 259200000 THEN 'three_days'
                ELSE 'longer' END
        UNION ALL SELECT 'sector', OLD.sector
        UNION ALL SELECT 'postcode_sector', COALESCE(substr(OLD.postcode, 1, length(OLD.postcode) - 2), '')
    ) WHERE OLD.owning_organisation_id IS NOT NULL
    ON CONFLICT (organisation_id, dimension, day, value) DO UPDATE SET reports = reports + excluded.reports;
    INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
    SELECT NEW.owning_organisation_id, dimension, NEW.received_at / 86400000, value, 1 FROM (
        SELECT 'risk' AS dimension, NEW.risk_level AS value
        UNION ALL SELECT 'first_look',
            CASE WHEN NEW.first_opened_at IS NULL THEN 'not_yet'
                WHEN NEW.first_opened_at - NEW.received_at <= 3600000 THEN 'hour'
                WHEN NEW.first_opened_at - NEW.received_at <= 14400000 THEN 'four_hours'
                WHEN NEW.first_opened_at - NEW.received_at <= 86400000 THEN 'day'
                WHEN NEW.first_opened_at - NEW.received_at <= 259200000 THEN 'three_days'
                ELSE 'longer' END
        UNION ALL SELECT 'sector', NEW.sector
        UNION ALL SELECT 'postcode_sector', COALESCE(substr(NEW.postcode, 1, length(NEW.postcode) - 2), '')
    ) WHERE NEW.owning_organisation_id IS NOT NULL
    ON CONFLICT (organisation_id, dimension, day, value) DO UPDATE SET reports = reports + excluded.reports;
    DELETE FROM report_tallies WHERE organisation_id = OLD.owning_organisation_id AND day = OLD.received_at / 86400000 AND reports = 0;
END;
