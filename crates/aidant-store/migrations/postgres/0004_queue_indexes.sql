-- Indexes for the triage queue's filters, measured with 100,000 reports
-- (aidant bench staff): by sector, by postcode district (a range on the
-- normalised postcode) and by town (any case), each within the owner.
CREATE INDEX reports_owner_sector ON reports (owning_organisation_id, sector, risk_rank, received_at);
CREATE INDEX reports_owner_postcode ON reports (owning_organisation_id, postcode);
CREATE INDEX reports_owner_town ON reports (owning_organisation_id, lower(town));
