-- Bounds on what a ticket's search vectors hold, so no thread can make them
-- fail or slow every write to its ticket. Unbounded, a customer posting ~99 KB
-- messages of random words made the seventh post fail ("string is too long
-- for tsvector": a tsvector holds at most 1 MB) and each post before it cost
-- more than the last (the UPDATE rewrites and re-indexes the whole vector).
--
-- 1. A message's words are taken from its first 10,000 characters.
-- 2. A message's words are appended to a ticket's vector only while that
--    vector holds fewer than 5,000 lexemes (distinct words; a long ordinary
--    thread has one or two thousand); after that the ticket keeps the words
--    it has (its subject and its earliest messages), so one vector is at most
--    5,000 lexemes plus one message's (under 5,000).
-- The two vectors are bounded separately (search_all reaches its cap sooner,
-- with internal notes). src/db/sql-fragments.ts (SEARCH_BOUNDS) mirrors these
-- figures, and the tests' rebuild (tests/helpers/search-vectors.ts) applies
-- them on its own.
CREATE OR REPLACE FUNCTION message_search_vector(body text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT setweight(to_tsvector('english'::regconfig, left(body, 10000)), 'B') $$;
--> statement-breakpoint
-- What every writer appends a message with (appendToSearch() in
-- src/db/sql-fragments.ts): past the cap the message is not even analysed.
CREATE FUNCTION ticket_search_append(vector tsvector, body text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN length(vector) < 5000 THEN vector || message_search_vector(body) ELSE vector END $$;
--> statement-breakpoint
-- A ticket's vector rebuilt from its subject and thread, oldest message first,
-- by the same rule as the appends: what a subject change writes.
CREATE FUNCTION ticket_search_rebuild(tenant uuid, ticket uuid, subject text, with_internal boolean)
  RETURNS tsvector
  LANGUAGE plpgsql STABLE
  AS $$
DECLARE
  vector tsvector := setweight(to_tsvector('english'::regconfig, subject), 'A');
  message record;
BEGIN
  FOR message IN
    SELECT m.body FROM messages m
    WHERE m.tenant_id = tenant AND m.ticket_id = ticket AND m.author_type <> 'system'
      AND (with_internal OR NOT m.internal)
    ORDER BY m.created_at, m.id
  LOOP
    EXIT WHEN length(vector) >= 5000;
    vector := ticket_search_append(vector, message.body);
  END LOOP;
  RETURN vector;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tickets_search_subject() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.search_public := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A') || NEW.search_public;
    NEW.search_all := setweight(to_tsvector('english'::regconfig, NEW.subject), 'A') || NEW.search_all;
  ELSIF NEW.subject IS DISTINCT FROM OLD.subject THEN
    NEW.search_public := ticket_search_rebuild(NEW.tenant_id, NEW.id, NEW.subject, false);
    NEW.search_all := ticket_search_rebuild(NEW.tenant_id, NEW.id, NEW.subject, true);
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Tickets written before the bounds that exceed them are rebuilt under them.
UPDATE tickets k
  SET search_public = ticket_search_rebuild(k.tenant_id, k.id, k.subject, false),
      search_all = ticket_search_rebuild(k.tenant_id, k.id, k.subject, true)
  WHERE length(k.search_all) >= 5000
     OR EXISTS (SELECT 1 FROM messages m
                WHERE m.tenant_id = k.tenant_id AND m.ticket_id = k.id AND length(m.body) > 10000);
