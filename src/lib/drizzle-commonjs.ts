// Loads drizzle-orm through its CommonJS build, the same code that
// `require('drizzle-orm')` gets. Its ES module build is ~450 files in a package
// whose package.json is 180 KB, and Node 24 reads that package.json again for
// every file it loads as a module: importing `drizzle-orm/pg-core` that way
// takes ~430 ms and leaves a 240 MB JS heap, against ~60 ms and 17 MB through
// the CommonJS build (measured on Node 24.21). The process entries
// (src/server.ts, workers/main.ts) call this before they import anything that
// imports drizzle-orm. Tests and tools that load the sources another way (vitest,
// drizzle-kit) are unaffected: either build is the same API.
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
