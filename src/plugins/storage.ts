// Decorates app.storage: where uploaded files go (lib/storage, the driver that
// the configuration names, opened by the same openStorage the worker uses),
// closed when the app closes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { openStorage } from '../lib/storage/open-storage.ts'
import type { Storage } from '../lib/storage/storage.ts'

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage
  }
}

async function storagePlugin(app: FastifyInstance, opts: { config: Config }) {
  const storage = openStorage(opts.config)
  app.decorate('storage', storage)
  app.addHook('onClose', () => storage.close())
}

export default fp(storagePlugin, { name: 'storage' })
