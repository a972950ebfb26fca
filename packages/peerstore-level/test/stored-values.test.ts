// The cheap forms an open reads stored values into: peer ids decoded by our own base58 decoder, and
// multiaddrs kept as their text (checked by shape, parsed on first use). Each must agree exactly with the
// library it stands in for.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { isMultiaddr, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { Level } from 'level'
import { base58btc } from 'multiformats/bases/base58'
import { openPeerStore } from '../src/node.ts'
import { decodeBase58 } from '../src/persistence/base58.ts'
import { decodeRecord, encodeRecord } from '../src/persistence/codec.ts'
import { peerIdFromKey } from '../src/persistence/peer-key.ts'
import {
  isCommonMultiaddrText,
  StoredMultiaddr,
  storableAddrText,
  storedMultiaddr
} from '../src/persistence/stored-multiaddr.ts'
import { newEntry } from '../src/types.ts'
import { makePeers, tempDirs } from './suite/helpers.ts'

const { path: tempPath } = tempDirs('peerstore-level-stored-values-')

/** What the library makes of `text`: its canonical text, or undefined when it refuses it. */
function libraryText(text: string): string | undefined {
  try {
    return multiaddr(text).toString()
  } catch {
    return undefined
  }
}

describe('decodeBase58', () => {
  it('agrees with multiformats base58btc on any bytes, leading zeros included', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.uint8Array({ maxLength: 80 }), (zeros, tail) => {
        const bytes = new Uint8Array([...new Uint8Array(zeros), ...tail])
        const text = base58btc.encode(bytes).slice(1)
        assert.deepEqual(decodeBase58(text), bytes)
      }),
      { numRuns: 5000 }
    )
  })

  it('refuses characters outside the alphabet', () => {
    for (const text of ['0', 'O', 'I', 'l', '1Qm0', 'abc+', 'é', ' 1']) {
      assert.equal(decodeBase58(text), undefined, text)
    }
  })
})

describe('peerIdFromKey', () => {
  it('gives the same PeerId as peerIdFromString for Ed25519, secp256k1 and RSA ids', async () => {
    for (const type of ['Ed25519', 'secp256k1', 'RSA'] as const) {
      const id = peerIdFromPrivateKey(await generateKeyPair(type, type === 'RSA' ? 1024 : undefined))
      const text = id.toString()
      const ours = peerIdFromKey(text)
      const theirs = peerIdFromString(text)
      assert.equal(ours.type, theirs.type, type)
      assert.equal(ours.toString(), text)
      assert.ok(ours.equals(theirs) && theirs.equals(ours))
      assert.deepEqual(ours.toMultihash().bytes, theirs.toMultihash().bytes)
      assert.equal(ours.publicKey?.toString(), theirs.publicKey?.toString())
    }
  })

  it('throws for a key that is not a peer id, as peerIdFromString does', () => {
    for (const text of ['not-a-peer-id', '12D3KooW0000', 'Qm', '1']) {
      assert.throws(() => peerIdFromKey(text), text)
    }
  })
})

describe('isCommonMultiaddrText', () => {
  it('takes the common shapes without parsing them', () => {
    for (const text of [
      '/ip4/1.2.3.4/tcp/4001',
      '/ip4/0.0.0.0/udp/0/quic-v1',
      '/ip4/255.255.255.255/udp/65535/quic-v1/webtransport',
      '/ip6/::1/tcp/4001',
      '/ip6/fd00::1:2/udp/4001/quic-v1',
      '/ip6/2001:db8::/tcp/1/ws',
      '/dns4/example.com/tcp/443/wss',
      '/dnsaddr/bootstrap.libp2p.io',
      '/dns/p1.example.com/tcp/443/tls/ws'
    ]) {
      assert.ok(isCommonMultiaddrText(text), text)
      assert.equal(libraryText(text), text)
    }
  })

  it('accepts only canonical text the library parses to the same text', () => {
    const host = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('/ip4/'),
          fc.array(fc.constantFrom('0', '1', '10', '99', '199', '255', '256', '01', '-1'), {
            minLength: 3,
            maxLength: 5
          })
        )
        .map(([p, o]) => p + o.join('.')),
      fc
        .constantFrom('/dns4/', '/dns6/', '/dns/', '/dnsaddr/')
        .chain((p) => fc.string({ maxLength: 12 }).map((n) => p + n)),
      fc.constantFrom('/ip4', '/tcp/1', '/p2p-circuit', '/unix/x', '')
    )
    const tail = fc.array(
      fc.constantFrom(
        '/tcp/0',
        '/tcp/4001',
        '/udp/65535',
        '/tcp/65536',
        '/tcp/007',
        '/tcp',
        '/quic-v1',
        '/ws',
        '/wss',
        '/tls',
        '/webtransport',
        '/http',
        '/bogus',
        '/certhash/uEiA',
        '/'
      ),
      { maxLength: 3 }
    )
    fc.assert(
      fc.property(host, tail, (h, t) => {
        const text = h + t.join('')
        if (isCommonMultiaddrText(text)) assert.equal(libraryText(text), text)
      }),
      { numRuns: 20000 }
    )
  })

  it('treats an IPv6 host exactly as the library does: canonical text in, everything else out', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
    const spelling = fc.record({
      groups: fc.array(group, { minLength: 8, maxLength: 8 }),
      pad: fc.boolean(),
      upper: fc.boolean(),
      run: fc.option(fc.tuple(fc.nat(7), fc.nat(7)))
    })
    fc.assert(
      fc.property(spelling, ({ groups, pad, upper, run }) => {
        let parts = groups.map((g) => g.toString(16))
        if (pad) parts = parts.map((p) => p.padStart(4, '0'))
        if (upper) parts = parts.map((p) => p.toUpperCase())
        let host = parts.join(':')
        if (run != null) {
          const [i, n] = run
          host = `${parts.slice(0, i).join(':')}::${parts.slice(Math.min(8, i + n + 1)).join(':')}`
        }
        const text = `/ip6/${host}/tcp/1`
        const canonical = libraryText(text) === text
        assert.equal(isCommonMultiaddrText(text), canonical, text)
      }),
      { numRuns: 20000 }
    )
  })
})

describe('storableAddrText', () => {
  /** A /dns4 host from raw name bytes, then /tcp/443, as a remote can send it. */
  const fromBytes = (name: Uint8Array) =>
    multiaddr(Uint8Array.from([0x36, name.length, ...name, 0x06, 0x01, 0xbb]))
  /** The truth the fast path must agree with: the text parses back to the same bytes. */
  const readsBack = (ma: Multiaddr) => {
    try {
      return Buffer.from(multiaddr(ma.toString()).bytes).equals(Buffer.from(ma.bytes))
    } catch {
      return false
    }
  }

  it('keeps a DNS address exactly when its text reads back as it, made from text or from bytes', () => {
    const cases: Array<[string, Multiaddr, boolean]> = [
      ['from text', multiaddr('/dns4/example.com/tcp/443/wss'), true],
      ['from text, bytes read first', multiaddr('/dns/a b/tcp/1'), true],
      ['from bytes, ASCII', fromBytes(new TextEncoder().encode('example.com')), true],
      ['from bytes, UTF-8', fromBytes(new TextEncoder().encode('bücher.example')), true],
      ['from bytes, a slash', fromBytes(new TextEncoder().encode('a/b')), false],
      ['from bytes, not UTF-8', fromBytes(Uint8Array.from([0x61, 0xff, 0x62])), false],
      [
        'from bytes, a byte-order mark (the decoder keeps it)',
        fromBytes(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61])),
        true
      ],
      ['from bytes, a real U+FFFD', fromBytes(new TextEncoder().encode('a\ufffdb')), true]
    ]
    const second = cases[1]![1]
    assert.ok(second.bytes.length > 0)
    for (const [what, ma, expected] of cases) {
      assert.equal(readsBack(ma), expected, `${what}: the test's own expectation`)
      assert.equal(storableAddrText(ma), expected ? ma.toString() : undefined, what)
    }
  })

  it('agrees with reading the text back for random DNS names from bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (name) => {
        const ma = fromBytes(name)
        assert.equal(storableAddrText(ma) !== undefined, readsBack(ma))
      }),
      { numRuns: 2000, seed: 20261202 }
    )
  })
})

describe('StoredMultiaddr', () => {
  const texts = ['/ip4/1.2.3.4/tcp/4001', '/ip6/fd00::1/udp/1/quic-v1', '/dns4/example.com/tcp/443/wss']

  it('is a Multiaddr to every API, and equal to the parsed one', () => {
    for (const text of texts) {
      const stored: Multiaddr = new StoredMultiaddr(text)
      const parsed = multiaddr(text)
      assert.ok(isMultiaddr(stored))
      assert.equal(stored.toString(), text)
      assert.equal(stored.toJSON(), text)
      assert.equal(JSON.stringify({ a: stored }), JSON.stringify({ a: parsed }))
      assert.deepEqual(stored.bytes, parsed.bytes)
      assert.deepEqual(stored.getComponents(), parsed.getComponents())
      assert.ok(stored.equals(parsed) && parsed.equals(stored))
      assert.equal(multiaddr(stored).toString(), text, 'multiaddr() accepts it as input')
      const relayed = stored.encapsulate('/p2p-circuit')
      assert.equal(relayed.toString(), `${text}/p2p-circuit`)
      assert.equal(relayed.decapsulate('/p2p-circuit').toString(), text)
      assert.equal(stored.decapsulateCode(parsed.getComponents()[0]!.code).toString(), '/')
      assert.equal(inspect(stored), `Multiaddr(${text})`)
    }
  })

  it('storedMultiaddr parses uncommon shapes at once and throws for damaged text', async () => {
    const [peer] = await makePeers(1)
    const relay = `/ip4/1.2.3.4/tcp/1/p2p/${peer!.id}/p2p-circuit`
    assert.ok(!(storedMultiaddr(relay) instanceof StoredMultiaddr))
    assert.equal(storedMultiaddr(relay).toString(), relay)
    assert.ok(storedMultiaddr(texts[0]!) instanceof StoredMultiaddr)
    for (const bad of ['/ip4/1.2.3.256/tcp/1', '/ip4/1.2.3.4/tcp/99999', '/nope/1', 'ip4/1.2.3.4']) {
      assert.throws(() => storedMultiaddr(bad), bad)
    }
  })
})

describe('an open of stored values', () => {
  it('quarantines a record whose address text is damaged, and loads uncommon shapes', async () => {
    const path = await tempPath()
    const [a, b] = await makePeers(2)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    await store.close()
    const raw = new Level<string, string>(path)
    const relay = `/ip4/1.2.3.4/tcp/1/p2p/${b!.id}/p2p-circuit`
    const hour = Date.now() + 3_600_000
    // Valid JSON; only the address is wrong (one octet out of range), as one flipped digit would make it.
    await raw
      .sublevel<string, string>('addrs', {})
      .put(a!.id.toString(), JSON.stringify({ a: [['/ip4/1.2.3.456/tcp/1', 3_600_000, hour, 0]] }))
    await raw.sublevel<string, string>('addrs', {}).put(
      b!.id.toString(),
      JSON.stringify({
        a: [
          [relay, 3_600_000, hour, 0],
          ['/ip4/5.6.7.8/tcp/2', 3_600_000, hour, 0]
        ]
      })
    )
    await raw.close()
    const reopened = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(
      reopened.openReport.quarantined.map((q) => [q.kind, q.key, q.reason]),
      [['addrs', a!.id.toString(), 'addrs: bad multiaddr']]
    )
    assert.deepEqual(reopened.addrs(b!.id).map(String).sort(), [relay, '/ip4/5.6.7.8/tcp/2'].sort())
    assert.deepEqual(
      reopened
        .addrs(b!.id)
        .map((m) => m.getComponents().length)
        .sort(),
      [2, 4]
    )
    await reopened.close()
  })

  it('keeps metadata, tags and pins of each peer to itself (entries share one empty instance until written)', async () => {
    const path = await tempPath()
    const [a, b, c] = await makePeers(3)
    const store = await openPeerStore({ path, gc: { interval: 0 } })
    await store.setProtocols(b!.id, ['/b'])
    await store.setProtocols(c!.id, ['/c'])
    await store.putMetadata(a!.id, 'k', 'v')
    await store.pin(a!.id, 'kad')
    assert.deepEqual(store.metadataKeys(b!.id), [])
    assert.deepEqual(store.pins(b!.id), [])
    await store.deleteMetadata(a!.id, 'k')
    await store.unpin(a!.id, 'kad')
    await store.pin(c!.id, 'dht')
    assert.deepEqual(store.metadataKeys(a!.id), [])
    assert.deepEqual(store.pins(a!.id), [])
    assert.deepEqual(store.pins(b!.id), [])
    assert.deepEqual(store.pins(c!.id), ['dht'])
    await store.close()
    const reopened = await openPeerStore({ path, gc: { interval: 0 } })
    assert.deepEqual(reopened.pins(a!.id), [])
    assert.deepEqual(reopened.pins(b!.id), [])
    assert.deepEqual(reopened.pins(c!.id), ['dht'])
    await reopened.close()
  })
})

describe('stored address order', () => {
  it('an addrs record written out of text order (by an older version) reads back in text order', async () => {
    const [p] = await makePeers(1)
    const texts = [
      '/ip4/9.9.9.9/tcp/1',
      '/ip4/1.1.1.1/tcp/1',
      '/dns4/example.com/tcp/443',
      '/ip4/5.5.5.5/tcp/2'
    ]
    const written = newEntry(p!.id)
    // Set directly, as versions before the order was kept at write time could leave it.
    for (const text of texts) {
      written.addrs.set(text, { multiaddr: multiaddr(text), ttl: 60_000, expiresAt: 1e15, certified: false })
    }
    const record = encodeRecord('addrs', written)
    assert.ok(record !== undefined)
    const read = newEntry(p!.id)
    decodeRecord('addrs', record, read)
    assert.deepEqual([...read.addrs.keys()], [...texts].sort())
  })

  it('a record written before expiries were split (a float expiry) opens and reads the same', async () => {
    const path = await tempPath()
    const [p] = await makePeers(1)
    const start = 1_700_000_000_000
    let now = start
    const store = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
    await store.close()
    const raw = new Level<string, string>(path)
    // As the previous format wrote it: [addr, ttl, expiry epoch ms (a float for a fractional TTL), certified].
    const old = {
      a: [
        ['/ip4/1.1.1.1/tcp/1', 2.5, start + 2.5, 0],
        ['/ip4/2.2.2.2/tcp/2', 1000, start + 1000, 1]
      ]
    }
    await raw.sublevel<string, string>('addrs', {}).put(p!.id.toString(), JSON.stringify(old))
    await raw.close()
    const again = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
    assert.deepEqual(again.openReport.quarantined, [])
    const infos = again
      .addrInfos(p!.id)
      .map((a) => [String(a.multiaddr), a.ttl, a.expiresAt, a.expiresAtNs, a.certified])
    assert.deepEqual(infos, [
      ['/ip4/1.1.1.1/tcp/1', 2.5, start + 2, 500_000, false],
      ['/ip4/2.2.2.2/tcp/2', 1000, start + 1000, undefined, true]
    ])
    now = start + 2
    assert.equal(again.addrs(p!.id).length, 2)
    now = start + 3
    assert.deepEqual(again.addrs(p!.id).map(String), ['/ip4/2.2.2.2/tcp/2'])
    // A whole-ms expiry is still written in the previous form, which older versions read.
    const entry = newEntry(p!.id)
    entry.addrs.set('/ip4/2.2.2.2/tcp/2', {
      multiaddr: multiaddr('/ip4/2.2.2.2/tcp/2'),
      ttl: 1000,
      expiresAt: start + 1000,
      certified: true
    })
    assert.equal(
      encodeRecord('addrs', entry),
      JSON.stringify({ a: [['/ip4/2.2.2.2/tcp/2', 1000, start + 1000, 1]] })
    )
    await again.close()
  })
})

describe('exact expiry', () => {
  it('honours every TTL go does, down to 1 ns, at the epoch of today and on reopen', async () => {
    const path = await tempPath()
    const [p] = await makePeers(1)
    const start = 1_700_000_000_000
    let now = start
    let store = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
    const ttls = [0.000001, 0.0001, 0.1, 0.999999, 1.000001]
    const addrs = ttls.map((_, i) => multiaddr(`/ip4/10.0.0.${i + 1}/tcp/1`))
    for (const [i, ttl] of ttls.entries()) await store.addAddrs(p!.id, [addrs[i]!], ttl)
    // At the instant of the add every one is live (go: expiry = now + ttl > now): start + 1e-7 was start.
    assert.equal(store.addrs(p!.id).length, ttls.length)
    await store.close()
    store = await openPeerStore({ path, clock: () => now, gc: { interval: 0 } })
    assert.equal(store.addrs(p!.id).length, ttls.length, 'the ns part survives a reopen')
    now = start + 1
    assert.deepEqual(store.addrs(p!.id).map(String), [String(addrs[4])], 'only 1.000001 ms outlives 1 ms')
    // A fractional clock: 0.5 ms past the add, an expiry at 0.999999 ms is still ahead.
    now = start + 0.5
    assert.deepEqual(store.addrs(p!.id).map(String).sort(), [String(addrs[3]), String(addrs[4])].sort())
    // Sub-ms expiries order exactly: extending by a larger sub-ms TTL moves the expiry; a smaller one does not.
    now = start
    await store.addAddrs(p!.id, [addrs[0]!], 0.0002)
    const info = store.addrInfos(p!.id).find((a) => String(a.multiaddr) === String(addrs[0]))
    assert.deepEqual([info?.expiresAt, info?.expiresAtNs], [start, 200])
    await store.close()
  })
})
