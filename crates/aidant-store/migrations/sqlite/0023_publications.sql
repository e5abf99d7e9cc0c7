-- The disclosure log also records publications of safeguarding data (a
-- k-anonymised or synthetic file for researchers and the public): `kind`
-- is `package` for an export package to another organisation (whose
-- recipient it names) or `publication` (whose recipient is the publishing
-- organisation itself, the file going to the public).
ALTER TABLE disclosures ADD COLUMN kind TEXT NOT NULL DEFAULT 'package';
