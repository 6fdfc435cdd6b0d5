// /v1/kb/articles: the knowledge base. Reading needs kb:read (customers see
// published articles only); writing needs kb:write. q searches title and body
// with PostgreSQL full text, ranked.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import {
  createArticle,
  deleteArticle,
  getArticle,
  listArticles,
  type Reader,
  readerFrom,
  updateArticle,
} from '../../domain/kb/articles.ts'
import { Article, ListArticlesQuery } from '../../domain/kb/schemas.ts'
import { ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { ArticlePage, ArticleParams, CreateArticleBody, UpdateArticleBody } from './schemas.ts'

const tags = ['kb']

function readerOf(request: FastifyRequest): Reader {
  return readerFrom(request.tenant!.id, request.tenant!.permissions)
}

const kbRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Article)

  app.get(
    '/kb/articles',
    {
      config: { access: 'tenant', permission: 'kb:read' },
      schema: {
        operationId: 'listKbArticles',
        tags,
        summary: 'Knowledge-base articles, recently updated first, or ranked by q',
        description:
          'Needs kb:read; callers without kb:write (customers) see published articles only. ' +
          '`q` is full-text over title and body, a title match ranked first.',
        querystring: ListArticlesQuery,
        response: {
          200: ArticlePage,
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) => listArticles(app.database, readerOf(request), request.query),
  )

  app.post(
    '/kb/articles',
    {
      config: { access: 'tenant', permission: 'kb:write' },
      schema: {
        operationId: 'createKbArticle',
        tags,
        summary: 'Write an article (a draft unless published)',
        description:
          'Needs kb:write. Published articles are what AI replies cite and customers read.',
        body: CreateArticleBody,
        response: {
          201: ref(Article, { description: 'The new article' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request, reply) => {
      const article = await createArticle(
        app.database,
        request.tenant!.id,
        request.auth?.userId ?? null,
        request.body,
      )
      return reply.code(201).header('location', `/v1/kb/articles/${article.id}`).send(article)
    },
  )

  app.get(
    '/kb/articles/:id',
    {
      config: { access: 'tenant', permission: 'kb:read' },
      schema: {
        operationId: 'getKbArticle',
        tags,
        summary: 'One article',
        description: 'Needs kb:read; a draft answers 404 to callers without kb:write.',
        params: ArticleParams,
        response: { 200: ref(Article, { description: 'The article' }), ...tenantRouteProblems },
      },
    },
    async (request) => getArticle(app.database, readerOf(request), request.params.id),
  )

  app.patch(
    '/kb/articles/:id',
    {
      config: { access: 'tenant', permission: 'kb:write' },
      schema: {
        operationId: 'updateKbArticle',
        tags,
        summary: 'Change an article, or publish or unpublish it',
        description: 'Needs kb:write. Only the fields sent change.',
        params: ArticleParams,
        body: UpdateArticleBody,
        response: {
          200: ref(Article, { description: 'The changed article' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request) =>
      updateArticle(app.database, request.tenant!.id, request.params.id, request.body),
  )

  app.delete(
    '/kb/articles/:id',
    {
      config: { access: 'tenant', permission: 'kb:write' },
      schema: {
        operationId: 'deleteKbArticle',
        tags,
        summary: 'Delete an article',
        description: 'Needs kb:write. AI replies stop citing it at once.',
        params: ArticleParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...tenantRouteProblems },
      },
    },
    async (request, reply) => {
      await deleteArticle(app.database, request.tenant!.id, request.params.id)
      return reply.code(204).send(null)
    },
  )
}

export default kbRoutes
