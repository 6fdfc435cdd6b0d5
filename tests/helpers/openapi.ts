// Reads the app's own OpenAPI document: the list of operations the matrix tests
// walk (so a new route joins them by itself), each with its guard (`x-access`,
// `x-permission`, written by plugins/access.ts from the route's config), checked
// against the router so a route hidden from the document cannot slip past; and
// request bodies generated from each route's schema.
import { randomBytes, randomUUID } from 'node:crypto'
import type { App } from '../../src/app.ts'

type Schema = {
  type?: string | string[]
  format?: string
  pattern?: string
  enum?: unknown[]
  const?: unknown
  minLength?: number
  minimum?: number
  minItems?: number
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  anyOf?: Schema[]
  allOf?: Schema[]
  $ref?: string
}

export type Operation = {
  method: string
  path: string
  operationId: string
  /** the route's config.access, as the document states it */
  access: 'public' | 'user' | 'visitor' | 'mail' | 'tenant'
  pathParams: string[]
  queryParams: { name: string; schema: Schema }[]
  bodySchema: Schema | undefined
  /** its success is a text/event-stream that stays open (GET /v1/events/stream) */
  streams: boolean
  key: string
}

export async function listOperations(app: App): Promise<Operation[]> {
  const res = await app.inject({ url: '/openapi.json' })
  const doc = res.json() as {
    paths: Record<
      string,
      Record<
        string,
        {
          operationId: string
          'x-access'?: Operation['access']
          parameters?: { in: string; name: string; schema?: Schema }[]
          requestBody?: { content: Record<string, { schema: Schema }> }
          responses?: Record<string, { content?: Record<string, unknown> }>
        }
      >
    >
  }
  const operations: Operation[] = []
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (method === 'head') continue
      const params = op.parameters ?? []
      const access = op['x-access']
      if (!access) throw new Error(`${method.toUpperCase()} ${path} has no x-access`)
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        access,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        bodySchema: op.requestBody?.content['application/json']?.schema,
        streams: op.responses?.['200']?.content?.['text/event-stream'] !== undefined,
        key: `${method.toUpperCase()} ${path}`,
      })
    }
  }
  return operations
}

/**
 * Every "METHOD /path" the router serves (HEAD and OPTIONS aside), read from
 * app.printRoutes(), in the document's `{param}` notation.
 */
export function routerRoutes(app: App): string[] {
  const found: string[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!match) continue
    const depth = match[1]!.length / 4
    stack.length = depth
    stack.push(match[2]!)
    const path = stack.join('').replace(/:(\w+)/g, '{$1}')
    for (const method of (match[3] ?? '').split(', ')) {
      if (method && method !== 'HEAD' && method !== 'OPTIONS') found.push(`${method} ${path}`)
    }
  }
  return found
}

/**
 * Names ending in Id that hold no id of ours: a contact's externalId is the
 * tenant's own identifier for the person, free text, never a row of ours.
 */
const NOT_OUR_IDS = new Set(['externalId'])

/** Whether a property holds an id (a uuid, or a name ending in Id), alone or in an array. */
export function isIdField(name: string, schema: Schema): boolean {
  const uuid = (s: Schema): boolean =>
    s.format === 'uuid' || (s.anyOf ?? []).some(uuid) || (s.items ? uuid(s.items) : false)
  return uuid(schema) || (/Ids?$/.test(name) && !NOT_OUR_IDS.has(name))
}

/** The id-shaped top-level properties of a body schema, required or not. */
export function idFields(schema: Schema | undefined): string[] {
  return Object.entries(schema?.properties ?? {})
    .filter(([name, s]) => isIdField(name, s))
    .map(([name]) => name)
}

/**
 * A body that passes the schema with every id-shaped property present (not
 * only the required ones), each set by `id(field)` (a list gets one id).
 */
export function bodyWithIds(schema: Schema | undefined, id: (field: string) => string): unknown {
  if (!schema) return undefined
  const body = sample(schema, '', id) as Record<string, unknown>
  for (const field of idFields(schema)) {
    const s = schema.properties![field]!
    body[field] = s.type === 'array' || s.items ? [id(field)] : id(field)
  }
  return body
}

/** Fills `{param}` placeholders of an OpenAPI path. */
export function fillPath(path: string, value: (param: string, collection: string) => string) {
  return path.replace(/\{(\w+)\}/g, (_m, param: string, offset: number) => {
    const before = path.slice(0, offset).split('/').filter(Boolean)
    return value(param, before[before.length - 1] ?? '')
  })
}

/** A minimal body that passes the schema; `uuid` decides every uuid field. */
export function sampleBody(
  schema: Schema | undefined,
  uuid: (field: string) => string = () => randomUUID(),
): unknown {
  if (!schema) return undefined
  return sample(schema, '', uuid)
}

function sample(schema: Schema, field: string, uuid: (field: string) => string): unknown {
  if (schema.const !== undefined) return schema.const
  if (schema.enum) return schema.enum[0]
  if (schema.anyOf) return sample(schema.anyOf[0]!, field, uuid)
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(s, field, uuid)))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const name of schema.required ?? []) {
        out[name] = sample(schema.properties?.[name] ?? {}, name, uuid)
      }
      if (Object.keys(out).length === 0 && schema.properties) {
        const [first] = Object.entries(schema.properties)
        if (first) out[first[0]] = sample(first[1], first[0], uuid)
      }
      return out
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () =>
        sample(schema.items ?? {}, field, uuid),
      )
    case 'integer':
    case 'number':
      return schema.minimum ?? 1
    case 'boolean':
      return true
    case 'null':
      return null
    default:
      if (schema.format === 'uuid') return uuid(field)
      if (schema.format === 'email') return `matrix-${randomBytes(3).toString('hex')}@example.com`
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString()
      if (schema.pattern) return `m${randomBytes(4).toString('hex')}`
      return `Matrix ${randomBytes(3).toString('hex')}`.padEnd(schema.minLength ?? 0, 'x')
  }
}
