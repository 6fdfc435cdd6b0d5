// The one shape of every list answer, `{data, nextCursor}` (API.md,
// pagination), and a $ref to a shared schema for use inside it.
import { type Static, type TSchema, Type } from 'typebox'
import { EXAMPLE_CURSOR } from './examples.ts'

/**
 * `{data: T[], nextCursor}`: nextCursor is null on the last page. A shared
 * schema (one with an $id) is referenced, not copied; the page's example is a
 * page of the item's own example.
 */
export function Page<T extends TSchema>(item: T, options: { description?: string } = {}) {
  const { $id, examples } = item as { $id?: unknown; examples?: unknown[] }
  const items = typeof $id === 'string' ? ref(item) : item
  return Type.Object(
    {
      data: Type.Array(items),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as `cursor` for the next page; null on the last page',
      }),
    },
    {
      description: options.description ?? 'One page of the list',
      ...(examples?.length
        ? { examples: [{ data: [examples[0]], nextCursor: EXAMPLE_CURSOR }] }
        : {}),
    },
  )
}

/**
 * A reference to a schema registered with app.addSchema, by its $id: the
 * document shows it once, as a named component, and the serializer resolves it.
 */
export function ref<T extends TSchema>(schema: T, options: { description?: string } = {}) {
  const id = (schema as { $id?: unknown }).$id
  if (typeof id !== 'string') throw new Error('ref() needs a schema with an $id')
  return Type.Unsafe<Static<T>>(Type.Ref(id, options))
}
