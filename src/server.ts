// The api process: read the config, build the app, listen, and on SIGTERM or
// SIGINT stop accepting, let in-flight requests finish, close pools, exit 0.
// The app is imported only after drizzle-orm is switched to its CommonJS build
// (src/lib/drizzle-commonjs.ts): nothing imported statically here touches it.
import { loadConfigOrExit } from './config.ts'
import { loadDrizzleAsCommonJs } from './lib/drizzle-commonjs.ts'
import { closeOnSignals } from './lib/graceful-shutdown.ts'

loadDrizzleAsCommonJs()

async function main() {
  const config = loadConfigOrExit()

  const { buildApp } = await import('./app.ts')
  const app = await buildApp(config)
  const mode = [
    config.localDatabase
      ? `embedded PostgreSQL (PGlite) in ${config.DATA_DIR}/pglite`
      : 'PostgreSQL',
    config.localRedis ? 'no Redis: in-process jobs, in-memory rate limits' : 'Redis',
    config.SMTP_URL ? 'SMTP' : `mail written to ${config.DATA_DIR}/mail`,
    config.STORAGE_DRIVER === 's3' ? 'files in S3' : `files in ${config.STORAGE_DIR}`,
  ].join('; ')
  if (config.localDatabase || config.localRedis) {
    app.log.warn(`LOCAL MODE (for a first run and demos, not production): ${mode}`)
  } else {
    app.log.info(`running on ${mode}`)
  }

  closeOnSignals({ log: app.log, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, close: () => app.close() })

  await app.listen({ host: config.HOST, port: config.PORT })
  if (config.DOCS_ENABLED) {
    const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST
    app.log.info(`API docs at http://${host}:${config.PORT}/docs`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
