// The worker process's entry (`npm run worker`, `node workers/main.ts`):
// drizzle-orm is switched to its CommonJS build first (src/lib/drizzle-commonjs.ts),
// so the worker's own modules (worker-process.ts and the job runtime in
// src/jobs/) are imported only afterwards.
import { loadDrizzleAsCommonJs } from '../src/lib/drizzle-commonjs.ts'

loadDrizzleAsCommonJs()
await import('./worker-process.ts')
