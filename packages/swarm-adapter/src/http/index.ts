export { HttpError, HttpListenError, InvalidHttpOptionsError, type ListenOptionNames } from './errors.ts'
export { isLoopback } from './hosts.ts'
export { openapiDocument } from './openapi.ts'
export { MAX_PROTOCOL_LENGTH } from './params.ts'
export { PEERS_DEFAULT_LIMIT, PEERS_MAX_LIMIT, type Route, routes } from './routes.ts'
export {
  DEFAULT_HTTP_LIMITS,
  type HttpLimits,
  type HttpLogger,
  type HttpServer,
  type HttpServerOptions,
  startHttpServer
} from './server.ts'
export type * from './view.ts'
