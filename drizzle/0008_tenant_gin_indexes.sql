-- Search and tag filters under row-level security.
--
-- The GIN indexes lead with tenant_id (btree_gin gives uuid a GIN operator
-- class), so one index scan finds a tenant's matching rows.
--
-- PostgreSQL applies a row-level-security policy before any condition of the
-- query whose function is not LEAKPROOF, and only LEAKPROOF conditions can be
-- index conditions. `@@` (ts_match_vq) and `@>` on arrays (arraycontains) are
-- not marked so, which leaves a search scanning every row of the tenant (6.4 ms
-- against 1.6 ms for 1,000 tickets). Both return a boolean computed from their
-- two arguments and raise no error that depends on a row's contents, so they
-- are marked LEAKPROOF here. That needs a superuser: a migration run by another
-- role (a managed database's admin, say) leaves them as they are and search
-- still works, scanning the tenant's rows. The flag lives in this database's
-- catalogue, so a dump restored into a new database needs the two ALTER
-- FUNCTION statements again (README, "Search").
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
    ALTER FUNCTION pg_catalog.arraycontains(anyarray, anyarray) LEAKPROOF;
  ELSE
    RAISE NOTICE 'not a superuser: @@ and @> stay non-leakproof; searches scan the tenant''s rows';
  END IF;
END
$$;--> statement-breakpoint
DROP INDEX "kb_articles_search_idx";--> statement-breakpoint
DROP INDEX "tickets_tags_idx";--> statement-breakpoint
DROP INDEX "tickets_search_public_idx";--> statement-breakpoint
DROP INDEX "tickets_search_all_idx";--> statement-breakpoint
CREATE INDEX "kb_articles_search_idx" ON "kb_articles" USING gin ("tenant_id","search");--> statement-breakpoint
CREATE INDEX "tickets_tags_idx" ON "tickets" USING gin ("tenant_id","tags") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "tickets_search_public_idx" ON "tickets" USING gin ("tenant_id","search_public") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "tickets_search_all_idx" ON "tickets" USING gin ("tenant_id","search_all") WHERE deleted_at IS NULL;