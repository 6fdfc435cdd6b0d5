// A private redis-server on a loopback port of its own, for tests that stop
// Redis in the middle of work (the shared test Redis is never touched): start,
// kill (SIGKILL, nothing saved) and start again on the same port, empty, as a
// Redis restarted without persistence comes back.
import { type ChildProcess, spawn } from 'node:child_process'
import { Redis } from 'ioredis'
import { freePort } from '../fixtures/processes.ts'

export type PrivateRedis = {
  url: string
  port: number
  running: boolean
  kill(): Promise<void>
  start(): Promise<void>
  /** a short-lived client for inspecting the server (CLIENT LIST and the like) */
  command(...args: (string | number)[]): Promise<unknown>
  close(): Promise<void>
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child: ChildProcess | null = null

  const start = async () => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${output}`)),
        10_000,
      )
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}):\n${output}`))
      })
    })
    child = proc
    server.running = true
  }

  const server: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    running: false,
    start,
    async kill() {
      const proc = child
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
      child = null
      server.running = false
    },
    async command(...args) {
      const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 })
      try {
        await client.connect()
        return await client.call(String(args[0]), ...args.slice(1).map(String))
      } finally {
        client.disconnect()
      }
    },
    async close() {
      await server.kill()
    },
  }
  await start()
  return server
}
