// The knowledge base cut into passages for retrieval (domain/kb/passages.ts):
// each article's body split by heading and paragraph into pieces of bounded
// size, rewritten with the article in the same statement, so they are never
// out of step with it. The article's title, keywords and published flag are
// copied onto each passage, so that retrieval reads one table through one GIN
// index. Embeddings are filled in lazily by whoever has an embedding model
// (domain/ai/passage-embeddings.ts): the vector as real[] (what pgvector's
// `vector` casts from) and its binary quantization (one sign bit per
// dimension), which PostgreSQL 15 without pgvector compares fast with
// bit_count(a # b). Tenant-scoped with row-level security (drizzle/0019_kb_passages.sql).
import { sql } from 'drizzle-orm'
import {
  boolean,
  customType,
  foreignKey,
  index,
  pgTable,
  real,
  smallint,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { primaryId, tsvector } from './columns.ts'
import { kbArticles } from './helpdesk.ts'
import { tenantRef } from './tenants.ts'

/** PostgreSQL's bit varying (drizzle-orm has no column type for it): a '0101…' string. */
const varbit = customType<{ data: string }>({ dataType: () => 'bit varying' })

export const kbPassages = pgTable(
  'kb_passages',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    articleId: uuid('article_id').notNull(),
    /** the passage's place in its article, from 0 */
    position: smallint('position').notNull(),
    /** the article's title and keywords, copied */
    title: text('title').notNull(),
    keywords: text('keywords').notNull().default(''),
    /** the heading the passage sits under ('' before the first heading) */
    heading: text('heading').notNull().default(''),
    body: text('body').notNull(),
    published: boolean('published').notNull(),
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, title || ' ' || keywords), 'A') || setweight(to_tsvector('english'::regconfig, heading), 'B') || setweight(to_tsvector('english'::regconfig, body), 'C')`,
      ),
    embedding: real('embedding').array(),
    embeddingBits: varbit('embedding_bits'),
    embeddingModel: text('embedding_model'),
  },
  (t) => [
    foreignKey({
      name: 'kb_passages_article_fk',
      columns: [t.tenantId, t.articleId],
      foreignColumns: [kbArticles.tenantId, kbArticles.id],
    }).onDelete('cascade'),
    unique('kb_passages_article_position_key').on(t.tenantId, t.articleId, t.position),
    index('kb_passages_search_idx').using('gin', t.tenantId, t.search).where(sql`published`),
    index('kb_passages_embedding_model_idx').on(t.tenantId, t.embeddingModel).where(sql`published`),
  ],
)
