// Request ids: honour a sane incoming X-Request-Id (so a trace spans the load
// balancer and the api), otherwise mint one. Anything odd is replaced, so a
// client cannot inject newlines or megabytes into every log line.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id']
  return typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID()
}
