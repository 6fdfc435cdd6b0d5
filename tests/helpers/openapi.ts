// Reads the app's own OpenAPI document: the list of operations the matrix tests
// walk (so a new route joins them by itself) and minimal valid request bodies
// generated from each route's schema.
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
  tenantScoped: boolean
  pathParams: string[]
  bodySchema: Schema | undefined
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
          parameters?: { in: string; name: string }[]
          requestBody?: { content: Record<string, { schema: Schema }> }
        }
      >
    >
  }
  const operations: Operation[] = []
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (method === 'head') continue
      const params = op.parameters ?? []
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        tenantScoped: params.some(
          (p) => p.in === 'header' && p.name.toLowerCase() === 'x-tenant-id',
        ),
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        bodySchema: op.requestBody?.content['application/json']?.schema,
        key: `${method.toUpperCase()} ${path}`,
      })
    }
  }
  return operations
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
