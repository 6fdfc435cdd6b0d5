// Decorates app.redis: an ioredis client, or null in local mode (no REDIS_URL).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Config } from '../config.ts'
import { createRedis } from '../lib/redis-client.ts'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis | null
  }
}

async function redisPlugin(app: FastifyInstance, opts: { config: Config }) {
  const url = opts.config.REDIS_URL
  if (!url) {
    app.decorate('redis', null)
    return
  }
  const redis = createRedis(url, 'deskpilot-api')
  redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'))
  try {
    await redis.connect()
  } catch (err) {
    // Start anyway: /ready reports Redis down and ioredis keeps reconnecting.
    app.log.error({ err }, 'redis is not reachable at start')
  }
  app.decorate('redis', redis)
  app.addHook('onClose', async () => {
    await redis.quit().catch(() => redis.disconnect())
  })
}

export default fp(redisPlugin, { name: 'redis' })
