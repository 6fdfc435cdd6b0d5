// The SMTP front door for mail (`npm run mail-in`), for self-hosters who point
// an MX record (or their MTA's transport) at Deskpilot. Built on smtp-server:
// it accepts RCPT TO only for `<slug>@INBOUND_DOMAIN` naming a live tenant
// (550 5.1.1 otherwise, before any data is sent), at most 100 recipients a
// message (452, as RFC 5321 allows past 100), and data up to
// INBOUND_MAX_BYTES (552). Each accepted message goes to the one ingestion
// path (domain/email/ingest.ts) once per tenant it was addressed to. A
// message that cannot be read is refused for good (550 5.6.0); a failure on
// our side (the database away) is temporary (451), so the sender retries and
// nothing is lost.
import type { Logger } from 'pino'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import type { DatabaseHandle } from '../db/client.ts'
import { slugOfAddress, tenantOfRecipients } from '../domain/email/inbound-address.ts'
import { ingestEmail, readInboundMail } from '../domain/email/ingest.ts'
import type { QueuedJob } from '../jobs/outbox.ts'
import { Problem } from '../lib/problems.ts'
import type { Storage } from '../lib/storage/storage.ts'

export type ReceiverDeps = {
  database: DatabaseHandle
  storage: Storage
  log: Pick<Logger, 'info' | 'warn' | 'error'>
  /** pushes the jobs the mail caused (they are in the outbox already) */
  dispatch: (jobs: QueuedJob[]) => Promise<void>
  /** says the tenant has new events (committed), for the api's live streams */
  announce: (tenantId: string) => void
}

export type ReceiverSettings = {
  domain: string
  host: string
  port: number
  maxBytes: number
  attachmentMaxBytes: number
}

const MAX_RECIPIENTS = 100

/** An SMTP reply: smtp-server sends `responseCode` and the message. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code })
}

export function createSmtpReceiver(deps: ReceiverDeps, settings: ReceiverSettings): SMTPServer {
  const options: SMTPServerOptions = {
    name: settings.domain,
    banner: 'Deskpilot mail-in',
    // Mail from the world arrives unauthenticated; TLS is the MTA's in front of
    // it, or a reverse proxy's (README, "Mail in").
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: settings.maxBytes,
    logger: false,
    async onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) {
        return callback(smtpError(452, '4.5.3 Too many recipients'))
      }
      const slug = slugOfAddress(address.address, settings.domain)
      const tenant = slug
        ? await tenantOfRecipients(deps.database, [address.address], settings.domain).catch(
            () => undefined,
          )
        : null
      if (tenant === undefined) return callback(smtpError(451, '4.3.0 Try again later'))
      if (!tenant) return callback(smtpError(550, '5.1.1 No such mailbox here'))
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('error', (err) => callback(err))
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) {
          return callback(smtpError(552, '5.3.4 Message too big'))
        }
        const raw = Buffer.concat(chunks)
        const recipients = session.envelope.rcptTo.map((r) => r.address)
        deliver(deps, settings, raw, recipients).then(
          () => callback(),
          (err: unknown) => {
            if (err instanceof Problem && err.statusCode < 500) {
              return callback(smtpError(550, `5.6.0 ${err.message}`))
            }
            deps.log.error({ err }, 'inbound mail failed; the sender will retry')
            callback(smtpError(451, '4.3.0 Try again later'))
          },
        )
      })
    },
  }
  const server = new SMTPServer(options)
  // smtp-server re-emits every connection's socket error (a sender that resets
  // its connection mid-session is common on the open internet) on the server:
  // with no listener that would end the process.
  server.on('error', (err: NodeJS.ErrnoException) =>
    deps.log.warn({ err: err.message, code: err.code }, 'smtp connection error'),
  )
  return server
}

/** Takes the message in once for each tenant it was addressed to. */
async function deliver(
  deps: ReceiverDeps,
  settings: ReceiverSettings,
  raw: Buffer,
  recipients: string[],
) {
  const mail = await readInboundMail(raw)
  const seen = new Set<string>()
  for (const recipient of recipients) {
    const tenant = await tenantOfRecipients(deps.database, [recipient], settings.domain)
    if (!tenant || seen.has(tenant.id)) continue
    seen.add(tenant.id)
    const ingested = await ingestEmail(
      deps,
      tenant,
      { raw, mail },
      { attachmentMaxBytes: settings.attachmentMaxBytes },
    )
    deps.log.info(
      {
        tenantId: tenant.id,
        messageId: mail.messageId,
        duplicate: ingested.duplicate,
        ...ingested.outcome,
      },
      'inbound mail taken in',
    )
    if (!ingested.duplicate) deps.announce(tenant.id)
    if (ingested.jobs.length > 0) await deps.dispatch(ingested.jobs)
  }
}

/** Starts listening; resolves with the port (0 in settings picks a free one). */
export function listen(server: SMTPServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.server.address()
      resolve(typeof address === 'object' && address ? address.port : port)
    })
  })
}

export function closeReceiver(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}
