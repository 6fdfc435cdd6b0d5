// /v1/kb/articles: the knowledge base. Reading needs kb:read (customers see
// published articles only); writing needs kb:write. q searches title and body
// with PostgreSQL full text, ranked.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { readInScope, withScope } from '../../db/scoped.ts'
import { ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import {
  Article,
  ArticlePage,
  ArticleParams,
  type ArticleView,
  CreateArticleBody,
  ListArticlesQuery,
  UpdateArticleBody,
} from './schemas.ts'
import {
  createArticle,
  deleteArticle,
  getArticle,
  listArticlesQuery,
  type Reader,
  updateArticle,
} from './service.ts'

const tags = ['kb']

function readerOf(request: FastifyRequest): Reader {
  const tenant = request.tenant!
  return { tenantId: tenant.id, editor: tenant.permissions.has('kb:write') }
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
    async (request) => {
      const reader = readerOf(request)
      const list = listArticlesQuery(reader, request.query)
      const rows = await readInScope<ArticleView>(
        app.database,
        { tenantId: reader.tenantId },
        list.statement,
      )
      return list.toPage(rows)
    },
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
      const tenantId = request.tenant!.id
      const article = await withScope(app.database, { tenantId }, (tx) =>
        createArticle(tx, tenantId, request.auth?.userId ?? null, request.body),
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
    async (request) => {
      const reader = readerOf(request)
      const article = await withScope(app.database, { tenantId: reader.tenantId }, (tx) =>
        getArticle(tx, reader, request.params.id),
      )
      if (!article) throw new NotFound('article')
      return article
    },
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
    async (request) => {
      const tenantId = request.tenant!.id
      const article = await withScope(app.database, { tenantId }, (tx) =>
        updateArticle(tx, tenantId, request.params.id, request.body),
      )
      if (!article) throw new NotFound('article')
      return article
    },
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
      const tenantId = request.tenant!.id
      const deleted = await withScope(app.database, { tenantId }, (tx) =>
        deleteArticle(tx, tenantId, request.params.id),
      )
      if (!deleted) throw new NotFound('article')
      return reply.code(204).send(null)
    },
  )
}

export default kbRoutes
