// Passages ranked by meaning: embeddings from the tenant's embedding model
// (any `embed(texts) → vectors` the caller passes in: jobs/ai/openai-embeddings.ts
// for an OpenAI-compatible /embeddings endpoint), compared by cosine.
//
// Stored without pgvector, which the CI's PostgreSQL 15 does not have: each
// passage keeps its unit-length vector as real[] and its binary quantization
// (one bit per dimension, set when the value is positive) as bit varying.
// A query ranks the tenant's passages by Hamming distance of the bits
// (bit_count(a # b), a C loop over a few hundred bytes a row), keeps the
// COARSE_CANDIDATES closest, and orders those by the exact dot product of the
// real[] vectors (their cosine, since both are unit length). Binary
// quantization with an exact rescoring of a shortlist is how vector stores
// keep recall at a fraction of the cost; the real[] column is also what
// pgvector's `vector` casts from, should the extension be installed later.
//
// Vectors are filled in lazily, PENDING_PER_CALL passages per retrieval, for
// the model the caller names: passages written, changed or embedded by another
// model since are embedded again. The write is guarded by the passage's text,
// so a vector computed from text changed meanwhile is not stored.

import { sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { kbPassages } from '../../db/schema/kb-passages.ts'
import { readInScope, writeInScope } from '../../db/scoped.ts'
import type { PassageCandidate } from './kb-retrieval.ts'

/** The tenant's embedding model: one vector per text, in order. */
export type Embedder = {
  /** names the vectors' space: vectors of another model are never compared with these */
  model: string
  embed(texts: string[]): Promise<number[][]>
}

const BATCH = 64
const PENDING_PER_CALL = 256
const COARSE_CANDIDATES = 200
const RANKED = 40
const EMBED_CHARS = 2000

const p = kbPassages

type PendingPassage = { id: string; title: string; keywords: string; heading: string; body: string }

/** A passage as the full-text query names it, and how close it is in meaning. */
export type SimilarPassage = Pick<
  PassageCandidate,
  'id' | 'articleId' | 'position' | 'title' | 'heading' | 'body'
> & { similarity: number }

/** The vector scaled to length 1 (cosine becomes a dot product); a zero vector stays zero. */
export function unitVector(vector: number[]): number[] {
  const norm = Math.hypot(...vector)
  return norm > 0 ? vector.map((x) => x / norm) : vector.map(() => 0)
}

/** Binary quantization: one bit per dimension, 1 where the value is positive. */
export function signBits(vector: number[]): string {
  return vector.map((x) => (x > 0 ? '1' : '0')).join('')
}

/** An array literal PostgreSQL reads as real[] (no driver-specific array binding). */
function realArray(vector: number[]): string {
  return `{${vector.map((x) => (Number.isFinite(x) ? x : 0)).join(',')}}`
}

function passageText(passage: PendingPassage): string {
  return [passage.title, passage.keywords, passage.heading, passage.body]
    .filter(Boolean)
    .join('\n')
    .slice(0, EMBED_CHARS)
}

async function embedChecked(embedder: Embedder, texts: string[]): Promise<number[][]> {
  const vectors = await embedder.embed(texts)
  const dims = vectors[0]?.length ?? 0
  if (
    vectors.length !== texts.length ||
    dims === 0 ||
    vectors.some((v) => v.length !== dims || v.some((x) => typeof x !== 'number'))
  ) {
    throw new Error(
      `the embedding model answered ${vectors.length} vectors for ${texts.length} texts`,
    )
  }
  return vectors
}

/**
 * Embeds up to `limit` of the tenant's published passages that have no vector
 * from this model yet; answers how many it stored.
 */
export async function embedPendingPassages(
  database: DatabaseHandle,
  tenantId: string,
  embedder: Embedder,
  limit = PENDING_PER_CALL,
): Promise<number> {
  const pending = await readInScope<PendingPassage>(
    database,
    { tenantId },
    sql`select ${p.id} as id, ${p.title} as title, ${p.keywords} as keywords,
          ${p.heading} as heading, ${p.body} as body
        from ${p}
        where ${p.tenantId} = ${tenantId} and ${p.published}
          and ${p.embeddingModel} is distinct from ${embedder.model}
        order by ${p.id}
        limit ${limit}`,
  )
  let stored = 0
  for (let start = 0; start < pending.length; start += BATCH) {
    const batch = pending.slice(start, start + BATCH)
    const vectors = await embedChecked(embedder, batch.map(passageText))
    const records = batch.map((passage, i) => {
      const vector = unitVector(vectors[i]!)
      return { ...passage, embedding: realArray(vector), bits: signBits(vector) }
    })
    const rows = await writeInScope<{ id: string }>(
      database,
      { tenantId },
      sql`update ${p} set embedding = r.embedding::real[], embedding_bits = r.bits::varbit,
            embedding_model = ${embedder.model}
          from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
            as r(id uuid, title text, keywords text, heading text, body text, embedding text, bits text)
          where ${p.tenantId} = ${tenantId} and ${p.id} = r.id
            and (${p.title}, ${p.keywords}, ${p.heading}, ${p.body}) = (r.title, r.keywords, r.heading, r.body)
          returning ${p.id} as id`,
    )
    stored += rows.length
  }
  return stored
}

/**
 * The tenant's published passages closest in meaning to `text`, best first
 * (after embedding the pending ones). Throws when the embedding model fails:
 * the caller falls back to full-text search.
 */
export async function similarPassages(
  database: DatabaseHandle,
  tenantId: string,
  text: string,
  embedder: Embedder,
): Promise<SimilarPassage[]> {
  await embedPendingPassages(database, tenantId, embedder)
  const [raw] = await embedChecked(embedder, [text.slice(0, EMBED_CHARS)])
  const query = unitVector(raw!)
  return readInScope<SimilarPassage>(
    database,
    { tenantId },
    sql`with shortlist as (
          select ${p.id} as id from ${p}
          where ${p.tenantId} = ${tenantId} and ${p.published}
            and ${p.embeddingModel} = ${embedder.model}
            and length(${p.embeddingBits}) = ${query.length}
          order by bit_count(${p.embeddingBits} # ${signBits(query)}::varbit), ${p.id}
          limit ${COARSE_CANDIDATES})
        select ${p.id} as id, ${p.articleId} as "articleId", ${p.position} as position,
          ${p.title} as title, ${p.heading} as heading, ${p.body} as body,
          (select sum(x * y) from unnest(${p.embedding}, ${realArray(query)}::real[]) as v(x, y))
            as similarity
        from ${p} join shortlist on shortlist.id = ${p.id}
        where ${p.tenantId} = ${tenantId}
        order by similarity desc, ${p.id}
        limit ${RANKED}`,
  )
}
