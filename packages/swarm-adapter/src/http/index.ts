// The HTTP server's parts the package entry and the tests use (the entry re-exports only what the README documents).
export { InvalidHttpOptionsError } from './errors.ts'
export { routes } from './routes.ts'
export { type HttpServer, startHttpServer } from './server.ts'
