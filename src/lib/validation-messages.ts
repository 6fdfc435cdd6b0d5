// Ajv's validation errors as field errors a person can act on: a choice among
// constants lists the choices, an unknown property that exists one level down
// says where it belongs, and one union failure is one line, not one per branch.
// Runs only when a request has already failed validation.
import type { FieldError } from './problems.ts'

/** Ajv's error object, as Fastify hands it over with `verbose: true`. */
type AjvError = {
  keyword: string
  instancePath: string
  schemaPath: string
  params: Record<string, unknown>
  message?: string
  parentSchema?: unknown
}

type Schema = {
  const?: unknown
  enum?: unknown[]
  anyOf?: Schema[]
  type?: string | string[]
  format?: string
  properties?: Record<string, Schema>
}

function describe(branch: Schema): string | undefined {
  if (branch.const !== undefined) return String(branch.const)
  if (branch.enum) return branch.enum.map(String).join(', ')
  if (branch.format) return `a ${branch.format}`
  if (typeof branch.type === 'string') return `a ${branch.type}`
  return undefined
}

/** "must be one of a, b, c" when every branch is a constant; "must be a uuid or none" otherwise. */
function unionMessage(branches: Schema[]): string | undefined {
  if (branches.every((b) => b.const !== undefined)) {
    return `must be one of ${branches.map((b) => String(b.const)).join(', ')}`
  }
  const parts = branches.map(describe)
  if (parts.some((p) => p === undefined)) return undefined
  return `must be ${parts.join(' or ')}`
}

function segments(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** `settings.aiReplyMode` when `name` is a property of one of the object's own object properties. */
function whereItBelongs(error: AjvError, name: string): string | undefined {
  const properties = (error.parentSchema as Schema | undefined)?.properties ?? {}
  for (const [key, child] of Object.entries(properties)) {
    const shapes = [child, ...(child.anyOf ?? [])]
    if (shapes.some((shape) => shape.properties && name in shape.properties)) {
      return [...segments(error.instancePath), key, name].join('.')
    }
  }
  return undefined
}

export function validationErrors(errors: readonly AjvError[], where: string): FieldError[] {
  // A union reports each failed branch and then itself: keep only the union's line.
  const unions = errors.filter((e) => e.keyword === 'anyOf')
  const insideUnion = (e: AjvError) =>
    unions.some(
      (u) =>
        u !== e &&
        e.schemaPath.startsWith(`${u.schemaPath}/`) &&
        e.instancePath.startsWith(u.instancePath),
    )
  const result: FieldError[] = []
  for (const e of errors) {
    if (insideUnion(e)) continue
    const params = e.params
    const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined
    const path = `${where}${`${e.instancePath}${extra ? `/${extra}` : ''}` || '/'}`
    let message = e.message ?? ''
    if (e.keyword === 'additionalProperties' && extra !== undefined) {
      const belongs = whereItBelongs(e, extra)
      message = belongs
        ? `is not an allowed property; did you mean ${belongs}?`
        : 'is not an allowed property'
    } else if (e.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      message = `must be one of ${params.allowedValues.map(String).join(', ')}`
    } else if (e.keyword === 'anyOf') {
      const branches = (e.parentSchema as Schema | undefined)?.anyOf
      message = (branches && unionMessage(branches)) ?? message
    }
    result.push({ path, message })
  }
  return result
}

/** The problem's detail: the first field error spelled out, so a terminal user sees it at once. */
export function validationDetail(errors: readonly FieldError[]): string {
  const [first] = errors
  if (!first) return 'The request is not valid.'
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
  return `The request is not valid: ${first.path} ${first.message}${more}.`
}
