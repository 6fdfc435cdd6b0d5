CREATE TABLE "ai_generations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"ticket_id" uuid,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"outcome" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ai_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"provider" text,
	"base_url" text,
	"model" text,
	"embedding_model" text,
	"api_key" text,
	"api_key_last4" text,
	"monthly_token_budget" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ai_generations" ADD CONSTRAINT "ai_generations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_settings" ADD CONSTRAINT "ai_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ai_generations_tenant_created_idx" ON "ai_generations" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "ai_generations_tenant_tokens_idx" ON "ai_generations" USING btree ("tenant_id","created_at") WHERE "ai_generations"."prompt_tokens" + "ai_generations"."completion_tokens" > 0;--> statement-breakpoint
-- Row-level security, the pattern of 0006: ENABLE + FORCE and a
-- tenant_isolation policy on app_current_tenant().
ALTER TABLE ai_settings ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE ai_settings FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON ai_settings
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
ALTER TABLE ai_generations ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE ai_generations FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON ai_generations
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
-- The new permission: owners and admins choose the tenant's AI provider.
UPDATE roles SET permissions = ARRAY(
  SELECT DISTINCT p FROM unnest(permissions || ARRAY['ai:manage']) p ORDER BY p)
WHERE builtin AND name IN ('owner', 'admin');
