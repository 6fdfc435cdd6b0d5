-- Row-level security for the tenant boundary, copying the pattern of 0001:
-- ENABLE + FORCE and a tenant_isolation policy on app_current_tenant().
--
-- A few lookups must cross tenants. Each gets its own narrowly named,
-- read-only policy keyed on a transaction-local setting, instead of RLS being
-- switched off:
--   app.user_id              a user's own memberships (login, /auth/me, tenant list)
--   app.api_key_prefix       one API key by the public part of the key
--   app.invitation_token     one invitation by the hash of its token
CREATE FUNCTION app_current_user() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
--> statement-breakpoint
ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON roles
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON memberships
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
CREATE POLICY own_memberships ON memberships FOR SELECT
  USING (user_id = app_current_user());
--> statement-breakpoint
-- The roles of one's own memberships (their names and permissions in /auth/me).
CREATE POLICY own_membership_roles ON roles FOR SELECT
  USING (EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.tenant_id = roles.tenant_id AND m.role_id = roles.id
      AND m.user_id = app_current_user()
  ));
--> statement-breakpoint
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON invitations
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
CREATE POLICY invitation_by_token ON invitations FOR SELECT
  USING (token_hash = nullif(current_setting('app.invitation_token', true), ''));
--> statement-breakpoint
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON api_keys
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
CREATE POLICY api_key_by_prefix ON api_keys FOR SELECT
  USING (prefix = nullif(current_setting('app.api_key_prefix', true), ''));
--> statement-breakpoint
-- Events with no tenant (signup, failed logins) are visible only with no tenant set.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON audit_events
  USING (tenant_id IS NOT DISTINCT FROM app_current_tenant())
  WITH CHECK (tenant_id IS NOT DISTINCT FROM app_current_tenant());
