// Graceful stop for the api and the worker: on SIGTERM or SIGINT run `close`
// once (stop accepting, finish in-flight work, close pools), then exit 0; exit 1
// if it fails or takes longer than the timeout.
import type { Logger } from 'pino'

export function closeOnSignals(opts: {
  log: Pick<Logger, 'info' | 'error'>
  timeoutMs: number
  close: () => Promise<void>
}): void {
  let closing = false
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return
    closing = true
    opts.log.info({ signal }, 'shutting down: finishing in-flight work')
    const timer = setTimeout(() => {
      opts.log.error('shutdown timed out; exiting')
      process.exit(1)
    }, opts.timeoutMs)
    timer.unref()
    try {
      await opts.close()
      opts.log.info('shut down cleanly')
      process.exit(0)
    } catch (err) {
      opts.log.error({ err }, 'error during shutdown')
      process.exit(1)
    }
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}
