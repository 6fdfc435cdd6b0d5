-- The contact list's email-prefix match (GET /v1/contacts?q=grace.hop@exa):
-- starts_with(email, prefix), which is LEAKPROOF and so may be an index
-- condition under row-level security (LIKE's textlike is not). The unique
-- (tenant_id, email) index compares in the database's collation, which serves
-- a prefix only in "C"; text_pattern_ops compares bytes, in any collation.
CREATE INDEX "contacts_email_prefix_idx" ON "contacts" USING btree ("tenant_id","email" text_pattern_ops);
