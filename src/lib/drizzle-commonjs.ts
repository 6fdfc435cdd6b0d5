// Loads drizzle-orm through its CommonJS build, the same code that
// `require('drizzle-orm')` gets: under Node 24 its ES module build costs several
// times the start time and heap (docs/performance.md, "Memory"). The process
// entries (src/server.ts, workers/main.ts) call this before they import anything
// that imports drizzle-orm; vitest and drizzle-kit load the ES module build, the
// same API. tests/foundation/drizzle-commonjs.test.ts fails if an upgrade (of
// Node, or of drizzle's package layout) makes the hook resolve anything else.
import { registerHooks } from 'node:module'

let registered = false

export function loadDrizzleAsCommonJs(): void {
  // registerHooks exists from Node 22.15; without it the ES module build loads.
  if (registered || typeof registerHooks !== 'function') return
  registered = true
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier !== 'drizzle-orm' && !specifier.startsWith('drizzle-orm/')) {
        return nextResolve(specifier, context)
      }
      const conditions = context.conditions.map((c) => (c === 'import' ? 'require' : c))
      return nextResolve(specifier, { ...context, conditions })
    },
  })
}
