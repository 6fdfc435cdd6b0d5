-- The unprivileged role the api and the worker run their queries as. It is not
-- the tables' owner, not a superuser and has no BYPASSRLS, so row-level security
-- binds it. The migrating user is granted membership so it can SET ROLE to it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskpilot_app') THEN
    CREATE ROLE deskpilot_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE format('GRANT deskpilot_app TO %I', current_user);
EXCEPTION WHEN duplicate_object OR invalid_grant_operation THEN NULL;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO deskpilot_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO deskpilot_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO deskpilot_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO deskpilot_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO deskpilot_app;
--> statement-breakpoint
-- /ready compares the applied migrations with the ones the code ships.
GRANT USAGE ON SCHEMA drizzle TO deskpilot_app;
--> statement-breakpoint
GRANT SELECT ON drizzle.__drizzle_migrations TO deskpilot_app;
--> statement-breakpoint
-- The tenant a transaction is working in, or NULL when none is set: policies
-- compare against NULL and so show nothing instead of raising an error.
CREATE FUNCTION app_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
--> statement-breakpoint
-- The pattern every tenant-scoped table copies: ENABLE and FORCE (so it binds the
-- owner too), and one policy with USING and WITH CHECK on the current tenant.
-- jobs also holds system jobs with no tenant (account emails); those are seen
-- only by a transaction with no tenant set.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON jobs
  USING (tenant_id IS NOT DISTINCT FROM app_current_tenant())
  WITH CHECK (tenant_id IS NOT DISTINCT FROM app_current_tenant());
