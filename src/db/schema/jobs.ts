// The job table is the outbox: a row is written in the same transaction as the
// change that causes the job, then pushed to BullMQ with jobId = row id.
// Tenant-scoped (row-level security) except for system jobs with no tenant.
import { sql } from 'drizzle-orm'
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId } from './columns.ts'
import { tenants } from './tenants.ts'

export const jobStates = ['queued', 'running', 'succeeded', 'failed'] as const
export type JobState = (typeof jobStates)[number]

export const jobs = pgTable(
  'jobs',
  {
    id: primaryId(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    state: text('state').$type<JobState>().notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_tenant_created_idx').on(t.tenantId, t.createdAt),
    // The sweeper's scan: only rows still queued, oldest first.
    index('jobs_queued_run_at_idx').on(t.runAt).where(sql`${t.state} = 'queued'`),
  ],
)
