// The dependency rules of ARCHITECTURE.md ("Layout"), checked over the import
// statements of src/ and workers/, so a shortcut across layers fails here
// instead of growing quietly: nothing in src/ imports workers/; workers/ is the
// process entry over src/jobs, src/db, src/lib and src/config.ts; the worker
// never loads Fastify; only app.ts reaches into src/modules; the job runtime and
// the layers below it import nothing of the api's. Imports are read with a
// regex (`import ... from '...'`, `export ... from '...'`, `import('...')`,
// `import '...'`), which is all this code base writes.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

const IMPORT =
  /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g

type Import = { from: string; specifier: string; target: string | null; typeOnly: boolean }

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort()
}

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
}

/** The file's imports; `target` is the repository path of a relative import, null for a package. */
function importsOf(file: string, source = readFileSync(join(ROOT, file), 'utf8')): Import[] {
  const found: Import[] = []
  for (const match of withoutComments(source).matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3]
    if (!specifier) continue
    const target = specifier.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), specifier))
      : null
    const typeOnly = /^(?:import|export)\s+type\s/.test(match[0])
    found.push({ from: file, specifier, target, typeOnly })
  }
  return found
}

const srcFiles = sourceFiles('src')
const workerFiles = sourceFiles('workers')
const imports = [...srcFiles, ...workerFiles].flatMap((file) => importsOf(file))

const under = (path: string, ...dirs: string[]) =>
  dirs.some((d) => (d.endsWith('.ts') ? path === d : path.startsWith(`${d}/`)))
const shown = (list: Import[]) => list.map((i) => `${i.from} → ${i.specifier}`)

/** Relative imports from files under `dirs` whose target is outside `allowed`. */
function violations(dirs: string[], allowed: string[]): string[] {
  return shown(
    imports.filter(
      (i) => under(i.from, ...dirs) && i.target !== null && !under(i.target, ...allowed),
    ),
  )
}

const FASTIFY = /^(?:fastify(?:-[\w-]+)?|@fastify\/.+)$/

/** Every file the worker process loads from workers/main.ts on (static and dynamic imports). */
function workerGraph(): { files: Set<string>; packages: Import[] } {
  const files = new Set<string>()
  const packages: Import[] = []
  const pending = ['workers/main.ts']
  while (pending.length > 0) {
    const file = pending.pop() as string
    if (files.has(file)) continue
    files.add(file)
    for (const i of importsOf(file)) {
      if (i.target === null) packages.push(i)
      else if (i.target.endsWith('.ts')) pending.push(i.target)
    }
  }
  return { files, packages }
}

describe('layout: the dependency rules', () => {
  it('reads the imports it checks (the regex sees every form used)', () => {
    const sample = importsOf(
      'src/sample.ts',
      [
        "import { a } from './a.ts'",
        "import type {\n  B,\n} from '../workers/b.ts'",
        "export { c } from './c.ts'",
        "const d = await import('./d.ts')",
        "import 'e-package'",
        "// import { f } from './commented-out.ts'",
      ].join('\n'),
    )
    expect(sample.map((i) => i.typeOnly)).toEqual([false, true, false, false, false])
    expect(sample.map((i) => i.target ?? i.specifier)).toEqual([
      'src/a.ts',
      'workers/b.ts',
      'src/c.ts',
      'src/d.ts',
      'e-package',
    ])
    expect(srcFiles.length).toBeGreaterThan(50)
    expect(workerFiles).toContain('workers/main.ts')
    expect(imports.length).toBeGreaterThan(300)
  })

  it('nothing in src/ imports from workers/', () => {
    expect(violations(['src'], ['src'])).toEqual([])
  })

  it('workers/ imports only src/jobs, src/db, src/lib and src/config.ts', () => {
    expect(
      violations(['workers'], ['workers', 'src/jobs', 'src/db', 'src/lib', 'src/config.ts']),
    ).toEqual([])
  })

  it('the worker process never loads fastify', () => {
    const { files, packages } = workerGraph()
    // The walk really covers the job runtime, so an empty result means something.
    expect(files).toContain('src/jobs/processors.ts')
    expect(files).toContain('src/jobs/ai/ai-reply-processor.ts')
    expect(files).toContain('src/jobs/email/email-processor.ts')
    expect(packages.some((i) => i.specifier === 'bullmq')).toBe(true)
    expect(shown(packages.filter((i) => FASTIFY.test(i.specifier)))).toEqual([])
  })

  it('nothing outside src/modules imports a module but app.ts', () => {
    const intruders = imports.filter(
      (i) =>
        i.target !== null &&
        under(i.target, 'src/modules') &&
        !under(i.from, 'src/modules') &&
        i.from !== 'src/app.ts',
    )
    expect(shown(intruders)).toEqual([])
  })

  it('the job runtime (src/jobs) imports only src/jobs, src/domain, src/db, src/lib and src/config.ts', () => {
    expect(
      violations(['src/jobs'], ['src/jobs', 'src/domain', 'src/db', 'src/lib', 'src/config.ts']),
    ).toEqual([])
    const packages = imports.filter((i) => under(i.from, 'src/jobs') && i.target === null)
    expect(shown(packages.filter((i) => FASTIFY.test(i.specifier)))).toEqual([])
  })

  it('src/db and src/lib import only each other and src/config.ts', () => {
    expect(violations(['src/db', 'src/lib'], ['src/db', 'src/lib', 'src/config.ts'])).toEqual([])
  })

  it('src/domain is Fastify-free and imports only src/domain, src/db, src/lib, src/config.ts and the outbox', () => {
    const allowed = ['src/domain', 'src/db', 'src/lib', 'src/config.ts']
    const outbox = ['src/jobs/outbox.ts', 'src/jobs/queues.ts']
    expect(violations(['src/domain'], [...allowed, ...outbox])).toEqual([])
    const packages = imports.filter((i) => under(i.from, 'src/domain') && i.target === null)
    expect(shown(packages.filter((i) => FASTIFY.test(i.specifier)))).toEqual([])
    // The walk really covers the domain, so an empty result means something.
    expect(imports.filter((i) => under(i.from, 'src/domain')).length).toBeGreaterThan(100)
  })

  it('a module imports no other module', () => {
    const moduleOf = (path: string) => path.split('/').slice(0, 3).join('/')
    const crossing = imports.filter(
      (i) =>
        under(i.from, 'src/modules') &&
        i.target !== null &&
        under(i.target, 'src/modules') &&
        moduleOf(i.target) !== moduleOf(i.from),
    )
    expect(shown(crossing)).toEqual([])
  })

  it('modules run no SQL: no value import of drizzle-orm or src/db (types are fine)', () => {
    // The one exception: /ready asks the database itself whether it answers and is migrated.
    const probe = (i: Import) =>
      i.from === 'src/modules/health/routes.ts' && i.target === 'src/db/migrate.ts'
    const sql = imports.filter(
      (i) =>
        under(i.from, 'src/modules') &&
        !probe(i) &&
        !i.typeOnly &&
        (/^drizzle-orm(?:\/|$)/.test(i.specifier) ||
          (i.target !== null && under(i.target, 'src/db'))),
    )
    expect(shown(sql)).toEqual([])
  })
})
