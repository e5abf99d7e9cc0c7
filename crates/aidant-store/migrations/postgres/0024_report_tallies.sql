-- The dashboards and the hotspot map over a force's whole range read these
-- counts instead of counting the reports on every reading: how many of an
-- organisation's reports were received on each day (UTC, as days since
-- 1970), by risk level, time to first look (the bands of
-- `aidant_core::insight::FirstLook`), business sector and postcode sector
-- ('' for no postcode). A trigger keeps them as reports arrive, are opened,
-- change owner or date, or are deleted at retention review, in the same
-- transaction; a count that falls to zero is removed (nothing is left of a
-- report deleted at retention review).
CREATE TABLE report_tallies (
    organisation_id TEXT NOT NULL,
    dimension TEXT NOT NULL,
    day BIGINT NOT NULL,
    value TEXT NOT NULL,
    reports BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, dimension, day, value)
);

-- A report's value in each counted dimension, in the order of
-- `report_tally_dimensions()`.
CREATE FUNCTION report_tally_values(received BIGINT, risk TEXT, opened BIGINT, business TEXT, postcode TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[
        risk,
        CASE WHEN opened IS NULL THEN 'not_yet'
            WHEN opened - received <= 3600000 THEN 'hour'
            WHEN opened - received <= 14400000 THEN 'four_hours'
            WHEN opened - received <= 86400000 THEN 'day'
            WHEN opened - received <= 259200000 THEN 'three_days'
            ELSE 'longer' END,
        business,
        COALESCE(substr(postcode, 1, length(postcode) - 2), '')
    ]
$$;

CREATE FUNCTION report_tally_dimensions() RETURNS TEXT[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['risk', 'first_look', 'sector', 'postcode_sector']
$$;

INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
SELECT owning_organisation_id, dimensions.dimension, received_at / 86400000, dimensions.value, COUNT(*)
FROM reports
CROSS JOIN LATERAL unnest(report_tally_dimensions(), report_tally_values(received_at, risk_level, first_opened_at, sector, postcode)) AS dimensions (dimension, value)
WHERE owning_organisation_id IS NOT NULL
GROUP BY 1, 2, 3, 4;

-- Only the dimensions whose count changes are written, so opening a report
-- touches its time to first look and nothing that intake is counting.
CREATE FUNCTION reports_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    dimensions TEXT[] := report_tally_dimensions();
    old_values TEXT[];
    new_values TEXT[];
    same_day_and_owner BOOLEAN := false;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.owning_organisation_id IS NOT NULL THEN
        old_values := report_tally_values(OLD.received_at, OLD.risk_level, OLD.first_opened_at, OLD.sector, OLD.postcode);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.owning_organisation_id IS NOT NULL THEN
        new_values := report_tally_values(NEW.received_at, NEW.risk_level, NEW.first_opened_at, NEW.sector, NEW.postcode);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        same_day_and_owner := OLD.owning_organisation_id IS NOT DISTINCT FROM NEW.owning_organisation_id
            AND OLD.received_at / 86400000 = NEW.received_at / 86400000;
    END IF;
    FOR i IN 1 .. array_length(dimensions, 1) LOOP
        IF same_day_and_owner AND old_values[i] IS NOT DISTINCT FROM new_values[i] THEN
            CONTINUE;
        END IF;
        IF old_values IS NOT NULL THEN
            INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
            VALUES (OLD.owning_organisation_id, dimensions[i], OLD.received_at / 86400000, old_values[i], -1)
            ON CONFLICT (organisation_id, dimension, day, value) DO UPDATE SET reports = report_tallies.reports + EXCLUDED.reports;
            DELETE FROM report_tallies WHERE organisation_id = OLD.owning_organisation_id AND dimension = dimensions[i]
                AND day = OLD.received_at / 86400000 AND value = old_values[i] AND reports = 0;
        END IF;
        IF new_values IS NOT NULL THEN
            INSERT INTO report_tallies (organisation_id, dimension, day, value, reports)
            VALUES (NEW.owning_organisation_id, dimensions[i], NEW.received_at / 86400000, new_values[i], 1)
            ON CONFLICT (organisation_id, dimension, day, value) DO UPDATE SET reports = report_tallies.reports + EXCLUDED.reports;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_tally AFTER INSERT OR DELETE OR UPDATE OF owning_organisation_id, received_at, risk_level, first_opened_at, sector, postcode
ON reports FOR EACH ROW EXECUTE FUNCTION reports_tally();
