-- The worker's sweeper re-pushes outbox rows left queued (Redis was down, or the
-- api died between commit and push). It must see queued rows of every tenant,
-- so it gets its own narrowly named path instead of RLS being switched off: a
-- transaction that sets app.job_sweeper = 'on' may read and touch (bump run_at)
-- rows in state 'queued', and nothing else. Rows that ran stay tenant-only.
CREATE FUNCTION app_job_sweeper() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(current_setting('app.job_sweeper', true), '') = 'on' $$;
--> statement-breakpoint
CREATE POLICY job_sweeper_read ON jobs FOR SELECT
  USING (app_job_sweeper() AND state = 'queued');
--> statement-breakpoint
CREATE POLICY job_sweeper_touch ON jobs FOR UPDATE
  USING (app_job_sweeper() AND state = 'queued')
  WITH CHECK (app_job_sweeper() AND state = 'queued');
