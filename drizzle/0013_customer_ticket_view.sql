-- What a customer sees change on a ticket, apart from what agents do: the
-- customer's ETag and updatedAt (public_version, public_updated_at) move with a
-- public message, the subject and the status only, never with an internal
-- note, a tag, the priority or the assignee. A customer's list sorts by that
-- time, so it gets its index beside tickets_requester_updated_idx.
ALTER TABLE "tickets" ADD COLUMN "public_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "public_updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
-- Tickets written before: their public version and time start where the full ones are.
UPDATE "tickets" SET "public_version" = "version", "public_updated_at" = "updated_at";--> statement-breakpoint
CREATE INDEX "tickets_requester_public_updated_idx" ON "tickets" USING btree ("tenant_id","requester_id","public_updated_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE deleted_at IS NULL;