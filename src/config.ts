// The one place that reads the environment. Every setting is declared once in
// EnvSchema (names, defaults, limits), validated at start with a message naming
// the bad variable, and handed to the rest of the code as a frozen Config.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Static, Type } from 'typebox'
import { Value } from 'typebox/value'

const Bool = Type.Union([Type.Literal('true'), Type.Literal('false')])
const Seconds = (def: number, max = 31_536_000) =>
  Type.Integer({ minimum: 1, maximum: max, default: def })

const EnvSchema = Type.Object({
  NODE_ENV: Type.Union(
    [Type.Literal('development'), Type.Literal('test'), Type.Literal('production')],
    { default: 'development' },
  ),
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  DATA_DIR: Type.String({ default: '.data' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_PREFIX: Type.String({ default: 'dp', pattern: '^[A-Za-z0-9:_-]{1,64}$' }),
  MIGRATE_ON_START: Type.Optional(Bool),
  JWT_SECRET: Type.String({ default: 'dev-only-insecure-secret-change-me-please!!' }),
  JWT_PREVIOUS_SECRETS: Type.String({ default: '' }),
  ACCESS_TOKEN_TTL: Seconds(900, 86_400),
  REFRESH_TOKEN_TTL: Seconds(2_592_000),
  REFRESH_REUSE_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 60, default: 10 }),
  SESSION_IDLE_TTL: Seconds(1_209_600),
  SESSION_ABSOLUTE_TTL: Seconds(7_776_000),
  COOKIE_SECURE: Type.Optional(Bool),
  COOKIE_SAMESITE: Type.Union([Type.Literal('lax'), Type.Literal('strict')], {
    default: 'lax',
  }),
  CORS_ORIGINS: Type.String({ default: 'http://localhost:5173' }),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  BASE_DOMAIN: Type.Optional(Type.String({ pattern: '^[a-z0-9.-]+$' })),
  APP_URL: Type.String({ default: 'http://localhost:5173', pattern: '^https?://' }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 600 }),
  AUTH_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 20 }),
  LOGIN_MAX_FAILURES: Type.Integer({ minimum: 1, default: 5 }),
  LOGIN_LOCK_MINUTES: Type.Integer({ minimum: 1, default: 15 }),
  PASSWORD_MIN_LENGTH: Type.Integer({ minimum: 8, maximum: 128, default: 12 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  /** longest a whole request (headers and body) may take to arrive; slower → 408 and closed */
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** longest the request line and headers may take to arrive (below REQUEST_TIMEOUT_MS) */
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** a socket silent this long is closed, whatever it is doing */
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 60_000 }),
  /** an idle keep-alive connection is closed after this; longer than a load balancer's idle timeout */
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 72_000 }),
  /**
   * requests served on one keep-alive connection before it is closed (0: no cap, the default).
   * Node answers 503 to requests a client has already sent past the cap on that connection (a
   * pipelining client, or a proxy racing the Connection: close), so a cap costs failed requests;
   * the deadlines above are what bound a connection.
   */
  MAX_REQUESTS_PER_SOCKET: Type.Integer({ minimum: 0, default: 0 }),
  DOCS_ENABLED: Type.Optional(Bool),
  /** bearer token for /metrics; unset → /metrics is open in development and test, 404 in production */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  SMTP_FROM: Type.String({ default: 'Deskpilot <no-reply@deskpilot.local>' }),
  /** the domain of the tenants' inbound addresses (<slug>@INBOUND_DOMAIN), the Reply-To of ticket mail */
  INBOUND_DOMAIN: Type.Optional(
    Type.String({ pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$' }),
  ),
  /** the platform secret of POST /v1/inbound/email (an MTA or a provider's inbound hook); unset → only API keys with email:ingest */
  INBOUND_EMAIL_TOKEN: Type.Optional(Type.String({ minLength: 32 })),
  /** where `npm run mail-in` (the SMTP receiver) listens */
  INBOUND_SMTP_HOST: Type.String({ default: '127.0.0.1' }),
  INBOUND_SMTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 2525 }),
  /** the largest inbound message, raw (HTTP body or SMTP DATA) */
  INBOUND_MAX_BYTES: Type.Integer({ minimum: 1024, default: 26_214_400 }),
  /** longest wait for the SMTP server to connect, greet or answer; then the send fails (and retries) */
  SMTP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** invitation emails one tenant may cause per rolling hour and day (mail to addresses it names) */
  TENANT_MAIL_PER_HOUR: Type.Integer({ minimum: 1, default: 20 }),
  TENANT_MAIL_PER_DAY: Type.Integer({ minimum: 1, default: 100 }),
  /** invitation emails one tenant may send to one address per rolling day */
  MAIL_PER_ADDRESS_PER_DAY: Type.Integer({ minimum: 1, default: 3 }),
  /** how long before the same address may be invited again by the same tenant (0: no cooldown) */
  INVITE_COOLDOWN_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 600 }),
  /** noop: a fixed hand-off text with no retrieval or network, for load benchmarks only */
  AI_PROVIDER: Type.Union([Type.Literal('builtin'), Type.Literal('openai'), Type.Literal('noop')], {
    default: 'builtin',
  }),
  AI_BASE_URL: Type.String({ default: 'https://api.openai.com/v1', pattern: '^https?://' }),
  AI_API_KEY: Type.String({ default: '' }),
  AI_MODEL: Type.String({ default: 'gpt-4o-mini' }),
  AI_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** retries of one provider call on 429, 5xx, timeouts and network errors, before the job's own */
  AI_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  /** first wait before such a retry when the provider sends no Retry-After (doubles each time) */
  AI_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 500 }),
  /** longest Retry-After honoured inside a call; a longer one fails the attempt (the job retries) */
  AI_RETRY_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  /**
   * tenants may point their AI base URL at private addresses or plain http (a model served
   * on the LAN); off: the webhook URL rules
   */
  AI_ALLOW_PRIVATE_NETWORKS: Type.Optional(Bool),
  /** plain-http webhook URLs accepted (development); otherwise https only */
  WEBHOOK_ALLOW_HTTP: Type.Optional(Bool),
  /** webhooks may reach loopback, private, link-local and metadata addresses (tests, private deployments) */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Optional(Bool),
  /**
   * multiplies every webhook retry wait and the 3-day give-up horizon: 1 in service, far
   * below it in tests (0.001 makes the first hour of backoff 3.6 s), never a way to hammer
   */
  WEBHOOK_BACKOFF_SCALE: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 }),
  /** how long one delivery attempt may take, connect to last byte */
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
  /**
   * the key that encrypts per-tenant secrets at rest (AES-256-GCM): 32 bytes as 64 hex
   * characters or base64; required in production
   */
  SECRET_ENCRYPTION_KEY: Type.Optional(Type.String({ minLength: 32 })),
  /** comma-separated earlier keys, still read (values move to the new key when rewritten) */
  SECRET_ENCRYPTION_PREVIOUS_KEYS: Type.String({ default: '' }),
  WORKER_CONCURRENCY_EMAIL: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  WORKER_CONCURRENCY_AI: Type.Integer({ minimum: 1, maximum: 1000, default: 4 }),
  /** webhook deliveries one worker makes at once (each mostly waits on a receiver, up to 10 s) */
  WORKER_CONCURRENCY_WEBHOOK: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  WORKER_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  JOB_SWEEP_SECONDS: Type.Integer({ minimum: 1, default: 30 }),
  /** how long the event feed keeps events; older ones are swept hourly */
  EVENT_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 36_500, default: 30 }),
  /** how often a live event stream gets a comment heartbeat (and re-checks its caller and reads) */
  EVENT_STREAM_HEARTBEAT_SECONDS: Seconds(15, 300),
  /** live event streams one api process holds open; past it 503 stream_limit */
  EVENT_STREAM_MAX_PER_PROCESS: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
  /** how long a row may sit queued before the sweeper pushes it again */
  JOB_SWEEP_AFTER_SECONDS: Type.Integer({ minimum: 0, default: 60 }),
  /** BullMQ lockDuration and stalledInterval: how soon a dead worker's job is retaken */
  WORKER_STALLED_INTERVAL_MS: Type.Integer({ minimum: 500, default: 30_000 }),
  QUEUE_DASHBOARD: Type.Optional(Bool),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email' })),
  ADMIN_PASSWORD: Type.Optional(Type.String()),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** where files (attachments, avatars) go: the local disk, or any S3-compatible store */
  STORAGE_DRIVER: Type.Union([Type.Literal('local'), Type.Literal('s3')], { default: 'local' }),
  /** the local driver's folder; unset → DATA_DIR/files */
  STORAGE_DIR: Type.Optional(Type.String({ minLength: 1 })),
  /** the S3 API's URL; unset → AWS S3 itself (from S3_REGION) */
  S3_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  /** required with STORAGE_DRIVER=s3 */
  S3_BUCKET: Type.Optional(Type.String({ minLength: 3, maxLength: 255 })),
  /** unset → the AWS SDK's own credential chain (environment, profile, instance role) */
  S3_ACCESS_KEY_ID: Type.Optional(Type.String()),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String()),
  /** bucket in the path (http://host/bucket/key), as MinIO and most self-hosted stores want */
  S3_FORCE_PATH_STYLE: Type.Optional(Bool),
  ATTACHMENT_MAX_BYTES: Type.Integer({ minimum: 1, default: 26_214_400 }),
})

type Env = Static<typeof EnvSchema>

/** Every variable this file reads: the README's table and .env.example list exactly these. */
export const SETTING_NAMES: readonly string[] = Object.keys(EnvSchema.properties)

export type Config = Readonly<
  Omit<
    Env,
    | 'MIGRATE_ON_START'
    | 'COOKIE_SECURE'
    | 'DOCS_ENABLED'
    | 'QUEUE_DASHBOARD'
    | 'CORS_ORIGINS'
    | 'JWT_PREVIOUS_SECRETS'
    | 'TRUST_PROXY'
    | 'STORAGE_DIR'
    | 'S3_FORCE_PATH_STYLE'
    | 'WEBHOOK_ALLOW_HTTP'
    | 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'
    | 'SECRET_ENCRYPTION_KEY'
    | 'SECRET_ENCRYPTION_PREVIOUS_KEYS'
    | 'AI_ALLOW_PRIVATE_NETWORKS'
  > & {
    MIGRATE_ON_START: boolean
    COOKIE_SECURE: boolean
    DOCS_ENABLED: boolean
    QUEUE_DASHBOARD: boolean
    CORS_ORIGINS: readonly string[]
    JWT_PREVIOUS_SECRETS: readonly string[]
    TRUST_PROXY: boolean | number | string
    STORAGE_DIR: string
    S3_FORCE_PATH_STYLE: boolean
    WEBHOOK_ALLOW_HTTP: boolean
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: boolean
    /** the current key first, then the previous ones (lib/secret-box.ts parses them) */
    SECRET_ENCRYPTION_KEY: string
    SECRET_ENCRYPTION_PREVIOUS_KEYS: readonly string[]
    AI_ALLOW_PRIVATE_NETWORKS: boolean
    /** true when running on embedded PGlite and/or without Redis */
    localDatabase: boolean
    localRedis: boolean
  }
>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const DEV_SECRET = 'dev-only-insecure-secret-change-me-please!!'
/** 32 bytes anyone can read here: secrets encrypted in development and tests only */
const DEV_ENCRYPTION_KEY = Buffer.from('deskpilot-dev-only-encryption-k!').toString('base64')

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

/** 32 bytes as 64 hex characters or as base64 (the forms lib/secret-box.ts reads). */
function isEncryptionKey(value: string): boolean {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return true
  return /^[A-Za-z0-9+/]{43}=?$/.test(value) && Buffer.from(value, 'base64').length === 32
}

/**
 * Builds the Config from an environment object (process.env by default).
 * Throws ConfigError naming every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = readProcessEnv()): Config {
  const known = Object.keys(EnvSchema.properties)
  const raw: Record<string, unknown> = {}
  for (const key of known) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const isProduction = raw.NODE_ENV === 'production'
  const withDefaults = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw))
  if (!Value.Check(EnvSchema, withDefaults)) {
    const problems = new Map<string, string>()
    for (const e of Value.Errors(EnvSchema, withDefaults)) {
      const name = e.instancePath.replace(/^\//, '')
      if (problems.has(name)) continue
      const prop = (EnvSchema.properties as Record<string, { anyOf?: { const: string }[] }>)[name]
      const choices = prop?.anyOf?.map((s) => s.const).join(', ')
      problems.set(name, choices ? `must be one of: ${choices}` : e.message)
    }
    const lines = [...problems].map(([name, message]) => `  ${name}: ${message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  const parsed = withDefaults as Env

  const config = {
    ...parsed,
    MIGRATE_ON_START: parsed.MIGRATE_ON_START ? parsed.MIGRATE_ON_START === 'true' : !isProduction,
    COOKIE_SECURE: parsed.COOKIE_SECURE ? parsed.COOKIE_SECURE === 'true' : isProduction,
    // Opt-in in production: the document maps every route for whoever asks.
    DOCS_ENABLED: parsed.DOCS_ENABLED ? parsed.DOCS_ENABLED === 'true' : !isProduction,
    QUEUE_DASHBOARD: parsed.QUEUE_DASHBOARD === 'true',
    CORS_ORIGINS: Object.freeze(list(parsed.CORS_ORIGINS)),
    JWT_PREVIOUS_SECRETS: Object.freeze(list(parsed.JWT_PREVIOUS_SECRETS)),
    TRUST_PROXY: parseTrustProxy(parsed.TRUST_PROXY),
    STORAGE_DIR: parsed.STORAGE_DIR ?? join(parsed.DATA_DIR, 'files'),
    S3_FORCE_PATH_STYLE: parsed.S3_FORCE_PATH_STYLE === 'true',
    WEBHOOK_ALLOW_HTTP: parsed.WEBHOOK_ALLOW_HTTP === 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: parsed.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
    SECRET_ENCRYPTION_KEY: parsed.SECRET_ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY,
    SECRET_ENCRYPTION_PREVIOUS_KEYS: Object.freeze(list(parsed.SECRET_ENCRYPTION_PREVIOUS_KEYS)),
    AI_ALLOW_PRIVATE_NETWORKS: parsed.AI_ALLOW_PRIVATE_NETWORKS === 'true',
    localDatabase: !parsed.DATABASE_URL,
    localRedis: !parsed.REDIS_URL,
  }

  if (isProduction) {
    const missing: string[] = []
    if (!config.DATABASE_URL) missing.push('  DATABASE_URL: required in production')
    if (!config.REDIS_URL) missing.push('  REDIS_URL: required in production')
    if (config.JWT_SECRET === DEV_SECRET || Buffer.byteLength(config.JWT_SECRET) < 32) {
      missing.push('  JWT_SECRET: must be set to a random value of at least 32 bytes')
    }
    for (const [i, s] of config.JWT_PREVIOUS_SECRETS.entries()) {
      if (Buffer.byteLength(s) < 32) missing.push(`  JWT_PREVIOUS_SECRETS[${i}]: at least 32 bytes`)
    }
    if (parsed.SECRET_ENCRYPTION_KEY === undefined) {
      missing.push(
        '  SECRET_ENCRYPTION_KEY: required in production (32 random bytes, hex or base64)',
      )
    }
    // Without it mail would go to .eml files no one reads: fail at start, not at the first email.
    if (!config.SMTP_URL) missing.push('  SMTP_URL: required in production')
    if (config.ADMIN_PASSWORD !== undefined && config.ADMIN_PASSWORD.length < 12) {
      missing.push('  ADMIN_PASSWORD: at least 12 characters')
    }
    if (missing.length > 0) {
      throw new ConfigError(`Refusing to start in production:\n${missing.join('\n')}`)
    }
  }
  if ((config.ADMIN_EMAIL === undefined) !== (config.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  ADMIN_EMAIL, ADMIN_PASSWORD: set both or neither',
    )
  }
  // Without a bucket the first upload would fail; say so at start instead.
  if (config.STORAGE_DRIVER === 's3' && !config.S3_BUCKET) {
    throw new ConfigError('Invalid configuration:\n  S3_BUCKET: required when STORAGE_DRIVER is s3')
  }
  if ((config.S3_ACCESS_KEY_ID === undefined) !== (config.S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither',
    )
  }
  for (const [name, keys] of [
    ['SECRET_ENCRYPTION_KEY', [config.SECRET_ENCRYPTION_KEY]],
    ['SECRET_ENCRYPTION_PREVIOUS_KEYS', config.SECRET_ENCRYPTION_PREVIOUS_KEYS],
  ] as const) {
    if (keys.some((key) => !isEncryptionKey(key))) {
      throw new ConfigError(
        `Invalid configuration:\n  ${name}: must be 32 bytes, as 64 hex characters or base64`,
      )
    }
  }
  // A stream's socket is silent between heartbeats: the connection deadline would cut it.
  if (config.EVENT_STREAM_HEARTBEAT_SECONDS * 1000 >= config.CONNECTION_TIMEOUT_MS) {
    throw new ConfigError(
      'Invalid configuration:\n  EVENT_STREAM_HEARTBEAT_SECONDS: must be shorter than CONNECTION_TIMEOUT_MS',
    )
  }
  // Node refuses a headers deadline later than the whole request's.
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      'Invalid configuration:\n  HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS',
    )
  }
  return Object.freeze(config)
}

/**
 * The config of a process entry (the api, the worker): an invalid environment
 * prints what is wrong and exits 78 (EX_CONFIG), so orchestrators tell a bad
 * configuration from a crash.
 */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(78)
    }
    throw err
  }
}

/** Reads process.env, first loading `.env` in development (never in test or production). */
function readProcessEnv(): Record<string, string | undefined> {
  const mode = process.env.NODE_ENV ?? 'development'
  if (mode === 'development' && existsSync('.env')) process.loadEnvFile('.env')
  return process.env
}
