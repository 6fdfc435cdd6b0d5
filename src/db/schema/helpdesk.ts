// The helpdesk: tickets (numbered per tenant through a counter row), their
// messages (with internal notes and system messages for history), the
// knowledge base, and stored responses for Idempotency-Key retries. All are
// tenant-scoped with row-level security (drizzle/*_rls_helpdesk.sql) and
// composite foreign keys (tenant_id, x_id), so no row points into another
// tenant. The tickets' full-text vectors start from the subject by a trigger
// (drizzle/0006, 0009: drizzle-kit cannot express it); each message's words are
// appended by the UPDATE that stamps its ticket (messageStamp()).
import { sql } from 'drizzle-orm'
import {
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { primaryId, tsvector } from './columns.ts'
import { contacts } from './contacts.ts'
import { tenantRef, tenants } from './tenants.ts'
import { users } from './users.ts'

export const ticketStatuses = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const
export type TicketStatus = (typeof ticketStatuses)[number]
export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const
export type TicketPriority = (typeof ticketPriorities)[number]
/** Each priority's rank, what -priority sorts by (the priority_rank column, the list's cursors). */
export const PRIORITY_RANK = { urgent: 4, high: 3, normal: 2, low: 1 } as const satisfies Record<
  TicketPriority,
  number
>
export const authorTypes = ['customer', 'agent', 'ai', 'system'] as const
export type AuthorType = (typeof authorTypes)[number]
export type MessageSource = { kind: string; id: string; title: string }

/**
 * What the AI triage and summary jobs found about a ticket (jobs/ai/triage-processor.ts):
 * the summary alone until a triage ran; agents only.
 */
export type TicketAi = {
  summary: string
  language?: string
  sentiment?: 'negative' | 'neutral' | 'positive'
  suggestedPriority?: TicketPriority
  suggestedTags?: string[]
  generatedAt: string
}

const created = timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updated = timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

/** The last ticket number handed out per tenant; its row lock serialises concurrent creates. */
export const ticketCounters = pgTable('ticket_counters', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  lastNumber: integer('last_number').notNull().default(0),
})

const live = sql`deleted_at IS NULL`

/**
 * priority_rank's expression, spelled from PRIORITY_RANK, highest first, the
 * lowest as the ELSE: `CASE priority WHEN 'urgent' THEN 4 ... ELSE 1 END`, the
 * text drizzle/0005 created the column with.
 */
function priorityRankCase() {
  const ranked = Object.entries(PRIORITY_RANK).sort(([, a], [, b]) => b - a)
  const [, lowest] = ranked.pop() as [TicketPriority, number]
  const whens = ranked.map(([priority, rank]) => `WHEN '${priority}' THEN ${rank}`)
  return sql.raw(`CASE priority ${whens.join(' ')} ELSE ${lowest} END`)
}

export const tickets = pgTable(
  'tickets',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    number: integer('number').notNull(),
    subject: text('subject').notNull(),
    status: text('status').$type<TicketStatus>().notNull().default('new'),
    priority: text('priority').$type<TicketPriority>().notNull().default('normal'),
    /** sort key of -priority: PRIORITY_RANK, urgent 4 … low 1 */
    priorityRank: smallint('priority_rank').notNull().generatedAlwaysAs(priorityRankCase()),
    /** a contact of the tenant (contacts.ts) */
    requesterId: uuid('requester_id').notNull(),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    /** normalised (trimmed, lowercase, unique, sorted) by the service */
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** bumped by every change; the ETag is W/"<version>" */
    version: integer('version').notNull().default(1),
    /**
     * bumped, with publicUpdatedAt, only by what a customer sees change (a
     * public message, the subject, the status): the customer's ETag and
     * updatedAt, so an internal note or a new tag tells a customer nothing
     */
    publicVersion: integer('public_version').notNull().default(1),
    publicUpdatedAt: timestamp('public_updated_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: created,
    updatedAt: updated,
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /** set when this ticket was merged into another: it is closed and points there */
    mergedIntoId: uuid('merged_into_id'),
    /** the closed ticket a later mail on its thread reopened as this one */
    followUpOfId: uuid('follow_up_of_id'),
    /** the AI triage's and summary's findings (TicketAi); null until a job stores some */
    ai: jsonb('ai').$type<TicketAi>(),
    /** subject (A) and public message bodies (B); what customers search */
    searchPublic: tsvector('search_public').notNull().default(sql`''::tsvector`),
    /** subject (A) and every message body, internal notes included */
    searchAll: tsvector('search_all').notNull().default(sql`''::tsvector`),
  },
  (t) => [
    unique('tickets_tenant_id_id_key').on(t.tenantId, t.id),
    unique('tickets_tenant_number_key').on(t.tenantId, t.number),
    foreignKey({
      name: 'tickets_requester_fk',
      columns: [t.tenantId, t.requesterId],
      foreignColumns: [contacts.tenantId, contacts.id],
    }),
    foreignKey({
      name: 'tickets_merged_into_fk',
      columns: [t.tenantId, t.mergedIntoId],
      foreignColumns: [t.tenantId, t.id],
    }),
    foreignKey({
      name: 'tickets_follow_up_of_fk',
      columns: [t.tenantId, t.followUpOfId],
      foreignColumns: [t.tenantId, t.id],
    }),
    // One index per sort, and one per filter in the default sort (-updatedAt).
    index('tickets_updated_idx').on(t.tenantId, t.updatedAt.desc(), t.id.desc()).where(live),
    index('tickets_created_idx').on(t.tenantId, t.createdAt, t.id).where(live),
    index('tickets_priority_idx').on(t.tenantId, t.priorityRank.desc(), t.id.desc()).where(live),
    // A customer's own tickets in its -updatedAt, the public time.
    index('tickets_requester_public_updated_idx')
      .on(t.tenantId, t.requesterId, t.publicUpdatedAt.desc(), t.id.desc())
      .where(live),
    index('tickets_requester_updated_idx')
      .on(t.tenantId, t.requesterId, t.updatedAt.desc(), t.id.desc())
      .where(live),
    index('tickets_assignee_updated_idx')
      .on(t.tenantId, t.assigneeId, t.updatedAt.desc(), t.id.desc())
      .where(live),
    index('tickets_status_updated_idx')
      .on(t.tenantId, t.status, t.updatedAt.desc(), t.id.desc())
      .where(live),
    index('tickets_priority_updated_idx')
      .on(t.tenantId, t.priority, t.updatedAt.desc(), t.id.desc())
      .where(live),
    // GIN indexes lead with tenant_id (btree_gin) so that, under row-level
    // security, one index scan serves the tenant and the match together (see
    // drizzle/0008_tenant_gin_indexes.sql for the leakproof side of it).
    index('tickets_tags_idx').using('gin', t.tenantId, t.tags).where(live),
    // fastupdate off: every ticket update re-indexes the vectors' words, and
    // with GIN's pending list on, each search scanned that list in full until
    // a vacuum merged it, so search slowed down after every burst of writes.
    index('tickets_search_public_idx')
      .using('gin', t.tenantId, t.searchPublic)
      .with({ fastupdate: false })
      .where(live),
    index('tickets_search_all_idx')
      .using('gin', t.tenantId, t.searchAll)
      .with({ fastupdate: false })
      .where(live),
  ],
)

export const messages = pgTable(
  'messages',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    ticketId: uuid('ticket_id').notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    authorType: text('author_type').$type<AuthorType>().notNull(),
    /** the contact who wrote a customer message (by mail, or as a customer member) */
    contactId: uuid('contact_id'),
    body: text('body').notNull(),
    internal: boolean('internal').notNull().default(false),
    sources: jsonb('sources').$type<MessageSource[]>(),
    /** the job that wrote it (AI replies): unique, so a retried job never posts twice */
    jobId: uuid('job_id'),
    createdAt: created,
  },
  (t) => [
    foreignKey({
      name: 'messages_ticket_fk',
      columns: [t.tenantId, t.ticketId],
      foreignColumns: [tickets.tenantId, tickets.id],
    }).onDelete('cascade'),
    unique('messages_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'messages_contact_fk',
      columns: [t.tenantId, t.contactId],
      foreignColumns: [contacts.tenantId, contacts.id],
    }),
    index('messages_contact_idx').on(t.tenantId, t.contactId).where(sql`contact_id IS NOT NULL`),
    index('messages_ticket_created_idx').on(t.tenantId, t.ticketId, t.createdAt, t.id),
    uniqueIndex('messages_job_id_key').on(t.jobId).where(sql`job_id IS NOT NULL`),
  ],
)

export const kbArticles = pgTable(
  'kb_articles',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** words and phrases customers use for what the article answers (retrieval reads them like its title) */
    keywords: text('keywords').array().notNull().default(sql`'{}'::text[]`),
    published: boolean('published').notNull().default(false),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: created,
    updatedAt: updated,
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, body), 'B')`,
      ),
  },
  (t) => [
    unique('kb_articles_tenant_id_id_key').on(t.tenantId, t.id),
    index('kb_articles_updated_idx').on(t.tenantId, t.updatedAt.desc(), t.id.desc()),
    index('kb_articles_published_updated_idx')
      .on(t.tenantId, t.updatedAt.desc(), t.id.desc())
      .where(sql`published`),
    index('kb_articles_search_idx').using('gin', t.tenantId, t.search),
  ],
)

/**
 * One Idempotency-Key per caller: the first request inserts the row (the
 * primary key serialises concurrent retries), the response is stored in the
 * same transaction as the change it describes.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: tenantRef(),
    /** the user or API key that sent it: keys of different callers never collide */
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code').notNull().default(0),
    response: jsonb('response'),
    createdAt: created,
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.principal, t.key] }),
    index('idempotency_keys_expires_idx').on(t.tenantId, t.expiresAt),
  ],
)
