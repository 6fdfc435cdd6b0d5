// Quotas on invitation emails, the one kind of platform mail a tenant sends to
// addresses of its own choosing (ticket mail only reaches the tenant's members):
// per tenant per rolling hour and day, per address per rolling day, and a
// cooldown before the same address is invited again. Without them a fresh
// tenant turns the platform's sender into a spam and phishing relay.
//
// The counts are the invitation rows themselves (each one is one email job),
// read in the transaction that would add the next one, so every api copy sees
// the same numbers and local mode needs nothing else. A transaction-scoped
// advisory lock per tenant serialises a burst of concurrent invitations: without
// it, thirty requests at once would each count the same committed rows and all
// pass. A refusal throws before anything is written.
import { sql } from 'drizzle-orm'
import type { Config } from '../../config.ts'
import type { Tx } from '../../db/client.ts'
import { invitations } from '../../db/schema/access.ts'
import { rowsOf } from '../../db/scoped.ts'
import type { CodeWithStatus } from '../../lib/problem-catalogue.ts'
import { Problem } from '../../lib/problems.ts'

/** The advisory-lock class of invitation quotas (the second key is the tenant's hash). */
const LOCK_CLASS = 0x1f17e

type Counts = Record<string, unknown> & {
  hour: number
  day: number
  address: number
  /** seconds until the oldest row of each window leaves it, and until the cooldown ends */
  hourFreesIn: number | null
  dayFreesIn: number | null
  addressFreesIn: number | null
  cooldownLeft: number | null
}

export type InvitationLimits = Pick<
  Config,
  | 'TENANT_MAIL_PER_HOUR'
  | 'TENANT_MAIL_PER_DAY'
  | 'MAIL_PER_ADDRESS_PER_DAY'
  | 'INVITE_COOLDOWN_SECONDS'
>

/** Throws 429 `mail_quota_exceeded` or `invitation_cooldown` when this invitation may not be sent. */
export async function assertInvitationMailAllowed(
  tx: Tx,
  limits: InvitationLimits,
  tenantId: string,
  email: string,
): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${tenantId}))`)
  const [counts] = await rowsOf<Counts>(
    tx,
    sql`
    with recent as (
      select ${invitations.createdAt} as created_at, lower(${invitations.email}) = ${email} as same_address
      from ${invitations}
      where ${invitations.tenantId} = ${tenantId} and ${invitations.createdAt} > now() - interval '1 day'
    )
    select
      count(*) filter (where created_at > now() - interval '1 hour')::int as hour,
      count(*)::int as day,
      count(*) filter (where same_address)::int as address,
      ceil(extract(epoch from min(created_at) filter (where created_at > now() - interval '1 hour')
        + interval '1 hour' - now()))::int as "hourFreesIn",
      ceil(extract(epoch from min(created_at) + interval '1 day' - now()))::int as "dayFreesIn",
      ceil(extract(epoch from min(created_at) filter (where same_address)
        + interval '1 day' - now()))::int as "addressFreesIn",
      ceil(extract(epoch from max(created_at) filter (where same_address)
        + make_interval(secs => ${limits.INVITE_COOLDOWN_SECONDS}) - now()))::int as "cooldownLeft"
    from recent`,
  )
  if (!counts) throw new Error('the quota count returned no row')
  if (counts.address > 0 && (counts.cooldownLeft ?? 0) > 0) {
    throw quotaProblem(
      'invitation_cooldown',
      counts.cooldownLeft,
      'This address was invited a moment ago; it can be invited again later.',
    )
  }
  if (counts.address >= limits.MAIL_PER_ADDRESS_PER_DAY) {
    throw quotaProblem(
      'mail_quota_exceeded',
      counts.addressFreesIn,
      `This address has had ${limits.MAIL_PER_ADDRESS_PER_DAY} invitations from this tenant today.`,
    )
  }
  if (counts.hour >= limits.TENANT_MAIL_PER_HOUR) {
    throw quotaProblem(
      'mail_quota_exceeded',
      counts.hourFreesIn,
      `This tenant has sent its ${limits.TENANT_MAIL_PER_HOUR} invitation emails for the hour.`,
    )
  }
  if (counts.day >= limits.TENANT_MAIL_PER_DAY) {
    throw quotaProblem(
      'mail_quota_exceeded',
      counts.dayFreesIn,
      `This tenant has sent its ${limits.TENANT_MAIL_PER_DAY} invitation emails for the day.`,
    )
  }
}

function quotaProblem(code: CodeWithStatus<429>, seconds: number | null, detail: string): Problem {
  const retryAfter = String(Math.max(1, seconds ?? 1))
  return new Problem(code, `${detail} Retry in ${retryAfter} seconds.`, {
    headers: { 'retry-after': retryAfter },
  })
}
