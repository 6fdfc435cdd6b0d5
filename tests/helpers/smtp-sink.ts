// A real SMTP server on 127.0.0.1 (the smtp-server package) that records what
// it accepts, for tests of the email jobs. It can refuse chosen recipients, and
// hold each message before answering (a slow mail server), so a test can stop
// a worker mid-send; a
// message whose client went away before the answer is not recorded, as a real
// server would not have accepted it. Its `mode` makes it a faulty server:
// 'reject' answers every message with a permanent 550, 'hang' never answers
// (until the client gives up and closes the connection). Messages are parsed just enough for the
// tests: headers, and the text and HTML parts (quoted-printable or base64).
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export type SunkMessage = {
  from: string
  to: string[]
  headers: Map<string, string>
  subject: string
  text: string
  html: string
  raw: string
}

export type SmtpMode = 'accept' | 'reject' | 'hang'

export type SmtpSink = {
  url: string
  messages: SunkMessage[]
  /** how DATA is answered; applies to messages whose data arrives from now on */
  mode: SmtpMode
  /** Message-IDs answered 550 */
  rejected: string[]
  /** how long to hold each message before accepting it */
  holdMs: number
  /** messages whose DATA has arrived, accepted or not */
  received: number
  /** addresses refused at RCPT TO, as a mailbox that is full or gone */
  rejectRecipients: Set<string>
  /** the reply code of those refusals: 550 (for good) by default, 4xx for "try later" */
  rejectRecipientCode: number
  waitFor(count: number, timeoutMs?: number): Promise<SunkMessage[]>
  /** answers every message held by `holdMs` now */
  releaseHeld(): void
  close(): Promise<void>
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const closedSessions = new Set<string>()
  let closing = false
  const holds = new Set<() => void>()
  const sink: SmtpSink = {
    url: '',
    messages: [],
    mode: 'accept',
    rejected: [],
    holdMs: 0,
    received: 0,
    rejectRecipients: new Set(),
    rejectRecipientCode: 550,
    async waitFor(count, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      while (sink.messages.length < count) {
        if (Date.now() > until) {
          throw new Error(`expected ${count} emails, got ${sink.messages.length}`)
        }
        await new Promise((r) => setTimeout(r, 25))
      }
      return sink.messages
    },
    releaseHeld() {
      for (const release of holds) release()
    },
    async close() {
      closing = true
      for (const release of holds) release()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!sink.rejectRecipients.has(address.address.toLowerCase())) return callback()
      const responseCode = sink.rejectRecipientCode
      callback(Object.assign(new Error('mailbox unavailable'), { responseCode }))
    },
    onClose(session) {
      closedSessions.add(session.id)
      for (const release of holds) release()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        sink.received++
        const raw = Buffer.concat(chunks).toString('utf8')
        if (sink.mode === 'reject') {
          sink.rejected.push(parseMessage(raw).headers.get('message-id') ?? '')
          const refusal = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 })
          return callback(refusal)
        }
        if (sink.mode === 'hang') {
          // Held until the client closes the connection; then nothing was accepted.
          await new Promise<void>((resolve) => {
            const release = () => {
              if (!closing && !closedSessions.has(session.id)) return
              holds.delete(release)
              resolve()
            }
            holds.add(release)
          })
          return callback(new Error('client went away'))
        }
        if (sink.holdMs > 0) {
          await new Promise<void>((resolve) => {
            const release = () => {
              clearTimeout(timer)
              holds.delete(release)
              resolve()
            }
            const timer = setTimeout(release, sink.holdMs)
            holds.add(release)
          })
        }
        if (closedSessions.has(session.id)) return callback(new Error('client went away'))
        sink.messages.push({
          ...parseMessage(raw),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        })
        callback()
      })
    },
  })
  // A client that dies mid-session (a worker killed) resets its connection; smtp-server says so
  // as an 'error' event, which would otherwise end the test process.
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.server.address() as AddressInfo
  sink.url = `smtp://127.0.0.1:${port}`
  return sink
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>()
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim())
  }
  return headers
}

function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body, 'base64').toString('utf8')
  if (encoding?.toLowerCase() === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    return Buffer.from(bytes, 'latin1').toString('utf8')
  }
  return body
}

function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeBody(text.replace(/_/g, ' '), 'quoted-printable'),
  )
}

function parseMessage(raw: string) {
  const split = raw.search(/\r?\n\r?\n/)
  const headers = parseHeaders(raw.slice(0, split))
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '')
  const parts: { type: string; content: string }[] = []
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1]
  if (boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break
      const at = chunk.search(/\r?\n\r?\n/)
      const partHeaders = parseHeaders(chunk.slice(0, at))
      const content = chunk.slice(at).replace(/^\r?\n\r?\n/, '')
      parts.push({
        type: partHeaders.get('content-type') ?? 'text/plain',
        content: decodeBody(content, partHeaders.get('content-transfer-encoding')),
      })
    }
  } else {
    parts.push({
      type: headers.get('content-type') ?? 'text/plain',
      content: decodeBody(body, headers.get('content-transfer-encoding')),
    })
  }
  return {
    headers,
    subject: decodeWords(headers.get('subject') ?? ''),
    text: parts.find((p) => p.type.startsWith('text/plain'))?.content ?? '',
    html: parts.find((p) => p.type.startsWith('text/html'))?.content ?? '',
  }
}
