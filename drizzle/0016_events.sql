CREATE TABLE "event_counters" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"last_sequence" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"sequence" bigint NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"data" jsonb NOT NULL,
	"customer_data" jsonb,
	"ticket_id" uuid,
	"contact_id" uuid,
	"internal" boolean DEFAULT false NOT NULL,
	CONSTRAINT "events_tenant_sequence_key" UNIQUE("tenant_id","sequence")
);
--> statement-breakpoint
ALTER TABLE "event_counters" ADD CONSTRAINT "event_counters_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_tenant_contact_sequence_idx" ON "events" USING btree ("tenant_id","contact_id","sequence");--> statement-breakpoint
CREATE INDEX "events_occurred_at_idx" ON "events" USING btree ("occurred_at");--> statement-breakpoint
-- Row-level security for the event log, the pattern of 0006: ENABLE + FORCE
-- and a tenant_isolation policy on app_current_tenant().
ALTER TABLE event_counters ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE event_counters FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON event_counters
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
ALTER TABLE events ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE events FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON events
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
-- The retention sweep crosses tenants, so it gets its own narrowly named path,
-- like the job sweeper's (0004): a transaction that sets app.event_sweeper to
-- the retention in days may read and delete events older than that (never
-- younger than a day, whatever it sets), and nothing else. (A DELETE with a
-- WHERE needs the SELECT policy too.)
CREATE FUNCTION app_event_retention() RETURNS interval
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN coalesce(current_setting('app.event_sweeper', true), '') ~ '^[0-9]{1,6}$'
              THEN make_interval(days => greatest(1, current_setting('app.event_sweeper', true)::int))
              END $$;--> statement-breakpoint
CREATE POLICY event_sweeper_read ON events FOR SELECT
  USING (app_event_retention() IS NOT NULL AND occurred_at < now() - app_event_retention());--> statement-breakpoint
CREATE POLICY event_sweeper_delete ON events FOR DELETE
  USING (app_event_retention() IS NOT NULL AND occurred_at < now() - app_event_retention());--> statement-breakpoint
-- The new permission: members who read tickets read the feed.
UPDATE roles SET permissions = ARRAY(
  SELECT DISTINCT p FROM unnest(permissions || ARRAY['events:read']) p ORDER BY p)
WHERE builtin AND name IN ('owner', 'admin', 'agent');
