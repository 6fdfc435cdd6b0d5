-- Ticket search indexes without GIN's pending list (fastupdate off): every
-- ticket update re-indexes all the words of its vectors, and with the list on,
-- each search scanned the whole list until a vacuum merged it. After a burst
-- of message writes that took search from ~800 to 179 requests/s. Altered in
-- place (what drizzle-kit generated would rebuild both indexes); the entries
-- already pending are merged into the index here.
ALTER INDEX "tickets_search_public_idx" SET (fastupdate = false);--> statement-breakpoint
ALTER INDEX "tickets_search_all_idx" SET (fastupdate = false);--> statement-breakpoint
SELECT gin_clean_pending_list('tickets_search_public_idx'::regclass);--> statement-breakpoint
SELECT gin_clean_pending_list('tickets_search_all_idx'::regclass);
