-- A message's words reach its ticket's search vectors through the same UPDATE
-- that stamps the ticket (version, updated_at, last_message_at, status), not
-- through a trigger of their own: every ticket row version is a new entry in
-- its twelve indexes, the GIN ones re-indexing every word of the vectors, so
-- one row version per message instead of two makes a message write ~35%
-- cheaper in the database and halves the GIN pending-list churn that slows
-- search. The writers (src/modules/tickets/messages.ts, service.ts and
-- workers/ai-reply.ts) append with message_search_vector(), in SQL built by
-- appendToSearch() (src/db/sql-fragments.ts).
DROP TRIGGER messages_search_append ON messages;
--> statement-breakpoint
DROP FUNCTION messages_search_append();
--> statement-breakpoint
CREATE FUNCTION message_search_vector(body text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT setweight(to_tsvector('english'::regconfig, body), 'B') $$;
--> statement-breakpoint
-- A new ticket starts with its subject, ahead of the first message's words the
-- INSERT may bring; a changed subject still rebuilds both vectors.
CREATE OR REPLACE FUNCTION tickets_search_subject() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.search_public := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A') || NEW.search_public;
    NEW.search_all := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A') || NEW.search_all;
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
