// `npm run bench`: loads each route of bench/routes.ts on the api (a
// production process on the real PostgreSQL and Redis) and on the bare
// baseline server, in interleaved rounds so that drift on a shared machine hits
// both alike, and prints per route the median requests/s, p50 and p99 latency,
// and the api's throughput as a ratio of the baseline's. Ratios are what count.
//
// BENCH_DURATION (seconds per round and target, default 10), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (32), BENCH_WARMUP (seconds, 2), BENCH_ONLY (a regular
// expression: run only the routes whose name matches); BENCH_DATABASE_URL and
// BENCH_REDIS_URL say where the services are (see bench/setup.ts).
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import postgres from 'postgres'
import { type BenchRoute, routes } from './routes.ts'
import { INBOUND_SUBJECT, seedBench } from './seed.ts'
import {
  BENCH_DATABASE_URL,
  prepareDatabase,
  residentBytes,
  type Started,
  startApi,
  startBaseline,
  stop,
} from './setup.ts'

const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)

type Sample = { rps: number; p50: number; p99: number; non2xx: number; errors: number }
type TargetKey = 'api' | 'baseline' | 'referenceApi' | 'referenceBaseline'
type Measured = {
  route: BenchRoute
  /** the route named by route.compareWith, loaded in the same rounds */
  reference?: BenchRoute
} & Partial<Record<TargetKey, Sample[]>> & { api: Sample[]; baseline: Sample[] }

async function load(
  url: string,
  route: BenchRoute,
  headers: Record<string, string>,
  seconds: number,
): Promise<Sample> {
  const base = new URL(url)
  const paths = route.paths?.(base.pathname)
  let next = 0
  const hasBody = route.body !== undefined || route.makeBody !== undefined
  const contentType = route.contentType ?? 'application/json'
  const result = await autocannon({
    url,
    method: route.method ?? 'GET',
    headers: { ...headers, ...(hasBody ? { 'content-type': contentType } : {}) },
    ...(route.body ? { body: route.body } : {}),
    // Spread over many rows (e.g. tickets), so a write benchmark is not one row's lock
    // queue; or a body of its own per request (a mail's Message-ID).
    ...(paths || route.makeBody
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                ...(paths ? { path: paths[next++ % paths.length] ?? base.pathname } : {}),
                ...(route.makeBody ? { body: route.makeBody() } : {}),
              }),
            },
          ],
        }
      : {}),
    connections: CONNECTIONS,
    duration: seconds,
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function measure(api: Started, baseline: Started, sql: postgres.Sql): Promise<Measured[]> {
  const measured: Measured[] = []
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null
  const ctx = { apiUrl: api.url, sql }
  for (const route of routes.filter((r) => !only || only.test(r.name))) {
    const reference = route.compareWith
      ? routes.find((r) => r.name === route.compareWith)
      : undefined
    if (route.compareWith && !reference) throw new Error(`no route ${route.compareWith}`)
    const targetsOf = async (of: BenchRoute, keys: [TargetKey, TargetKey]) => {
      const prepared = (await of.prepare?.(ctx)) ?? {}
      const headers = { ...of.headers, ...prepared.headers }
      return [
        { key: keys[0], route: of, url: `${api.url}${of.path}`, headers },
        { key: keys[1], route: of, url: `${baseline.url}${of.baselinePath}`, headers },
      ]
    }
    // The reference's prepare first: the route's own runs last, so module state it
    // sets (a route's ticket ids) is the route's.
    const targets = [
      ...(reference ? await targetsOf(reference, ['referenceApi', 'referenceBaseline']) : []),
      ...(await targetsOf(route, ['api', 'baseline'])),
    ]
    targets.push(...targets.splice(0, reference ? 2 : 0))
    const run = async (target: (typeof targets)[number], seconds: number) => {
      await target.route.beforeLoad?.(ctx)
      return load(target.url, target.route, target.headers, seconds)
    }
    for (const target of targets) await run(target, WARMUP)
    const entry: Measured = { route, ...(reference ? { reference } : {}), api: [], baseline: [] }
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotate which goes first, so no target always gets the warmer machine.
      const shift = (round - 1) % targets.length
      const order = [...targets.slice(shift), ...targets.slice(0, shift)]
      for (const target of order) {
        const sample = await run(target, DURATION)
        entry[target.key] = [...(entry[target.key] ?? []), sample]
        console.error(
          `  ${route.name} round ${round}/${ROUNDS} ${target.key}: ` +
            `${Math.round(sample.rps)} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms`,
        )
      }
    }
    await route.after?.(ctx)
    measured.push(entry)
  }
  return measured
}

function report(measured: Measured[], apiRss: number | null, baselineRss: number | null) {
  const rows = measured.map(({ route, api, baseline, referenceApi }) => {
    const apiRps = median(api.map((s) => s.rps))
    const baseRps = median(baseline.map((s) => s.rps))
    const failures = api.reduce((n, s) => n + s.non2xx + s.errors, 0)
    const baselineFailures = baseline.reduce((n, s) => n + s.non2xx + s.errors, 0)
    const referenceRps = referenceApi ? median(referenceApi.map((s) => s.rps)) : undefined
    return {
      route: route.name,
      'api req/s': Math.round(apiRps),
      'api p50 ms': median(api.map((s) => s.p50)),
      'api p99 ms': median(api.map((s) => s.p99)),
      'baseline req/s': Math.round(baseRps),
      'baseline p50 ms': median(baseline.map((s) => s.p50)),
      'baseline p99 ms': median(baseline.map((s) => s.p99)),
      ratio: (apiRps / baseRps).toFixed(2),
      'api rounds req/s': api.map((s) => Math.round(s.rps)).join(' '),
      ...(referenceRps !== undefined
        ? {
            'compared api req/s': Math.round(referenceRps),
            'api/compared': (apiRps / referenceRps).toFixed(2),
          }
        : {}),
      ...(failures > 0 ? { 'api non-2xx/errors': failures } : {}),
      ...(baselineFailures > 0 ? { 'baseline non-2xx/errors': baselineFailures } : {}),
    }
  })
  const mib = (bytes: number | null) =>
    bytes === null ? 'n/a' : `${Math.round(bytes / 2 ** 20)} MiB`
  console.log(
    `\n${ROUNDS} interleaved rounds × ${DURATION} s per target, ${CONNECTIONS} connections; medians\n`,
  )
  console.log(table(rows))
  const comparisons = measured.flatMap((m) => (m.reference ? [comparison(m)] : []))
  for (const line of comparisons) console.log(`\n${line.text}`)
  console.log(`\nRSS after the run: api ${mib(apiRss)}, baseline ${mib(baselineRss)}`)
  return { rows, comparisons: comparisons.map(({ text, ...figures }) => figures) }
}

/**
 * A route against the one it names in compareWith, loaded in the same rounds:
 * the api's throughput as a ratio of the compared route's api (medians, and
 * round by round), and the same for the two baselines (what the SQL alone costs).
 */
function comparison(m: Measured) {
  const ratios = (ours: Sample[] = [], theirs: Sample[] = []) => {
    const perRound = ours.map((s, i) => s.rps / (theirs[i]?.rps ?? Number.NaN))
    const medianRatio = median(ours.map((s) => s.rps)) / median(theirs.map((s) => s.rps))
    return {
      median: Number(medianRatio.toFixed(2)),
      perRound: perRound.map((r) => Number(r.toFixed(2))),
    }
  }
  const api = ratios(m.api, m.referenceApi)
  const baseline = ratios(m.baseline, m.referenceBaseline)
  const name = m.reference?.name ?? ''
  const text =
    `${m.route.name} against ${name}, same rounds:\n` +
    `  api       ${api.median.toFixed(2)} (rounds ${api.perRound.map((r) => r.toFixed(2)).join(' ')})\n` +
    `  baseline  ${baseline.median.toFixed(2)} (rounds ${baseline.perRound.map((r) => r.toFixed(2)).join(' ')})`
  return { route: m.route.name, comparedWith: name, api, baseline, text }
}

/** A plain-text table (console.table's quoting and index column get in the way of copying). */
function table(rows: Record<string, string | number>[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))]
  const cells = [columns, ...rows.map((row) => columns.map((c) => String(row[c] ?? '')))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)))
  const format = (line: string[]) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')
  return [
    format(columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(format),
  ].join('\n')
}

async function main() {
  console.error(`preparing ${new URL(BENCH_DATABASE_URL).pathname.slice(1)} and starting processes`)
  await prepareDatabase()
  let api: Started | undefined
  let baseline: Started | undefined
  const sql = postgres(BENCH_DATABASE_URL, { max: 2, onnotice: () => {} })
  const cleanUp = async () => {
    await Promise.all([stop(api), stop(baseline), sql.end({ timeout: 1 })])
  }
  process.once('SIGINT', () => cleanUp().then(() => process.exit(130)))
  try {
    api = await startApi()
    const seeded = await seedBench(api.url, sql)
    // What earlier runs' inbound mail made (tickets, their messages, files' rows).
    await sql`delete from tickets where subject = ${INBOUND_SUBJECT}`
    // Earlier runs' webhook endpoints with their deliveries, and the first-attempt
    // jobs no worker took (routes.ts makes this run's endpoint).
    await sql`delete from webhook_endpoints where tenant_id = ${seeded.tenantId}`
    await sql`delete from jobs where tenant_id = ${seeded.tenantId} and type = 'webhook'`
    // Earlier runs' message posts left dead ticket versions behind; each run
    // starts from a vacuumed table instead of from whatever autovacuum has done.
    await sql`vacuum analyze tickets, messages, events, jobs, webhook_deliveries`
    baseline = await startBaseline(seeded.tenantId)
    const measured = await measure(api, baseline, sql)
    const apiRss = residentBytes(api.child.pid)
    const baselineRss = residentBytes(baseline.child.pid)
    const { rows, comparisons } = report(measured, apiRss, baselineRss)
    const dir = fileURLToPath(new URL('results/', import.meta.url))
    mkdirSync(dir, { recursive: true })
    const file = `${dir}${new Date().toISOString().replaceAll(':', '-')}.json`
    const settings = { duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS }
    writeFileSync(
      file,
      JSON.stringify({ settings, rows, comparisons, apiRss, baselineRss }, null, 2),
    )
    console.log(`results saved to ${file}`)
  } finally {
    await cleanUp()
  }
}

await main()
