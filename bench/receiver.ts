// A webhook receiver on loopback for the benchmarks: answers every request
// 200 with a short body once it has read the request's body, and counts what
// it took in. It does not verify signatures (the tests do); it stands for a
// receiver that answers at once, so what is measured is the sending side.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Receiver = {
  url: string
  /** requests answered so far */
  received(): number
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  let received = 0
  const server: Server = createServer((req, res) => {
    req.on('data', () => {})
    req.on('end', () => {
      received++
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
      res.end('ok')
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // Never what keeps the bench's process alive.
  server.unref()
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/deskpilot`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
