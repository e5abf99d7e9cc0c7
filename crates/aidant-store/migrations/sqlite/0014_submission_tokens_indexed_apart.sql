-- Reports sent without a submission token (most API reports) hold NULL
-- there, and SQLite's statistics count NULLs as one value: once most
-- reports have none, the planner takes the UNIQUE index to match hundreds
-- of thousands of rows per token and scans the whole table instead, for
-- every batch the report writer checks for repeats (60 ms a batch at
-- 300,000 reports, the largest cost of public intake). An index of the
-- tokens that exist has statistics that say what they are.
CREATE UNIQUE INDEX reports_submission_token ON reports (submission_token) WHERE submission_token IS NOT NULL;
