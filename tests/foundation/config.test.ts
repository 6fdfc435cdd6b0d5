import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.ts'

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
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/app',
      REDIS_URL: 'redis://cache',
      JWT_SECRET: 'x'.repeat(48),
    })
    expect(config.COOKIE_SECURE).toBe(true)
    expect(config.MIGRATE_ON_START).toBe(false)
  })

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    expect(() => loadConfig({ ADMIN_EMAIL: 'root@example.com' })).toThrow(/set both or neither/)
  })
})
