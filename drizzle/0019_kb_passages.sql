CREATE TABLE "kb_passages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"article_id" uuid NOT NULL,
	"position" smallint NOT NULL,
	"title" text NOT NULL,
	"keywords" text DEFAULT '' NOT NULL,
	"heading" text DEFAULT '' NOT NULL,
	"body" text NOT NULL,
	"published" boolean NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, title || ' ' || keywords), 'A') || setweight(to_tsvector('english'::regconfig, heading), 'B') || setweight(to_tsvector('english'::regconfig, body), 'C')) STORED NOT NULL,
	"embedding" real[],
	"embedding_bits" bit varying,
	"embedding_model" text,
	CONSTRAINT "kb_passages_article_position_key" UNIQUE("tenant_id","article_id","position")
);
--> statement-breakpoint
ALTER TABLE "kb_articles" ADD COLUMN "keywords" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "kb_passages" ADD CONSTRAINT "kb_passages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kb_passages" ADD CONSTRAINT "kb_passages_article_fk" FOREIGN KEY ("tenant_id","article_id") REFERENCES "public"."kb_articles"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "kb_passages_search_idx" ON "kb_passages" USING gin ("tenant_id","search") WHERE published;--> statement-breakpoint
CREATE INDEX "kb_passages_embedding_model_idx" ON "kb_passages" USING btree ("tenant_id","embedding_model") WHERE published;--> statement-breakpoint
-- Row-level security for passages, the pattern of 0006: ENABLE + FORCE and a
-- tenant_isolation policy on app_current_tenant().
ALTER TABLE kb_passages ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE kb_passages FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON kb_passages
  USING (tenant_id = app_current_tenant())
  WITH CHECK (tenant_id = app_current_tenant());--> statement-breakpoint
-- Articles written before passages existed get theirs here, one passage per
-- paragraph under its heading (a single '#' line); the application's splitter
-- (src/domain/kb/passages.ts) also merges short paragraphs and cuts long ones,
-- and rewrites them the next time the article is saved. FORCE is lifted for
-- the statement so that an owner who is not a superuser reads every tenant's
-- articles and writes their passages (this transaction only).
ALTER TABLE kb_articles NO FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE kb_passages NO FORCE ROW LEVEL SECURITY;--> statement-breakpoint
WITH blocks AS (
  SELECT a.tenant_id, a.id AS article_id, b.ord, btrim(b.block, E' \t\n') AS block
  FROM kb_articles a,
       regexp_split_to_table(replace(a.body, E'\r\n', E'\n'), E'\n[ \t]*\n') WITH ORDINALITY b(block, ord)
  WHERE btrim(b.block, E' \t\n') <> ''
), placed AS (
  SELECT *, block ~ E'^#{1,6}[ \t]+[^\n]+$' AS is_heading,
    max(CASE WHEN block ~ E'^#{1,6}[ \t]+[^\n]+$' THEN ord END)
      OVER (PARTITION BY article_id ORDER BY ord) AS heading_ord
  FROM blocks
)
INSERT INTO kb_passages (id, tenant_id, article_id, position, title, keywords, heading, body, published)
SELECT gen_random_uuid(), a.tenant_id, a.id,
  (row_number() OVER (PARTITION BY a.id ORDER BY p.ord) - 1)::smallint,
  a.title, '', coalesce(regexp_replace(h.block, E'^#{1,6}[ \t]+', ''), ''), left(p.block, 4000),
  a.published
FROM placed p
JOIN kb_articles a ON a.tenant_id = p.tenant_id AND a.id = p.article_id
LEFT JOIN placed h ON h.article_id = p.article_id AND h.ord = p.heading_ord
WHERE NOT p.is_heading;--> statement-breakpoint
-- An article with no paragraph at all still has its title to be found by.
INSERT INTO kb_passages (id, tenant_id, article_id, position, title, keywords, heading, body, published)
SELECT gen_random_uuid(), a.tenant_id, a.id, 0, a.title, '', '', '', a.published
FROM kb_articles a
WHERE NOT EXISTS (SELECT 1 FROM kb_passages p WHERE p.tenant_id = a.tenant_id AND p.article_id = a.id);--> statement-breakpoint
ALTER TABLE kb_articles FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE kb_passages FORCE ROW LEVEL SECURITY;
