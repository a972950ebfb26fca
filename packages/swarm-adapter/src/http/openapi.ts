import type { Route } from './routes.ts'
import { schemaRef, schemas } from './schemas.ts'

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad parameter or malformed request',
  401: 'Bearer token missing or wrong',
  403: 'Host header names a host this server does not answer for (DNS-rebinding defence)',
  404: 'Unknown route, peer or protocol',
  405: 'Method not allowed (only GET and HEAD)',
  413: 'The request had a body',
  414: 'Request target too long',
  431: 'Request headers too large',
  500: 'Unexpected error (no details are given)'
}

/** The OpenAPI 3.1 document of a route table, schemas included. */
export function openapiDocument(routes: readonly Route[], options: { version: string; auth: boolean }) {
  const paths: Record<string, unknown> = {}
  for (const route of routes) {
    const responses: Record<string, unknown> = {
      200: {
        description: route.summary,
        content: { [route.produces.contentType]: { schema: route.produces.schema } }
      }
    }
    const statuses = new Set([...route.errors, 403, 405, 413, 414, 431, 500])
    if (options.auth) statuses.add(401)
    for (const status of [...statuses].sort()) {
      responses[status] = {
        description: STATUS_TEXT[status] ?? 'Error',
        content: { 'application/json': { schema: schemaRef('Error') } }
      }
    }
    const operation = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: route.params.map((param) => ({
        name: param.name,
        in: param.in,
        required: param.in === 'path',
        description: param.description,
        schema: param.schema
      })),
      responses
    }
    // HEAD answers the same statuses and headers with no body.
    const headResponses: Record<string, unknown> = {}
    for (const status of Object.keys(responses))
      headResponses[status] = { description: `As GET, without a body` }
    const head = { ...operation, operationId: `${route.operationId}Head`, responses: headResponses }
    paths[route.path] = { get: operation, head }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'peerscope HTTP API',
      version: options.version,
      description: 'Bandwidth, connections and peer store of a libp2p node. Read-only: GET and HEAD only.'
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    ...(options.auth ? { security: [{ bearer: [] }] } : {}),
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }
    }
  }
}
