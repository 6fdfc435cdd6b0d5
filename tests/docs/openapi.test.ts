// The OpenAPI document as a contract of its own: Redocly's recommended rules
// (redocly.yaml) find nothing, and the document reads well in Swagger UI:
// every operation and response described, real examples on every body, every
// error response problem+json with an example of its own status's problems,
// named components, X-Tenant-ID required on tenant routes, limit optional.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import type { Config } from '../../src/config.ts'
import { securitySchemes } from '../../src/plugins/docs.ts'
import { useTestApp } from '../helpers/app.ts'

type Media = {
  schema?: Record<string, unknown>
  example?: unknown
  examples?: Record<string, { value: unknown }>
}
type Response = { description: string; content?: Record<string, Media> }
type Parameter = { in: string; name: string; required?: boolean; example?: unknown }
type Operation = {
  operationId: string
  summary?: string
  description?: string
  parameters?: Parameter[]
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, Response>
  'x-access'?: string
}
type Document = {
  servers?: { url: string }[]
  info: { license?: { name: string }; description?: string }
  paths: Record<string, Record<string, Operation>>
  components: {
    schemas: Record<string, { examples?: unknown[] }>
    securitySchemes: Record<string, { in?: string; name?: string }>
  }
}

const ctx = await useTestApp()
const doc = (await ctx.app.inject({ url: '/openapi.json' })).json() as Document
const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
)
const PROBES = ['GET /health', 'GET /ready']

/** Runs Redocly CLI on the document with the committed redocly.yaml; offline. */
async function redoclyLint(document: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'deskpilot-openapi-'))
  const file = join(dir, 'openapi.json')
  await writeFile(file, JSON.stringify(document))
  try {
    const cli = join(process.cwd(), 'node_modules/@redocly/cli/bin/cli.js')
    const args = [
      cli,
      'lint',
      file,
      '--config',
      join(process.cwd(), 'redocly.yaml'),
      '--format',
      'json',
    ]
    return await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, args, {
          env: {
            ...process.env,
            REDOCLY_TELEMETRY: 'off',
            REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
            NO_COLOR: '1',
          },
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => {
          stdout += d
        })
        child.stderr.on('data', (d) => {
          stderr += d
        })
        child.on('error', reject)
        child.on('close', (code) => resolve({ code, stdout, stderr }))
      },
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('Redocly lint (recommended, redocly.yaml)', () => {
  it('reports no error and no warning', async () => {
    const result = await redoclyLint(doc)
    const report = JSON.parse(result.stdout) as {
      totals: { errors: number; warnings: number }
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[]
    }
    const found = report.problems.map(
      (p) => `${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`,
    )
    expect(found).toEqual([])
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 })
    expect(result.code).toBe(0)
  }, 60_000)
})

describe('the document', () => {
  it('names its server, its license and the cookie the api really sets', () => {
    expect(doc.servers?.length).toBeGreaterThan(0)
    expect(doc.info.license?.name).toBe('MIT')
    expect(doc.components.securitySchemes.cookieAuth).toMatchObject({
      in: 'cookie',
      name: 'dp_access',
    })
    expect(doc.info.description).toContain('Getting started')
  })

  it('names the __Host- cookie when COOKIE_SECURE is on', () => {
    const secure = securitySchemes({ COOKIE_SECURE: true } as Config)
    expect(secure.cookieAuth.name).toBe('__Host-dp_access')
  })

  it('names its components after their schemas, never def-N', () => {
    const names = Object.keys(doc.components.schemas)
    expect(names).toEqual(expect.arrayContaining(['Ticket', 'Message', 'Member', 'Problem']))
    expect(names.filter((n) => /^def-\d+$/.test(n))).toEqual([])
  })

  it('gives every operation a summary and a description', () => {
    const missing = operations.filter(({ op }) => !op.summary || !op.description)
    expect(missing.map((o) => o.key)).toEqual([])
  })

  it('describes every response by what it is, never "Default Response"', () => {
    const vague = operations.flatMap(({ key, op }) =>
      Object.entries(op.responses)
        .filter(([, r]) => !r.description || r.description === 'Default Response')
        .map(([status]) => `${key} ${status}`),
    )
    expect(vague).toEqual([])
  })

  it('declares a client error on every operation but the probes', () => {
    const without = operations.filter(
      ({ key, op }) =>
        !PROBES.includes(key) && !Object.keys(op.responses).some((s) => /^4/.test(s)),
    )
    expect(without.map((o) => o.key)).toEqual([])
  })

  it('declares every error as application/problem+json with examples of its own status', () => {
    const wrong: string[] = []
    for (const { key, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        // /ready's 503 is its readiness report, not a problem; the OAuth2 token
        // endpoint answers RFC 6749 error bodies, as OAuth2 clients expect.
        if (!/^[45]/.test(status) || `${key} ${status}` === 'GET /ready 503') continue
        if (key === 'POST /v1/auth/token') continue
        const types = Object.keys(response.content ?? {})
        if (types.join() !== 'application/problem+json') {
          wrong.push(`${key} ${status}: ${types.join() || 'no content'}`)
          continue
        }
        const examples = Object.values(
          response.content?.['application/problem+json']?.examples ?? {},
        )
        if (examples.length === 0) wrong.push(`${key} ${status}: no example`)
        for (const { value } of examples) {
          const problem = value as { status: number; code: string; type: string }
          if (
            problem.status !== Number(status) ||
            problem.type !== `urn:deskpilot:problem:${problem.code}`
          ) {
            wrong.push(`${key} ${status}: example ${problem.code} (${problem.status})`)
          }
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it('shows signup a 409 email_taken, not some other problem', () => {
    const conflict = doc.paths['/v1/auth/signup']?.post?.responses['409']
    const examples = conflict?.content?.['application/problem+json']?.examples ?? {}
    expect(Object.keys(examples)[0]).toBe('email_taken')
    expect(Object.keys(examples)).not.toContain('not_found')
  })

  it('has an example on every JSON request body and on every JSON success response', () => {
    const hasExample = (media: Media | undefined) => {
      if (!media) return false
      if (media.example !== undefined || media.examples) return true
      const target = (media.schema?.$ref as string | undefined)?.replace(
        '#/components/schemas/',
        '',
      )
      if (target) return (doc.components.schemas[target]?.examples?.length ?? 0) > 0
      const items = (
        media.schema?.properties as Record<string, Record<string, unknown>> | undefined
      )?.data?.items as Record<string, unknown> | undefined
      const itemRef = (items?.$ref as string | undefined)?.replace('#/components/schemas/', '')
      return itemRef ? (doc.components.schemas[itemRef]?.examples?.length ?? 0) > 0 : false
    }
    const missing: string[] = []
    for (const { key, op } of operations) {
      const body = op.requestBody && Object.values(op.requestBody.content)[0]
      if (op.requestBody && !hasExample(body)) missing.push(`${key} request body`)
      for (const [status, response] of Object.entries(op.responses)) {
        const json = response.content?.['application/json']
        if (/^2/.test(status) && json && !hasExample(json)) missing.push(`${key} ${status}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('requires X-Tenant-ID, with an example, on every tenant-scoped operation and on no other', () => {
    const wrong: string[] = []
    for (const { key, op } of operations) {
      const header = op.parameters?.find(
        (p) => p.in === 'header' && p.name.toLowerCase() === 'x-tenant-id',
      )
      // A visitor route (the portal's join) names its tenant as a member's route does.
      const tenant = op['x-access'] === 'tenant' || op['x-access'] === 'visitor'
      if (tenant && !(header?.required && header.name === 'X-Tenant-ID' && header.example)) {
        wrong.push(`${key}: ${JSON.stringify(header)}`)
      }
      // A mail gateway's API key names its tenant; the platform token does not.
      if (op['x-access'] === 'mail') {
        if (header?.required !== false) wrong.push(`${key}: X-Tenant-ID must be optional`)
        continue
      }
      if (!tenant && header) wrong.push(`${key}: not tenant-scoped`)
    }
    expect(wrong).toEqual([])
  })

  it('never marks limit required: it has a default', () => {
    const lists = operations.filter(({ op }) => op.parameters?.some((p) => p.name === 'limit'))
    expect(lists.length).toBeGreaterThanOrEqual(7)
    for (const { op } of lists) {
      expect(op.parameters?.find((p) => p.name === 'limit')?.required).toBe(false)
    }
  })

  it('has only examples that are valid against their own schemas', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats.default(ajv)
    ajv.addSchema({ ...doc, $id: 'openapi' })
    const pointer = (...segments: string[]) =>
      `openapi#/${segments
        .map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1')))
        .join('/')}`
    const invalid: string[] = []
    const check = (where: string, schemaAt: string, value: unknown) => {
      const validate = ajv.compile({ $ref: schemaAt })
      if (!validate(value)) invalid.push(`${where}: ${ajv.errorsText(validate.errors)}`)
    }
    const checkMedia = (where: string, media: Media, at: string[]) => {
      if (media.example !== undefined) check(where, pointer(...at, 'schema'), media.example)
      for (const [name, { value }] of Object.entries(media.examples ?? {})) {
        check(`${where} (${name})`, pointer(...at, 'schema'), value)
      }
    }
    let checked = 0
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const example of schema.examples ?? []) {
        check(`component ${name}`, pointer('components', 'schemas', name), example)
        checked++
      }
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const at = ['paths', path, method]
        for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
          checkMedia(`${method} ${path} body`, media, [...at, 'requestBody', 'content', type])
          checked++
        }
        for (const [status, response] of Object.entries(op.responses)) {
          for (const [type, media] of Object.entries(response.content ?? {})) {
            checkMedia(`${method} ${path} ${status}`, media, [
              ...at,
              'responses',
              status,
              'content',
              type,
            ])
            checked++
          }
        }
        for (const [i, parameter] of (op.parameters ?? []).entries()) {
          if (parameter.example !== undefined) {
            check(
              `${method} ${path} ${parameter.name}`,
              pointer(...at, 'parameters', String(i), 'schema'),
              parameter.example,
            )
          }
        }
      }
    }
    expect(invalid).toEqual([])
    expect(checked).toBeGreaterThan(100)
  })
})
