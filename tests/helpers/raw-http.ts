// Raw sockets against a listening app, for what app.inject() cannot send: bytes
// Node's HTTP parser refuses, requests that arrive slowly, connection reuse.
import { connect, type Socket } from 'node:net'

export type RawResponse = {
  status: number
  headers: Record<string, string>
  body: string
  /** the whole text the server wrote before it closed the socket */
  raw: string
  /** ms from connecting to the server closing the socket */
  closedAfterMs: number
}

/** Parses the first HTTP response in `raw`. */
export function parseResponse(raw: string): Omit<RawResponse, 'raw' | 'closedAfterMs'> {
  const end = raw.indexOf('\r\n\r\n')
  const head = end === -1 ? raw : raw.slice(0, end)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? NaN)
  const rest = end === -1 ? '' : raw.slice(end + 4)
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers,
    body: Number.isFinite(length) ? rest.slice(0, length) : rest,
  }
}

/**
 * Connects, lets `talk` write to the socket (it may keep writing slowly), and
 * resolves when the server closes the connection, or rejects after `limitMs`.
 */
export function exchange(
  port: number,
  talk: (socket: Socket) => void | Promise<void>,
  limitMs = 10_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let raw = ''
    const limit = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server kept the socket open for ${limitMs} ms; it wrote: ${raw}`))
    }, limitMs)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      raw += chunk
    })
    // Writes after the server closed fail with EPIPE/ECONNRESET: the close is what counts.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(limit)
      resolve({ ...parseResponse(raw), raw, closedAfterMs: Date.now() - started })
    })
    socket.on('connect', () => {
      Promise.resolve(talk(socket)).catch(() => {})
    })
  })
}

/** Writes `bytes` one at a time, `everyMs` apart, until the socket closes. */
export async function trickle(socket: Socket, bytes: string, everyMs: number): Promise<void> {
  for (const byte of bytes) {
    if (socket.destroyed || !socket.writable) return
    socket.write(byte)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
