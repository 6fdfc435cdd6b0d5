// pino options shared by the api and the worker: structured JSON, one line per
// event, secrets redacted wherever they appear in a logged object, and failed
// queries logged by statement and code, never with their parameter values.
import { type LoggerOptions, stdSerializers } from 'pino'
import { serializeDatabaseError } from './database-errors.ts'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
]
for (const key of [
  'password',
  'newPassword',
  'token',
  'refreshToken',
  'accessToken',
  'secret',
  'apiKey',
]) {
  REDACT_PATHS.push(key, `*.${key}`)
}

/** Errors as pino logs them, except a failed query: its statement and code, not its values. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  return serializeDatabaseError(err) ?? stdSerializers.err(err)
}

export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    level,
    name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  }
}
