// pino options shared by the api and the worker: structured JSON, one line per
// event, secrets redacted wherever they appear in a logged object, and failed
// queries logged by statement and code, never with their parameter values. In
// development on a terminal, lines are pretty-printed for a person to read.
import { createRequire } from 'node:module'
import { type LoggerOptions, stdSerializers } from 'pino'
import { serializeDatabaseError } from './database-errors.ts'

const REDACT_PATHS = [
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
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  return serializeDatabaseError(err) ?? stdSerializers.err(err)
}

/**
 * pino-pretty is a dev dependency: only in development, only when a person
 * watches the terminal (not when output is piped to a collector), and only when
 * it is installed (an image built with --omit=dev keeps JSON).
 */
function prettyTransport(nodeEnv: string, terminal: boolean): LoggerOptions['transport'] {
  if (nodeEnv !== 'development' || !terminal) return undefined
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
  } catch {
    return undefined
  }
  return {
    target: 'pino-pretty',
    options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
  }
}

/** `output`: where lines go; pretty-printing needs stdout on a terminal and NODE_ENV=development. */
export function loggerOptions(
  level: string,
  name: string,
  output: { nodeEnv: string; terminal: boolean } = { nodeEnv: 'production', terminal: false },
): LoggerOptions {
  const transport = prettyTransport(output.nodeEnv, output.terminal)
  return {
    level,
    name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    ...(transport ? { transport } : {}),
  }
}
