// A webhook receiver on loopback for the benchmarks: answers every request
// 200 with a short body once it has read the request's body, and counts what
// it took in. It does not verify signatures (the tests do); it stands for a
// receiver that answers at once, so what is measured is the sending side.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

export type Receiver = {
  url: string
  /** requests answered so far */
  received(): number
  close(): Promise<void>
}

/** `keepAlive`: the server keeps its process running (when it is the process: `node bench/receiver.ts`). */
export async function startReceiver(opts: { keepAlive?: boolean } = {}): Promise<Receiver> {
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
  // Inside a bench's own process, never what keeps it alive.
  if (!opts.keepAlive) server.unref()
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

// Run as a process of its own (bench/jobs.ts), so that the receiver does not
// share a thread with either worker it is measured against; prints its URL.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const receiver = await startReceiver({ keepAlive: true })
  console.log(`receiver listening at ${receiver.url}`)
  process.once('SIGTERM', () => receiver.close().then(() => process.exit(0)))
}
