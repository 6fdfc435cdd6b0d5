// TypeBox schemas of the knowledge-base routes' inputs and pages (the article
// and the list's filters are the domain's: domain/kb/schemas.ts).
import { Type } from 'typebox'
import { Article } from '../../domain/kb/schemas.ts'
import { Page } from '../../lib/page.ts'
import { Tag } from '../../lib/tags.ts'

const Title = Type.String({ minLength: 1, maxLength: 250, pattern: '\\S' })
const Body = Type.String({ minLength: 1, maxLength: 200_000, pattern: '\\S' })
const Keywords = Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }), {
  maxItems: 30,
  description:
    'Words and phrases customers use for what the article answers (AI replies find it by them)',
})

export const ArticleParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

export const CreateArticleBody = Type.Object(
  {
    title: Title,
    body: Body,
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    keywords: Type.Optional(Keywords),
    published: Type.Optional(Type.Boolean({ default: false })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        title: 'Resetting your password',
        body: 'Open the sign-in page, choose "Forgot password" and follow the link we email you.',
        tags: ['login', 'password'],
        keywords: ['forgot password', 'locked out'],
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
    keywords: Type.Optional(Keywords),
    published: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ published: false }] },
)

export const ArticlePage = Page(Article, { description: 'A page of articles' })
