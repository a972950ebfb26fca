/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of everything the API returns. They mirror the types in
 * `view.ts`; the tests validate live responses against them, so a drift between the two shows up there.
 */
type Schema = Record<string, unknown>

const integer = { type: 'integer', minimum: 0 }
const number = { type: 'number', minimum: 0 }
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })

export const schemas: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: { code: { type: 'string', pattern: '^ERR_[A-Z_]+$' }, message: { type: 'string' } }
      }
    }
  },
  BandwidthStats: {
    type: 'object',
    required: ['totalIn', 'totalOut', 'packetsIn', 'packetsOut', 'rateIn', 'rateOut'],
    additionalProperties: false,
    properties: {
      totalIn: { ...integer, description: 'Bytes received' },
      totalOut: { ...integer, description: 'Bytes sent' },
      packetsIn: integer,
      packetsOut: integer,
      rateIn: { ...number, description: 'Bytes per second (EWMA)' },
      rateOut: { ...number, description: 'Bytes per second (EWMA)' }
    }
  },
  PeerBandwidth: {
    type: 'object',
    required: ['peers'],
    additionalProperties: false,
    properties: { peers: { type: 'object', additionalProperties: ref('BandwidthStats') } }
  },
  ProtocolBandwidth: {
    type: 'object',
    required: ['protocols'],
    additionalProperties: false,
    properties: { protocols: { type: 'object', additionalProperties: ref('BandwidthStats') } }
  },
  Connection: {
    type: 'object',
    required: [
      'id',
      'peerId',
      'remoteAddr',
      'direction',
      'status',
      'openedAt',
      'streams',
      'bytesIn',
      'bytesOut'
    ],
    additionalProperties: false,
    properties: {
      id: { type: 'string' },
      peerId: { type: 'string' },
      remoteAddr: { type: 'string' },
      direction: { enum: ['inbound', 'outbound'] },
      status: { type: 'string' },
      openedAt: { ...integer, description: 'Epoch ms' },
      streams: integer,
      bytesIn: integer,
      bytesOut: integer
    }
  },
  Connections: {
    type: 'object',
    required: ['connections'],
    additionalProperties: false,
    properties: { connections: { type: 'array', items: ref('Connection') } }
  },
  Address: {
    type: 'object',
    required: ['multiaddr', 'ttl', 'expiresAt', 'certified'],
    additionalProperties: false,
    properties: {
      multiaddr: { type: 'string' },
      ttl: {
        type: ['integer', 'null'],
        description: 'ms; null for the never-expiring TTLs named in ttlName'
      },
      ttlName: { enum: ['connected', 'permanent'] },
      expiresAt: { type: ['integer', 'null'], description: 'Epoch ms; null when the address never expires' },
      certified: { type: 'boolean' }
    }
  },
  PeerSummary: {
    type: 'object',
    required: ['peerId', 'addresses', 'protocols', 'pinned', 'connected', 'latencyMs'],
    additionalProperties: false,
    properties: {
      peerId: { type: 'string' },
      addresses: integer,
      protocols: integer,
      pinned: { type: 'boolean' },
      connected: { type: 'boolean' },
      latencyMs: { type: ['number', 'null'] }
    }
  },
  PeerPage: {
    type: 'object',
    required: ['total', 'limit', 'offset', 'items'],
    additionalProperties: false,
    properties: {
      total: integer,
      limit: integer,
      offset: integer,
      items: { type: 'array', items: ref('PeerSummary') }
    }
  },
  PeerDetail: {
    type: 'object',
    required: [
      'peerId',
      'addresses',
      'protocols',
      'publicKey',
      'metadata',
      'pins',
      'latencyMs',
      'connected',
      'bandwidth'
    ],
    additionalProperties: false,
    properties: {
      peerId: { type: 'string' },
      addresses: { type: 'array', items: ref('Address') },
      protocols: { type: 'array', items: { type: 'string' } },
      publicKey: { type: ['string', 'null'], description: 'Base64 protobuf public key; never a private key' },
      metadata: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'UTF-8 text, or base64 with a `base64:` prefix'
      },
      pins: { type: 'array', items: { type: 'string' } },
      latencyMs: { type: ['number', 'null'] },
      connected: { type: 'boolean' },
      bandwidth: { oneOf: [ref('BandwidthStats'), { type: 'null' }] }
    }
  },
  PeerStoreStats: {
    type: 'object',
    required: ['peers', 'addresses', 'pinnedPeers', 'lastGc'],
    additionalProperties: false,
    properties: {
      peers: integer,
      addresses: integer,
      pinnedPeers: integer,
      lastGc: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['at', 'durationMs', 'addressesRemoved', 'peersRemoved'],
            additionalProperties: false,
            properties: { at: integer, durationMs: number, addressesRemoved: integer, peersRemoved: integer }
          }
        ]
      }
    }
  },
  Node: {
    type: 'object',
    required: ['node'],
    additionalProperties: false,
    properties: {
      node: {
        description: 'null when serving an offline database',
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['peerId', 'addresses', 'agent'],
            additionalProperties: false,
            properties: {
              peerId: { type: 'string' },
              addresses: { type: 'array', items: { type: 'string' } },
              agent: { type: 'string' }
            }
          }
        ]
      }
    }
  }
}

export { ref as schemaRef }
