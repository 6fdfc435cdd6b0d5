import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.ts'

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/app',
  REDIS_URL: 'redis://cache',
  JWT_SECRET: 'x'.repeat(48),
  SMTP_URL: 'smtp://mail.internal:587',
  SECRET_ENCRYPTION_KEY: 'ab'.repeat(32),
}

describe('config', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig({})
    expect(config.PORT).toBe(3000)
    expect(config.HOST).toBe('127.0.0.1')
    expect(config.MIGRATE_ON_START).toBe(true)
    expect(config.COOKIE_SECURE).toBe(false)
    expect(config.CORS_ORIGINS).toEqual(['http://localhost:5173'])
    expect(config.localDatabase).toBe(true)
    expect(config.localRedis).toBe(true)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('names every bad variable', () => {
    let error: unknown
    try {
      loadConfig({ PORT: 'eighty', NODE_ENV: 'staging', DATABASE_URL: 'mysql://x/y' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).toMatch(/PORT: .*integer/)
    expect(message).toContain('NODE_ENV: must be one of: development, test, production')
    expect(message).toContain('DATABASE_URL')
  })

  it('refuses production without services and a strong secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /DATABASE_URL: required[\s\S]*REDIS_URL: required[\s\S]*JWT_SECRET/,
    )
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/app',
        REDIS_URL: 'redis://cache',
        JWT_SECRET: 'short',
      }),
    ).toThrow(/JWT_SECRET/)
    const config = loadConfig(PRODUCTION)
    expect(config.COOKIE_SECURE).toBe(true)
    expect(config.MIGRATE_ON_START).toBe(false)
  })

  it('refuses production without SMTP_URL, naming it', () => {
    const { SMTP_URL: _, ...withoutSmtp } = PRODUCTION
    expect(() => loadConfig(withoutSmtp)).toThrow(
      /Refusing to start in production:\n {2}SMTP_URL: required in production/,
    )
    // Development and test keep writing .eml files without it.
    expect(loadConfig({ NODE_ENV: 'development' }).SMTP_URL).toBeUndefined()
  })

  it('serves /docs by default in development and test, only on request in production', () => {
    expect(loadConfig({}).DOCS_ENABLED).toBe(true)
    expect(loadConfig({ NODE_ENV: 'test' }).DOCS_ENABLED).toBe(true)
    expect(loadConfig(PRODUCTION).DOCS_ENABLED).toBe(false)
    expect(loadConfig({ ...PRODUCTION, DOCS_ENABLED: 'true' }).DOCS_ENABLED).toBe(true)
    expect(loadConfig({ DOCS_ENABLED: 'false' }).DOCS_ENABLED).toBe(false)
  })

  it('has server timeouts by default and refuses a headers deadline past the request deadline', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      REQUEST_TIMEOUT_MS: 30_000,
      HEADERS_TIMEOUT_MS: 15_000,
      CONNECTION_TIMEOUT_MS: 60_000,
      KEEP_ALIVE_TIMEOUT_MS: 72_000,
      MAX_REQUESTS_PER_SOCKET: 0,
    })
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '2000' })).toThrow(
      /HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/,
    )
  })

  it('keeps the live event stream heartbeat within the connection deadline', () => {
    expect(loadConfig({})).toMatchObject({
      EVENT_STREAM_HEARTBEAT_SECONDS: 15,
      EVENT_STREAM_MAX_PER_PROCESS: 1000,
    })
    expect(() =>
      loadConfig({ CONNECTION_TIMEOUT_MS: '10000', EVENT_STREAM_HEARTBEAT_SECONDS: '10' }),
    ).toThrow(/EVENT_STREAM_HEARTBEAT_SECONDS: must be shorter than CONNECTION_TIMEOUT_MS/)
    expect(
      loadConfig({ CONNECTION_TIMEOUT_MS: '10000', EVENT_STREAM_HEARTBEAT_SECONDS: '5' })
        .EVENT_STREAM_HEARTBEAT_SECONDS,
    ).toBe(5)
  })

  it('refuses a METRICS_TOKEN shorter than 16 characters', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/)
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(32) }).METRICS_TOKEN).toBe('m'.repeat(32))
  })

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    expect(() => loadConfig({ ADMIN_EMAIL: 'root@example.com' })).toThrow(/set both or neither/)
  })

  it('keeps files under DATA_DIR/files unless STORAGE_DIR says otherwise', () => {
    expect(loadConfig({})).toMatchObject({
      STORAGE_DRIVER: 'local',
      STORAGE_DIR: '.data/files',
      ATTACHMENT_MAX_BYTES: 26_214_400,
      S3_FORCE_PATH_STYLE: false,
    })
    expect(loadConfig({ DATA_DIR: '/var/lib/deskpilot' }).STORAGE_DIR).toBe(
      '/var/lib/deskpilot/files',
    )
    expect(loadConfig({ STORAGE_DIR: '/srv/files' }).STORAGE_DIR).toBe('/srv/files')
  })

  it('refuses STORAGE_DRIVER=s3 without a bucket, naming S3_BUCKET', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(
      /S3_BUCKET: required when STORAGE_DRIVER is s3/,
    )
    expect(() => loadConfig({ STORAGE_DRIVER: 'disk' })).toThrow(
      /STORAGE_DRIVER: must be one of: local, s3/,
    )
    expect(() =>
      loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'files', S3_ACCESS_KEY_ID: 'id' }),
    ).toThrow(/S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither/)
    const s3 = loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'files', S3_FORCE_PATH_STYLE: 'true' })
    expect(s3).toMatchObject({ S3_BUCKET: 'files', S3_FORCE_PATH_STYLE: true })
  })
})

describe('SECRET_ENCRYPTION_KEY', () => {
  it('is required in production and must be 32 bytes, hex or base64', () => {
    const { SECRET_ENCRYPTION_KEY: _, ...without } = PRODUCTION
    expect(() => loadConfig(without)).toThrow(/SECRET_ENCRYPTION_KEY: required in production/)
    expect(() => loadConfig({ SECRET_ENCRYPTION_KEY: 'ab'.repeat(20) })).toThrow(
      /SECRET_ENCRYPTION_KEY: must be 32 bytes/,
    )
    expect(() =>
      loadConfig({
        SECRET_ENCRYPTION_PREVIOUS_KEYS: `${'cd'.repeat(32)},not-a-key-but-long-enough-0123456789`,
      }),
    ).toThrow(/SECRET_ENCRYPTION_PREVIOUS_KEYS: must be 32 bytes/)
    const base64 = Buffer.alloc(32, 7).toString('base64')
    expect(loadConfig({ SECRET_ENCRYPTION_KEY: base64 }).SECRET_ENCRYPTION_KEY).toBe(base64)
    // Development and tests run on a key anyone can read here.
    expect(loadConfig({}).SECRET_ENCRYPTION_KEY).toHaveLength(44)
  })
})
