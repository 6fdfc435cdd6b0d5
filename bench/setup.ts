// Brings up what the benchmark measures: a migrated `deskpilot_bench` database
// on the real PostgreSQL, the api as a production process, and the bare
// baseline server, each a child process on the same Node as the runner.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { runMigrations } from '../src/db/migrate.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/deskpilot_bench'
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * Creates a database when missing (via the server's `postgres` database) and
 * migrates it: the bench's by default, or another tool's (bench:retrieval, eval:ai).
 */
export async function prepareDatabase(databaseUrl = BENCH_DATABASE_URL): Promise<void> {
  const url = new URL(databaseUrl)
  const name = decodeURIComponent(url.pathname.slice(1))
  url.pathname = '/postgres'
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`
    if (!exists) await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`)
  } finally {
    await admin.end({ timeout: 1 })
  }
  await runMigrations({ url: databaseUrl, dataDir: '.data' })
}

export type Started = { name: string; child: ChildProcess; url: string; output(): string }

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Spawns `script` on a free port (set in `portVariable`) and waits until `readyPath` answers 200. */
async function start(
  name: string,
  script: string,
  portVariable: string,
  readyPath: string,
  env: Record<string, string>,
): Promise<Started> {
  const port = await freePort()
  // The same memory settings as `npm start` and the image (see the Dockerfile),
  // for the api and the baseline alike, and BENCH_NODE_FLAGS for a profile,
  // e.g. "--cpu-prof --cpu-prof-dir=bench/profiles".
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []
  const flags = ['--max-semi-space-size=8', '--max-old-space-size=128', ...extra]
  const child = spawn(process.execPath, [...flags, `${root}${script}`], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      MALLOC_MMAP_THRESHOLD_: '131072',
      ...env,
      [portVariable]: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const append = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on('data', append)
  child.stderr.on('data', append)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode}:\n${output}`)
    const status = await fetch(`${url}${readyPath}`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) return { name, child, url, output: () => output }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  child.kill('SIGKILL')
  throw new Error(`${name} was not ready at ${url}${readyPath} within 30 s:\n${output}`)
}

/** One signing key for the api and the baseline, so both verify the same tokens. */
export const BENCH_JWT_SECRET = randomBytes(48).toString('base64url')

/**
 * Production requires SMTP_URL; the api only queues email jobs and no worker
 * runs during the api bench, so nothing is ever sent to this address.
 */
export const BENCH_SMTP_URL = 'smtp://127.0.0.1:2525'

/** Seals webhook signing secrets (required in production). */
export const BENCH_SECRET_ENCRYPTION_KEY = randomBytes(32).toString('hex')

/** Inbound mail: the platform token and the domain of the tenants' addresses. */
export const BENCH_INBOUND_TOKEN = randomBytes(32).toString('base64url')
export const BENCH_INBOUND_DOMAIN = 'in.bench.test'
/** Where the api and the baseline store files (both on the same disk, in folders of their own). */
export const BENCH_FILES_DIR = join(tmpdir(), 'deskpilot-bench-files')

/**
 * The api as production runs it (NODE_ENV=production, warn-level logs, no
 * migrations on start), with rate limits too high to interfere.
 */
export function startApi(): Promise<Started> {
  return start('api', 'src/server.ts', 'PORT', '/ready', {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: BENCH_DATABASE_URL,
    REDIS_URL: BENCH_REDIS_URL,
    REDIS_PREFIX: 'dpbench',
    JWT_SECRET: BENCH_JWT_SECRET,
    SMTP_URL: BENCH_SMTP_URL,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '1000000000',
    AUTH_RATE_LIMIT_MAX: '1000000000',
    INBOUND_DOMAIN: BENCH_INBOUND_DOMAIN,
    INBOUND_EMAIL_TOKEN: BENCH_INBOUND_TOKEN,
    STORAGE_DRIVER: 'local',
    STORAGE_DIR: join(BENCH_FILES_DIR, 'api'),
    SECRET_ENCRYPTION_KEY: BENCH_SECRET_ENCRYPTION_KEY,
    // The webhook route's endpoint is a receiver on loopback (bench/receiver.ts).
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  })
}

/** The bare baseline server (bench/baseline.ts). */
export function startBaseline(tenantId: string): Promise<Started> {
  return start('baseline', 'bench/baseline.ts', 'BASELINE_PORT', '/baseline/health', {
    JWT_SECRET: BENCH_JWT_SECRET,
    BENCH_DATABASE_URL,
    BENCH_TENANT_ID: tenantId,
    BENCH_FILES_DIR: join(BENCH_FILES_DIR, 'baseline'),
    INBOUND_EMAIL_TOKEN: BENCH_INBOUND_TOKEN,
  })
}

/** Resident memory of a child process in bytes (Linux /proc), or null elsewhere. */
export function residentBytes(pid: number | undefined): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]
    return kb ? Number(kb) * 1024 : null
  } catch {
    return null
  }
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
export async function stop(started: Started | undefined): Promise<void> {
  const child = started?.child
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
