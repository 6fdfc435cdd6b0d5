// The email processor: loads what the payload names (payloads carry ids only),
// mints any one-time token itself (the raw token exists only in the email; the
// database keeps its hash), renders the template and sends it through SMTP_URL,
// or, without SMTP_URL (local mode), writes an .eml file under DATA_DIR/mail/.
// A retried job mints a fresh token and invalidates the one before it. Ticket
// emails (ticket-emails.ts) carry In-Reply-To and References to a per-ticket
// root id, so mail clients show a ticket's emails as one conversation. An email
// for several people (ticket-created to every agent) goes as one message per
// recipient, never one To: header listing them all.
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UnrecoverableError } from 'bullmq'
import { and, eq, isNull, sql } from 'drizzle-orm'
import nodemailer, { type Transporter } from 'nodemailer'
import type { Config } from '../../config.ts'
import type { DatabaseHandle, Db } from '../../db/client.ts'
import { invitations } from '../../db/schema/access.ts'
import { jobs } from '../../db/schema/jobs.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { users, userTokens } from '../../db/schema/users.ts'
import { withScope, writeInScope } from '../../db/scoped.ts'
import { bare } from '../../db/sql-fragments.ts'
import { LOOP_HEADER } from '../../domain/email/loop-header.ts'
import { recordSentIds } from '../../domain/email/mail-threads.ts'
import { readDisabledNotice } from '../../domain/webhooks/disabled-notice.ts'
import { hashToken, randomToken } from '../../lib/tokens.ts'
import type { Payload } from '../queues.ts'
import type { Processor } from '../run-job.ts'
import * as templates from './email-templates.ts'
import { prepareTicketCreated, prepareTicketReply } from './ticket-emails.ts'

type Outgoing = templates.Outgoing

const TOKEN_TTL_MS = { verify_email: 24 * 3600_000, password_reset: 30 * 60_000 } as const

/**
 * An unlock link lives as long as the lock it lifts: past that the lock is
 * gone anyway, and a link that outlived it could lift a later lock.
 */
const unlockTtlMs = (config: Config) => config.LOGIN_LOCK_MINUTES * 60_000

export const processEmail: Processor = async ({ database, config, job, log }) => {
  const payload = job.payload as Payload<'email'>
  const outgoing = await prepare(database, config, job.tenantId, payload)
  const recipients = outgoing ? [...new Set([outgoing.to].flat())] : []
  if (!outgoing || recipients.length === 0) {
    log.info({ template: payload.template }, 'nobody to email; nothing sent')
    return { template: payload.template, skipped: 'no recipient' }
  }
  const domain = messageIdDomain(config)
  // Every email about a ticket answers one per-ticket root id, so clients thread them.
  const thread = outgoing.ticketId
    ? {
        inReplyTo: ticketRootId(outgoing.ticketId, domain),
        references: [ticketRootId(outgoing.ticketId, domain)],
      }
    : {}
  const content = {
    from: config.SMTP_FROM,
    ...(outgoing.replyTo ? { replyTo: outgoing.replyTo } : {}),
    // Marks Deskpilot's own mail, so the inbound path never takes it back in as a customer's.
    headers: { [LOOP_HEADER]: domain },
    subject: outgoing.email.subject,
    text: outgoing.email.text,
    html: outgoing.email.html,
    ...thread,
  }
  if (recipients.length === 1) {
    // The job id is stable across retries, so a resent email keeps its Message-ID.
    const sent = await deliver(config, job.id, {
      ...content,
      to: recipients[0]!,
      messageId: `<${job.id}@${domain}>`,
    })
    if (outgoing.ticketId && job.tenantId && payload.template === 'ticket-reply') {
      // Stored, so that the requester's answer threads to its ticket (mail-threads.ts).
      const ticketId = outgoing.ticketId
      await withScope(database, { tenantId: job.tenantId }, (tx) =>
        recordSentIds(tx, job.tenantId as string, {
          // As inbound mail names them: without the angle brackets.
          emailIds: [`<${job.id}@${domain}>`, ticketRootId(ticketId, domain)].map((id) =>
            id.slice(1, -1),
          ),
          ticketId,
          messageId: payload.messageId,
        }),
      )
    }
    log.info({ template: payload.template, messageId: sent.messageId, ...sent.logged }, sent.note)
    return { template: payload.template, ...sent.result }
  }

  // One message per recipient, so no one learns the others' addresses. Each
  // send is recorded in the row's result (as a hash, never the address) before
  // the next, so a retry after a failure part-way sends only to the rest.
  // A recipient the server refuses for good (5xx) does not stop the others; the
  // job then fails for good, saying how many were refused.
  const done = new Set(sentKeys(job.result))
  let sentNow = 0
  let refused = 0
  for (const address of recipients) {
    const key = recipientKey(job.id, address)
    if (done.has(key)) continue
    const sent = await deliver(config, `${job.id}-${key}`, {
      ...content,
      to: address,
      messageId: `<${job.id}.${key}@${domain}>`,
    }).catch((err: unknown) => {
      if (!(err instanceof UnrecoverableError)) throw err
      log.warn({ template: payload.template, err }, 'the SMTP server refused a recipient')
      refused++
      return null
    })
    if (!sent) continue
    done.add(key)
    sentNow++
    await writeInScope(
      database,
      { tenantId: job.tenantId },
      sql`update ${jobs} set ${bare(jobs.result)} = ${JSON.stringify({ sent: [...done] })}::jsonb
          where ${jobs.id} = ${job.id} and ${jobs.state} = 'running'`,
    )
    log.info({ template: payload.template, messageId: sent.messageId, ...sent.logged }, sent.note)
  }
  if (refused > 0) {
    throw new UnrecoverableError(
      `the SMTP server refused ${refused} of ${recipients.length} recipients`,
    )
  }
  return {
    template: payload.template,
    recipients: recipients.length,
    sentNow,
    sent: [...done],
  }
}

/**
 * A recipient as the row's result records it: a short hash of the job id and the
 * lowercased address (salted by the job, so hashes cannot be matched across jobs).
 */
function recipientKey(jobId: string, address: string): string {
  return createHash('sha256')
    .update(`${jobId}\n${address.trim().toLowerCase()}`)
    .digest('hex')
    .slice(0, 16)
}

function sentKeys(result: unknown): string[] {
  const sent = (result as { sent?: unknown } | null)?.sent
  return Array.isArray(sent) ? sent.filter((k): k is string => typeof k === 'string') : []
}

type Mail = {
  from: string
  replyTo?: string
  headers: Record<string, string>
  to: string
  subject: string
  text: string
  html: string
  messageId: string
  inReplyTo?: string
  references?: string[]
}

/** Sends one message through SMTP_URL, or writes it as an .eml file without it (local mode). */
async function deliver(config: Config, fileKey: string, mail: Mail) {
  if (config.SMTP_URL) {
    const info = await smtpTransport(config.SMTP_URL, config.SMTP_TIMEOUT_MS)
      .sendMail(mail)
      .catch((err: Error & { responseCode?: number }) => {
        // A 5xx is the server's final word on this message: resending cannot change it.
        const code = err.responseCode ?? 0
        if (code >= 500 && code < 600) throw new UnrecoverableError(err.message)
        throw err
      })
    return {
      messageId: mail.messageId,
      note: 'email sent',
      logged: {},
      result: { messageId: mail.messageId, accepted: info.accepted?.length ?? 0 },
    }
  }
  const file = await writeEml(config.DATA_DIR, fileKey, mail)
  // The .eml is quoted-printable, which breaks a token across lines and turns
  // `=` into `=3D`; the links as sent are logged so a developer can click them.
  // Never in production, where a log line must not hold a one-time token.
  const readable =
    config.NODE_ENV === 'production'
      ? {}
      : { to: mail.to, subject: mail.subject, links: linksIn(mail.text) }
  return {
    messageId: mail.messageId,
    note: 'email written to file (no SMTP_URL)',
    logged: { file, ...readable },
    result: { messageId: mail.messageId, file },
  }
}

async function prepare(
  database: DatabaseHandle,
  config: Config,
  tenantId: string | null,
  payload: Payload<'email'>,
): Promise<Outgoing | null> {
  switch (payload.template) {
    case 'verify-email': {
      const { user, token } = await mintUserToken(database.db, payload.userId, 'verify_email')
      const link = appLink(config, '/verify-email', token)
      return { to: user.email, email: templates.verifyEmail({ name: user.name, link }) }
    }
    case 'password-reset': {
      const { user, token } = await mintUserToken(database.db, payload.userId, 'password_reset')
      const link = appLink(config, '/reset-password', token)
      return { to: user.email, email: templates.passwordReset({ name: user.name, link }) }
    }
    case 'account-locked': {
      const ttlMs = unlockTtlMs(config)
      const { user, token } = await mintUserToken(
        database.db,
        payload.userId,
        'unlock_account',
        ttlMs,
      )
      const link = appLink(config, '/unlock-account', token)
      return {
        to: user.email,
        email: templates.accountLocked({
          name: user.name,
          link,
          minutes: config.LOGIN_LOCK_MINUTES,
        }),
      }
    }
    case 'invitation':
      return prepareInvitation(database, config, tenantId, payload.invitationId)
    case 'ticket-reply':
      return prepareTicketReply(database, config, tenantId, payload.messageId)
    case 'ticket-created':
      return prepareTicketCreated(database, config, tenantId, payload.ticketId)
    case 'webhook-disabled':
      return prepareWebhookDisabled(database, config, tenantId, payload.webhookId)
  }
}

/** A fresh one-time token for the user; older unused ones of that purpose stop working. */
async function mintUserToken(
  db: Db,
  userId: string,
  purpose: keyof typeof TOKEN_TTL_MS | 'unlock_account',
  ttlMs = TOKEN_TTL_MS[purpose as keyof typeof TOKEN_TTL_MS],
) {
  const token = randomToken()
  const user = await db.transaction(async (tx) => {
    const [found] = await tx
      .select({ id: users.id, email: users.email, name: users.name })
      .from(users)
      .where(eq(users.id, userId))
    if (!found) return undefined
    await tx
      .delete(userTokens)
      .where(
        and(
          eq(userTokens.userId, userId),
          eq(userTokens.purpose, purpose),
          isNull(userTokens.usedAt),
        ),
      )
    await tx.insert(userTokens).values({
      userId,
      purpose,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + ttlMs),
    })
    return found
  })
  if (!user) throw new UnrecoverableError('user not found')
  return { user, token }
}

async function prepareWebhookDisabled(
  database: DatabaseHandle,
  config: Config,
  tenantId: string | null,
  webhookId: string,
): Promise<Outgoing | null> {
  if (!tenantId) throw new UnrecoverableError('a webhook email job needs its tenant')
  const notice = await readDisabledNotice(database, tenantId, webhookId)
  if (!notice) return null
  const link = new URL(`${config.APP_URL.replace(/\/+$/, '')}/settings/webhooks/${webhookId}`)
  link.searchParams.set('tenant', notice.tenantSlug)
  return {
    to: notice.recipients,
    email: templates.webhookDisabled({ ...notice, link: link.toString() }),
  }
}

async function prepareInvitation(
  database: DatabaseHandle,
  config: Config,
  tenantId: string | null,
  invitationId: string,
): Promise<Outgoing> {
  if (!tenantId) throw new UnrecoverableError('an invitation job needs its tenant')
  const token = randomToken()
  const found = await withScope(database, { tenantId }, async (tx) => {
    const [row] = await tx
      .select({
        email: invitations.email,
        expiresAt: invitations.expiresAt,
        acceptedAt: invitations.acceptedAt,
        revokedAt: invitations.revokedAt,
        tenantName: tenants.name,
        inviterName: users.name,
      })
      .from(invitations)
      .innerJoin(tenants, eq(tenants.id, invitations.tenantId))
      .leftJoin(users, eq(users.id, invitations.invitedBy))
      .where(and(eq(invitations.id, invitationId), eq(invitations.tenantId, tenantId)))
    if (!row || row.acceptedAt || row.revokedAt || row.expiresAt <= new Date()) return row
    await tx
      .update(invitations)
      .set({ tokenHash: hashToken(token) })
      .where(and(eq(invitations.id, invitationId), eq(invitations.tenantId, tenantId)))
    return row
  })
  if (!found) throw new UnrecoverableError('invitation not found')
  if (found.acceptedAt || found.revokedAt || found.expiresAt <= new Date()) {
    throw new UnrecoverableError('invitation is no longer open')
  }
  return {
    to: found.email,
    email: templates.invitation({
      tenantName: found.tenantName,
      inviterName: found.inviterName,
      link: appLink(config, '/accept-invitation', token),
      expiresAt: found.expiresAt,
    }),
  }
}

function appLink(config: Config, path: string, token: string): string {
  const url = new URL(`${config.APP_URL.replace(/\/+$/, '')}${path}`)
  url.searchParams.set('token', token)
  return url.toString()
}

/** The Message-ID a ticket's emails all refer to (no email carries it: it stands for the ticket). */
function ticketRootId(ticketId: string, domain: string): string {
  return `<ticket-${ticketId}@${domain}>`
}

function messageIdDomain(config: Config): string {
  const from = /@([^>\s]+)>?\s*$/.exec(config.SMTP_FROM)
  return from?.[1] ?? new URL(config.APP_URL).hostname
}

// One pooled SMTP transport per URL per process, reused by every email job: a
// new SMTP connection per message costs more than the rest of the job.
const transports = new Map<string, Transporter>()

function smtpTransport(url: string, timeoutMs: number): Transporter {
  let transport = transports.get(url)
  if (!transport) {
    // nodemailer waits up to 10 minutes for an answer by default: a server that
    // hangs would hold the job (and its worker slot) that long.
    transport = nodemailer.createTransport({
      url,
      pool: true,
      maxConnections: 5,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    })
    transports.set(url, transport)
  }
  return transport
}

export function closeSmtpTransports(): void {
  for (const transport of transports.values()) transport.close()
  transports.clear()
}

function linksIn(text: string): string[] {
  return [...new Set(text.match(/https?:\/\/[^\s<>"]+/g) ?? [])]
}

async function writeEml(dataDir: string, jobId: string, mail: object): Promise<string> {
  const built = await nodemailer
    .createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
    .sendMail(mail)
  const dir = join(dataDir, 'mail')
  await mkdir(dir, { recursive: true })
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${jobId}.eml`)
  await writeFile(file, built.message as Buffer)
  return file
}
