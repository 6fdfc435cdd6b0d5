-- Failed sign-ins per email address (hashed), for accounts and unknown
-- addresses alike; the lock moves off users. Global like users: no tenant_id,
-- no row-level security. The app role gets its rights by default privileges.
CREATE TABLE "login_lockouts" (
	"email_hash" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "failed_login_count";--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "locked_until";