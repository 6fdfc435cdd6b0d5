// Slow clients cannot hold the server: a body sent one byte at a time, headers
// that never end, an idle keep-alive connection and a socket reused forever are
// each cut off by a deadline from the settings, on a real listening server.
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { exchange, trickle } from '../helpers/raw-http.ts'

const ctx = await useTestApp({
  env: {
    REQUEST_TIMEOUT_MS: '1500',
    HEADERS_TIMEOUT_MS: '800',
    CONNECTION_TIMEOUT_MS: '5000',
    // A live event stream's heartbeat must come within the connection deadline.
    EVENT_STREAM_HEARTBEAT_SECONDS: '2',
    KEEP_ALIVE_TIMEOUT_MS: '600',
    MAX_REQUESTS_PER_SOCKET: '2',
  },
})
await ctx.app.listen({ host: '127.0.0.1', port: 0 })
const { port } = ctx.app.server.address() as AddressInfo

function expectTimeoutProblem(res: {
  status: number
  headers: Record<string, string>
  body: string
}) {
  expect(res.status).toBe(408)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(JSON.parse(res.body)).toMatchObject({ status: 408, code: 'request_timeout' })
}

describe('slow clients', () => {
  it('a body arriving one byte at a time → 408 problem+json and the socket closed', async () => {
    const res = await exchange(port, async (socket) => {
      socket.write(
        'POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n' +
          'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n',
      )
      await trickle(socket, `{"email":"${'a'.repeat(180)}`, 200)
    })
    expectTimeoutProblem(res)
    // The request deadline (1.5 s) plus at most one check interval, far before the 40 s of bytes.
    expect(res.closedAfterMs).toBeLessThan(4000)
  })

  it('headers arriving slowly → 408 problem+json and the socket closed', async () => {
    const res = await exchange(port, async (socket) => {
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n')
      await trickle(socket, 'X-Slow: '.padEnd(200, 'z'), 100)
    })
    expectTimeoutProblem(res)
    expect(res.closedAfterMs).toBeLessThan(3000)
  })

  it('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const res = await exchange(port, (socket) => {
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n')
    })
    expect(res.status).toBe(200)
    // Node adds a one-second grace (keepAliveTimeoutBuffer) to the setting.
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(500)
    expect(res.closedAfterMs).toBeLessThan(3000)
  })

  it('a connection serves MAX_REQUESTS_PER_SOCKET requests, then says close', async () => {
    const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
    const res = await exchange(port, (socket) => {
      socket.write(request + request)
    })
    const answers = res.raw.split('HTTP/1.1 ').slice(1)
    expect(answers).toHaveLength(2)
    expect(answers[0]).toMatch(/^200/)
    expect(answers[1]).toMatch(/^200[\s\S]*\r\nConnection: close\r\n/i)
  })
})
