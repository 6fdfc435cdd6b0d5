// TypeBox schemas of the knowledge-base routes.
import { type Static, Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { Page } from '../../lib/page.ts'

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
  {
    $id: 'KbArticle',
    examples: [
      {
        id: EXAMPLE_IDS.article,
        title: 'Resetting your password',
        body: 'Open the sign-in page, choose "Forgot password" and follow the link we email you.',
        tags: ['login', 'password'],
        published: true,
        authorId: EXAMPLE_IDS.user,
        createdAt: EXAMPLE_TIMES.signup,
        updatedAt: EXAMPLE_TIMES.signup,
      },
    ],
  },
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
  {
    additionalProperties: false,
    examples: [
      {
        title: 'Resetting your password',
        body: 'Open the sign-in page, choose "Forgot password" and follow the link we email you.',
        tags: ['login', 'password'],
        published: true,
      },
    ],
  },
)

export const UpdateArticleBody = Type.Object(
  {
    title: Type.Optional(Title),
    body: Type.Optional(Body),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    published: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ published: false }] },
)

export const ArticlePage = Page(Article, { description: 'A page of articles' })
