// Decorates app.db (Drizzle, running as the unprivileged app role) and
// app.database (the handle: kind, raw postgres.js client, close). Applies
// migrations first when MIGRATE_ON_START is on.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { type DatabaseHandle, type Db, openDatabase } from '../db/client.ts'
import { runMigrations } from '../db/migrate.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
    database: DatabaseHandle
  }
}

async function dbPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts
  const target = { url: config.DATABASE_URL, dataDir: config.DATA_DIR }
  if (config.MIGRATE_ON_START) {
    await runMigrations(target)
    app.log.info('database migrations applied')
  }
  const database = await openDatabase({
    ...target,
    poolMax: config.DATABASE_POOL_MAX,
    applicationName: 'deskpilot-api',
  })
  app.decorate('database', database)
  app.decorate('db', database.db)
  app.addHook('onClose', () => database.close())
}

export default fp(dbPlugin, { name: 'db' })
