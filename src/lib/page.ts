// The one shape of every list answer, `{data, nextCursor}` (API.md,
// pagination), and a $ref to a shared schema for use inside it.
import { type Static, type TSchema, Type } from 'typebox'

/** `{data: T[], nextCursor}`: nextCursor is null on the last page. */
export function Page<T extends TSchema>(item: T, options: { description?: string } = {}) {
  return Type.Object(
    {
      data: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as `cursor` for the next page; null on the last page',
      }),
    },
    { description: options.description ?? 'One page of the list' },
  )
}

/**
 * A reference to a schema registered with app.addSchema, by its $id: the
 * document shows it once, as a named component, and the serializer resolves it.
 */
export function ref<T extends TSchema & { $id: string }>(
  schema: T,
  options: { description?: string } = {},
) {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id, options))
}
