CREATE TABLE "ai_questions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" uuid,
	"api_key_id" uuid,
	"question" text NOT NULL,
	"answer" text NOT NULL,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"ticket_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ai_questions" ADD CONSTRAINT "ai_questions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ai_questions_tenant_user_created_idx" ON "ai_questions" USING btree ("tenant_id","user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "ai_questions_tenant_key_created_idx" ON "ai_questions" USING btree ("tenant_id","api_key_id","created_at","id");--> statement-breakpoint
-- Row-level security, the pattern of 0006: ENABLE + FORCE and a
-- tenant_isolation policy on app_current_tenant().
ALTER TABLE ai_questions ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE ai_questions FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON ai_questions
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
