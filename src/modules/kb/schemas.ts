// TypeBox schemas of the knowledge-base routes.
import { type Static, Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'

const Tag = Type.String({ minLength: 1, maxLength: 50, pattern: '^\\s*[^\\s,][^,]*$' })
const Title = Type.String({ minLength: 1, maxLength: 250, pattern: '\\S' })
const Body = Type.String({ minLength: 1, maxLength: 200_000, pattern: '\\S' })

export const Article = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    body: Type.String(),
    tags: Type.Array(Type.String()),
    published: Type.Boolean({ description: 'Customers (no kb:write) see published ones only' }),
    authorId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'KbArticle' },
)
export type ArticleView = Static<typeof Article>

export const ArticleParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

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

export const CreateArticleBody = Type.Object(
  {
    title: Title,
    body: Body,
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    published: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
)

export const UpdateArticleBody = Type.Object(
  {
    title: Type.Optional(Title),
    body: Type.Optional(Body),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    published: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const ArticlePage = Type.Object({
  data: Type.Array(Type.Unsafe<ArticleView>(Type.Ref('KbArticle'))),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
