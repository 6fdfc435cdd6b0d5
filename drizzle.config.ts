// drizzle-kit reads the tables from src/db/schema/ and writes SQL migrations to
// drizzle/. Row-level-security migrations are hand-written (`npm run db:generate
// -- --custom --name=...`): drizzle-kit cannot emit FORCE ROW LEVEL SECURITY.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema',
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
})
