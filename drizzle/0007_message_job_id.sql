ALTER TABLE "messages" ADD COLUMN "job_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_job_id_key" ON "messages" USING btree ("job_id") WHERE job_id IS NOT NULL;