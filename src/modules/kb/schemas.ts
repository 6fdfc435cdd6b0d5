// TypeBox schemas of the knowledge-base routes' inputs and pages (the article
// and the list's filters are the domain's: domain/kb/schemas.ts).
import { Type } from 'typebox'
import { Article } from '../../domain/kb/schemas.ts'
import { Page } from '../../lib/page.ts'
import { Tag } from '../../lib/tags.ts'

const Title = Type.String({ minLength: 1, maxLength: 250, pattern: '\\S' })
const Body = Type.String({ minLength: 1, maxLength: 200_000, pattern: '\\S' })

export const ArticleParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

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
