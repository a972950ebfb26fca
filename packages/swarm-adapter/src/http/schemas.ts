/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of everything the API returns. They mirror the types in
 * `view.ts`; the tests validate live responses against them, so a drift between the two shows up there.
 */
import { SCALAR_FIELDS } from '../history/tier.ts'

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
      'streamsOpened',
      'transport',
      'encryption',
      'muxer',
      'rttMs',
      'limited',
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
      streams: { ...integer, description: 'Streams open now' },
      streamsOpened: {
        type: ['integer', 'null'],
        minimum: 0,
        description: 'Streams opened over its life, short-lived ones included; null without metrics'
      },
      transport: {
        type: 'string',
        description: 'tcp, ws, wss, quic-v1, webtransport, webrtc, circuit-relay…'
      },
      encryption: { type: ['string', 'null'] },
      muxer: { type: ['string', 'null'] },
      rttMs: { type: ['number', 'null'], minimum: 0 },
      limited: { type: 'boolean', description: 'A relayed connection with data or time limits' },
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
    required: [
      'peerId',
      'addresses',
      'protocols',
      'pinned',
      'pins',
      'connected',
      'latencyMs',
      'agent',
      'bandwidth'
    ],
    additionalProperties: false,
    properties: {
      peerId: { type: 'string' },
      addresses: integer,
      protocols: integer,
      pinned: { type: 'boolean' },
      pins: { type: 'array', items: { type: 'string' } },
      connected: { type: 'boolean' },
      latencyMs: { type: ['number', 'null'] },
      agent: { type: ['string', 'null'], description: 'AgentVersion from identify' },
      bandwidth: { oneOf: [ref('BandwidthStats'), { type: 'null' }] }
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
      'agent',
      'connected',
      'bandwidth',
      'protocolBandwidth',
      'connections'
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
      agent: { type: ['string', 'null'] },
      connected: { type: 'boolean' },
      bandwidth: { oneOf: [ref('BandwidthStats'), { type: 'null' }] },
      protocolBandwidth: { type: 'object', additionalProperties: ref('BandwidthStats') },
      connections: { type: 'array', items: ref('Connection') }
    }
  },
  Column: {
    type: 'array',
    items: { type: ['number', 'null'] },
    description: 'One value per time in `t`; null where nothing was known'
  },
  RateSeries: {
    type: 'object',
    required: ['id', 'rateIn', 'rateOut'],
    additionalProperties: false,
    properties: { id: { type: 'string' }, rateIn: ref('Column'), rateOut: ref('Column') }
  },
  PeerSeries: {
    type: 'object',
    required: ['id', 'rateIn', 'rateOut', 'latencyMs'],
    additionalProperties: false,
    properties: {
      id: { type: 'string' },
      rateIn: ref('Column'),
      rateOut: ref('Column'),
      latencyMs: ref('Column')
    }
  },
  History: {
    type: 'object',
    required: ['resolution', 'intervalMs', 'capacity', 't', 'totals', 'protocols', 'peers', 'gcs'],
    additionalProperties: false,
    properties: {
      resolution: { enum: ['fine', 'coarse'] },
      intervalMs: { ...integer, description: 'ms between samples (0: no history kept)' },
      capacity: { ...integer, description: 'Samples the ring keeps' },
      t: { type: 'array', items: integer, description: 'Epoch ms of each sample, oldest first' },
      totals: {
        type: 'object',
        required: [...SCALAR_FIELDS],
        additionalProperties: false,
        properties: Object.fromEntries(SCALAR_FIELDS.map((field) => [field, ref('Column')]))
      },
      protocols: { type: 'array', items: ref('RateSeries') },
      peers: { type: 'array', items: ref('PeerSeries') },
      gcs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['at', 'durationMs', 'peersRemoved', 'addressesRemoved'],
          additionalProperties: false,
          properties: { at: integer, durationMs: number, peersRemoved: integer, addressesRemoved: integer }
        }
      }
    }
  },
  PeerHistory: {
    type: 'object',
    required: ['peerId', 'resolution', 'intervalMs', 't', 'rateIn', 'rateOut', 'latencyMs', 'protocols'],
    additionalProperties: false,
    properties: {
      peerId: { type: 'string' },
      resolution: { enum: ['fine', 'coarse'] },
      intervalMs: integer,
      t: { type: 'array', items: integer },
      rateIn: ref('Column'),
      rateOut: ref('Column'),
      latencyMs: ref('Column'),
      protocols: { type: 'array', items: ref('RateSeries') }
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
