// In development on a terminal the logs are for a person (pino-pretty); piped
// anywhere else, or in production, they stay one JSON object per line. The
// terminal is real: `script` gives the child process a pseudo-terminal.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { loggerOptions } from '../../src/lib/logger.ts'
import { nodeBin, projectRoot } from '../fixtures/processes.ts'

const run = promisify(execFile)

const LOG_ONE_LINE = [
  "import pino from 'pino'",
  "import { loggerOptions } from './src/lib/logger.ts'",
  'const output = { nodeEnv: process.env.NODE_ENV, terminal: process.stdout.isTTY === true }',
  "pino(loggerOptions('info', 'probe', output)).info({ ticket: 7 }, 'hello from the api')",
].join('\n')

async function logLine(nodeEnv: string, onTerminal: boolean): Promise<string> {
  const command = [nodeBin, '--input-type=module', '-e', LOG_ONE_LINE]
  const quoted = command.map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ')
  const { stdout } = onTerminal
    ? await run('script', ['-qec', quoted, '/dev/null'], {
        cwd: projectRoot,
        env: { ...process.env, NODE_ENV: nodeEnv },
      })
    : await run(nodeBin, command.slice(1), {
        cwd: projectRoot,
        env: { ...process.env, NODE_ENV: nodeEnv },
      })
  return stdout
}

describe('log output', () => {
  it('development on a terminal → pretty lines, not JSON', async () => {
    const out = await logLine('development', true)
    expect(out).toContain('INFO')
    expect(out).toContain('hello from the api')
    expect(out).not.toContain('{"level"')
  })

  it('development piped, and production on a terminal → JSON lines', async () => {
    for (const [nodeEnv, onTerminal] of [
      ['development', false],
      ['production', true],
    ] as const) {
      const out = (await logLine(nodeEnv, onTerminal)).trim()
      expect(JSON.parse(out), `${nodeEnv}, terminal: ${onTerminal}`).toMatchObject({
        level: 30,
        msg: 'hello from the api',
        ticket: 7,
      })
    }
  })

  it('tests and production never load pino-pretty', () => {
    for (const nodeEnv of ['test', 'production']) {
      expect(loggerOptions('info', 'x', { nodeEnv, terminal: true }).transport).toBeUndefined()
    }
    expect(
      loggerOptions('info', 'x', { nodeEnv: 'development', terminal: true }).transport,
    ).toMatchObject({
      target: 'pino-pretty',
    })
  })
})
