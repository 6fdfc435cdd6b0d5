-- Contacts become the requesters, and the tables for mail and files arrive.
-- A ticket's requester_id named a user; it now names a contact of the tenant.
-- Every (tenant, user) that requested a ticket, and every customer member,
-- gets a contact carrying that user's email and name, linked by user_id; the
-- tickets and the customers' messages are pointed at those contacts. Nothing
-- is lost: the user, its membership and its messages' author_id stay.
CREATE TABLE "contacts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"email" text,
	"name" text,
	"external_id" text,
	"user_id" uuid,
	"erased_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || replace(coalesce(email, ''), '@', ' '))) STORED NOT NULL,
	CONSTRAINT "contacts_tenant_id_id_key" UNIQUE("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "attachments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"principal" text,
	"message_id" uuid,
	"filename" text NOT NULL,
	"content_type" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"storage_key" text NOT NULL,
	"inline" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attached_at" timestamp with time zone,
	CONSTRAINT "attachments_tenant_id_id_key" UNIQUE("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "email_messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"email_id" text NOT NULL,
	"direction" text NOT NULL,
	"ticket_id" uuid,
	"message_id" uuid,
	"created" boolean DEFAULT false NOT NULL,
	"ignored" text,
	"received_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "email_messages_tenant_email_id_key" UNIQUE("tenant_id","email_id")
);
--> statement-breakpoint
ALTER TABLE "tickets" DROP CONSTRAINT "tickets_requester_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_tenant_id_id_key" UNIQUE("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "contact_id" uuid;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "merged_into_id" uuid;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "follow_up_of_id" uuid;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "avatar_key" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_message_fk" FOREIGN KEY ("tenant_id","message_id") REFERENCES "public"."messages"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_ticket_fk" FOREIGN KEY ("tenant_id","ticket_id") REFERENCES "public"."tickets"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
INSERT INTO "contacts" ("id", "tenant_id", "email", "name", "user_id")
SELECT gen_random_uuid(), people.tenant_id, u.email, u.name, u.id
FROM (
  SELECT DISTINCT tenant_id, requester_id AS user_id FROM "tickets"
  UNION
  SELECT m.tenant_id, m.user_id FROM "memberships" m
  JOIN "roles" r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
  WHERE r.builtin AND r.name = 'customer'
) people
JOIN "users" u ON u.id = people.user_id;--> statement-breakpoint
UPDATE "tickets" t SET "requester_id" = c.id
FROM "contacts" c WHERE c.tenant_id = t.tenant_id AND c.user_id = t.requester_id;--> statement-breakpoint
UPDATE "messages" msg SET "contact_id" = c.id
FROM "contacts" c
WHERE msg.author_type = 'customer' AND c.tenant_id = msg.tenant_id AND c.user_id = msg.author_id;--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_tenant_email_key" ON "contacts" USING btree ("tenant_id","email");--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_tenant_external_id_key" ON "contacts" USING btree ("tenant_id","external_id");--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_tenant_user_key" ON "contacts" USING btree ("tenant_id","user_id");--> statement-breakpoint
CREATE INDEX "contacts_created_idx" ON "contacts" USING btree ("tenant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "contacts_search_idx" ON "contacts" USING gin ("tenant_id","search");--> statement-breakpoint
CREATE INDEX "attachments_message_idx" ON "attachments" USING btree ("tenant_id","message_id");--> statement-breakpoint
CREATE INDEX "attachments_unattached_idx" ON "attachments" USING btree ("created_at") WHERE message_id IS NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_contact_fk" FOREIGN KEY ("tenant_id","contact_id") REFERENCES "public"."contacts"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_requester_fk" FOREIGN KEY ("tenant_id","requester_id") REFERENCES "public"."contacts"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_merged_into_fk" FOREIGN KEY ("tenant_id","merged_into_id") REFERENCES "public"."tickets"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_follow_up_of_fk" FOREIGN KEY ("tenant_id","follow_up_of_id") REFERENCES "public"."tickets"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_contact_idx" ON "messages" USING btree ("tenant_id","contact_id") WHERE contact_id IS NOT NULL;--> statement-breakpoint
--> statement-breakpoint
-- Row-level security, as for every tenant table (0001, 0003, 0006).
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON contacts
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE attachments FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON attachments
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
ALTER TABLE email_messages ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE email_messages FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON email_messages
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
-- The sweep of uploads never attached (24 h) crosses tenants, so it gets its
-- own narrowly named path, like the job sweeper's (0004): a transaction that
-- sets app.attachment_sweeper = 'on' may read and delete unattached uploads
-- older than a day, and nothing else.
CREATE FUNCTION app_attachment_sweeper() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(current_setting('app.attachment_sweeper', true), '') = 'on' $$;--> statement-breakpoint
CREATE POLICY attachment_sweeper_read ON attachments FOR SELECT
  USING (app_attachment_sweeper() AND message_id IS NULL AND created_at < now() - interval '24 hours');--> statement-breakpoint
CREATE POLICY attachment_sweeper_delete ON attachments FOR DELETE
  USING (app_attachment_sweeper() AND message_id IS NULL AND created_at < now() - interval '24 hours');--> statement-breakpoint
-- The new permissions: agents work contacts and merge tickets; owners and
-- admins hold every permission, the new ones included.
UPDATE roles SET permissions = ARRAY(
  SELECT DISTINCT p FROM unnest(permissions || ARRAY['contacts:read', 'contacts:write', 'tickets:merge', 'email:ingest']) p ORDER BY p)
WHERE builtin AND name IN ('owner', 'admin');--> statement-breakpoint
UPDATE roles SET permissions = ARRAY(
  SELECT DISTINCT p FROM unnest(permissions || ARRAY['contacts:read', 'contacts:write', 'tickets:merge']) p ORDER BY p)
WHERE builtin AND name = 'agent';
