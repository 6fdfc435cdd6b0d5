// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or to the
// embedded database in local mode) and exits. The compose file's one-shot
// `migrate` service runs this before the api and workers start.
import { loadConfig } from '../config.ts'
import { runMigrations } from './migrate.ts'

const config = loadConfig()
await runMigrations({ url: config.DATABASE_URL, dataDir: config.DATA_DIR })
console.log(
  `migrations applied to ${config.DATABASE_URL ? 'DATABASE_URL' : 'the embedded database'}`,
)
process.exit(0)
