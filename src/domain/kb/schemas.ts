// The knowledge-base article as the api shows it, and the filters of the
// article list (TypeBox): what the domain's reads take and return.
import { type Static, Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { Tag } from '../../lib/tags.ts'

export const Article = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    body: Type.String(),
    tags: Type.Array(Type.String()),
    keywords: Type.Array(Type.String(), {
      description:
        'Words and phrases customers use for what the article answers; AI replies find it by them',
    }),
    published: Type.Boolean({ description: 'Customers (no kb:write) see published ones only' }),
    authorId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'KbArticle',
    examples: [
      {
        id: EXAMPLE_IDS.article,
        title: 'Resetting your password',
        body: 'Open the sign-in page, choose "Forgot password" and follow the link we email you.',
        tags: ['login', 'password'],
        keywords: ['forgot password', 'locked out'],
        published: true,
        authorId: EXAMPLE_IDS.user,
        createdAt: EXAMPLE_TIMES.signup,
        updatedAt: EXAMPLE_TIMES.signup,
      },
    ],
  },
)
export type Article = Static<typeof Article>

export const ListArticlesQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Full-text, ranked; title first' }),
    ),
    tag: Type.Optional(Tag),
    published: Type.Optional(Type.Boolean({ description: 'Only with kb:write' })),
    ...PageQuery,
  },
  { additionalProperties: false },
)
export type ListArticlesQuery = Static<typeof ListArticlesQuery>
