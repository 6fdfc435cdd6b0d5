-- Row-level security for the helpdesk tables, copying the pattern of 0001 and
-- 0003: ENABLE + FORCE and a tenant_isolation policy on app_current_tenant().
--
-- Then the tickets' full-text vectors. A ticket is found by its subject and by
-- its messages' bodies, so a generated column cannot hold it; triggers keep two
-- vectors instead: search_public (subject + public bodies, what a customer
-- searches) and search_all (internal notes too, for messages:internal). The
-- subject is weight A and bodies weight B, so ts_rank puts a subject match
-- above a body match. System messages (status changes) are not indexed.
ALTER TABLE ticket_counters ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE ticket_counters FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON ticket_counters
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON tickets
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON messages
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
ALTER TABLE kb_articles ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE kb_articles FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON kb_articles
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON idempotency_keys
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());
--> statement-breakpoint
-- A new ticket starts with its subject; a changed subject rebuilds both vectors
-- from the subject and the stored bodies (rare, so the full rebuild is fine).
CREATE FUNCTION tickets_search_subject() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.search_public := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A');
    NEW.search_all := NEW.search_public;
  ELSIF NEW.subject IS DISTINCT FROM OLD.subject THEN
    NEW.search_public := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A') ||
      coalesce((SELECT setweight(to_tsvector('english'::regconfig, string_agg(m.body, ' ' ORDER BY m.created_at)), 'B')
                FROM messages m
                WHERE m.tenant_id = NEW.tenant_id AND m.ticket_id = NEW.id
                  AND NOT m.internal AND m.author_type <> 'system'), ''::tsvector);
    NEW.search_all := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A') ||
      coalesce((SELECT setweight(to_tsvector('english'::regconfig, string_agg(m.body, ' ' ORDER BY m.created_at)), 'B')
                FROM messages m
                WHERE m.tenant_id = NEW.tenant_id AND m.ticket_id = NEW.id
                  AND m.author_type <> 'system'), ''::tsvector);
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER tickets_search_subject
  BEFORE INSERT OR UPDATE OF subject ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_search_subject();
--> statement-breakpoint
-- Messages are never edited, so a new one is appended to the vectors; an
-- internal note only to search_all.
CREATE FUNCTION messages_search_append() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  body_vector tsvector := setweight(to_tsvector('english'::regconfig, NEW.body), 'B');
BEGIN
  UPDATE tickets
     SET search_all = search_all || body_vector,
         search_public = CASE WHEN NEW.internal THEN search_public ELSE search_public || body_vector END
   WHERE tenant_id = NEW.tenant_id AND id = NEW.ticket_id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER messages_search_append
  AFTER INSERT ON messages
  FOR EACH ROW WHEN (NEW.author_type <> 'system')
  EXECUTE FUNCTION messages_search_append();
