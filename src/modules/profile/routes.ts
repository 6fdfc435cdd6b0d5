// The signed-in user's own profile: PATCH /v1/auth/me (the name), PUT and
// DELETE /v1/auth/me/avatar (an image upload, multipart), and every user's
// avatar at GET /v1/users/{id}/avatar for any signed-in caller. The rules are
// the domain's (domain/accounts/profile.ts); the user shape is the one
// GET /v1/auth/me, login and signup answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  AVATAR_MAX_BYTES,
  findAvatar,
  removeAvatar,
  renameUser,
  storeAvatar,
  useAvatar,
} from '../../domain/accounts/profile.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { userRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import uploads, { receiveOneFile, uploadBody } from '../../plugins/uploads.ts'
import {
  AvatarImage,
  AvatarQuery,
  ChangedUser,
  NoContent,
  UpdateMeBody,
  UserParams,
} from './schemas.ts'

const tags = ['auth']

/** Avatars change rarely and a new one is a new URL: browsers may keep one a day. */
const AVATAR_CACHE = 'private, max-age=86400'

const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(uploads)

  app.patch(
    '/auth/me',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'updateMe',
        tags,
        summary: 'Change your name',
        description: 'Answers the user as GET /v1/auth/me shows it.',
        body: UpdateMeBody,
        response: { 200: ChangedUser, ...userRouteProblems },
      },
    },
    async (request) => renameUser(app.database, request.auth!.userId!, request.body.name),
  )

  app.put(
    '/auth/me/avatar',
    {
      config: { access: 'user', upload: true },
      schema: {
        operationId: 'setMyAvatar',
        tags,
        summary: 'Upload your avatar',
        description:
          'multipart/form-data with one part, `file`: a PNG, JPEG, GIF or WebP image by its ' +
          'bytes (never SVG; 415 image_required otherwise) of at most 2 MiB (413). Replaces ' +
          'the avatar you had; answers the user, whose avatarUrl is new.',
        body: uploadBody('The image'),
        response: {
          200: ChangedUser,
          ...userRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'invalid_upload'],
            413: ['payload_too_large'],
            415: ['unsupported_media_type', 'image_required'],
          }),
        },
      },
    },
    async (request, reply) => {
      const userId = request.auth!.userId!
      // The image becomes the avatar only once the whole body proved to be just it.
      const key = await receiveOneFile(
        request,
        reply,
        AVATAR_MAX_BYTES,
        (file) => storeAvatar(app.storage, userId, file),
        (stored) => app.storage.delete(stored),
      )
      return useAvatar(app.database, app.storage, userId, key)
    },
  )

  app.delete(
    '/auth/me/avatar',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'deleteMyAvatar',
        tags,
        summary: 'Remove your avatar',
        description: 'avatarUrl becomes null; removing none is no error.',
        response: { 204: NoContent, ...userRouteProblems },
      },
    },
    async (request, reply) => {
      await removeAvatar(app.database, app.storage, request.auth!.userId!)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/users/:id/avatar',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'getUserAvatar',
        tags,
        summary: "A user's avatar image",
        description:
          'For any signed-in user; the URL is the avatarUrl of the user shape. 404 when the ' +
          'user has none.',
        params: UserParams,
        querystring: AvatarQuery,
        response: {
          200: AvatarImage,
          ...userRouteProblems,
          ...problemResponses({ 404: ['not_found'] }),
        },
      },
    },
    async (request, reply) => {
      const avatar = await findAvatar(app.database, request.params.id)
      const body = avatar && (await app.storage.get(avatar.storageKey))
      if (!avatar || !body) throw new NotFound('avatar')
      return reply
        .type(avatar.contentType)
        .header('cache-control', AVATAR_CACHE)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(body)
    },
  )
}

export default profileRoutes
