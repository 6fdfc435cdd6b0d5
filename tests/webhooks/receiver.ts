// A real HTTP receiver on 127.0.0.1 for the delivery tests: records every
// request (headers and raw body) and every connection, and answers with the
// handler the test gives.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Receiver {
  port: number
  url: (path?: string) => string
  requests: ReceivedRequest[]
  connections: () => number
  close: () => Promise<void>
}

export async function startReceiver(
  handler: (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void,
): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  let connections = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    // A sender that dies mid-request (a worker killed) resets the connection: expected here.
    req.on('error', () => {})
    res.on('error', () => {})
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(received)
      handler(req, res, received)
    })
  })
  server.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Headers as the receiver's verify() takes them (Node gives string | string[]). */
export function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}
