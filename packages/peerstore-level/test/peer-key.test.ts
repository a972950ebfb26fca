// peerIdFromKey hands out lazy PeerIds (src/lazy-peer-id.ts) for Ed25519 and RSA ids. Each must agree with
// the library's PeerId for the same text on every member js-libp2p uses, and a key must be refused exactly
// when the library refuses it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { isPeerId, type PeerId } from '@libp2p/interface'
import { peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { base58btc } from 'multiformats/bases/base58'
import * as Digest from 'multiformats/hashes/digest'
import {
  ED25519_FIRST,
  ED25519_LAST,
  peerIdFromKey,
  RSA_FIRST,
  RSA_LAST
} from '../src/persistence/peer-key.ts'

const ED25519_HEADER = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20]
const RSA_HEADER = [0x12, 0x20]
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function text(bytes: Uint8Array | number[]): string {
  return base58btc.encode(Uint8Array.from(bytes)).slice(1)
}

/** The library's PeerId for `key`, or the error it throws. */
function library(key: string): PeerId | Error {
  try {
    return peerIdFromString(key)
  } catch (err) {
    return err as Error
  }
}

function ours(key: string): PeerId | Error {
  try {
    return peerIdFromKey(key)
  } catch (err) {
    return err as Error
  }
}

/** Every member js-libp2p uses agrees between our PeerId and the library's for the same text. */
function assertSame(a: PeerId, b: PeerId): void {
  const key = b.toString()
  assert.equal(a.type, b.type, key)
  assert.equal(isPeerId(a), true)
  assert.equal(a.toString(), key)
  assert.equal(`${a}`, `${b}`)
  assert.equal(JSON.stringify(a), JSON.stringify(b))
  assert.equal(inspect(a), inspect(b))
  assert.equal(Object.prototype.toString.call(a), Object.prototype.toString.call(b))

  const [ma, mb] = [a.toMultihash(), b.toMultihash()]
  assert.deepEqual(ma.bytes, mb.bytes)
  assert.deepEqual(ma.digest, mb.digest)
  assert.equal(ma.code, mb.code)
  assert.equal(ma.size, mb.size)
  assert.equal(a.toMultihash(), ma, 'the same digest object each time, as the library')
  assert.deepEqual(
    (a as unknown as { multihash: Digest.Digest<number, number> }).multihash.bytes,
    (b as unknown as { multihash: Digest.Digest<number, number> }).multihash.bytes
  )

  const [ca, cb] = [a.toCID(), b.toCID()]
  assert.equal(ca.toString(), cb.toString())
  assert.equal(ca.code, cb.code)
  assert.equal(ca.version, cb.version)
  assert.ok(ca.equals(cb))

  assert.ok(a.equals(b) && b.equals(a))
  assert.ok(a.equals(a))
  assert.ok(a.equals(key) && a.equals(mb.bytes) && a.equals(Buffer.from(mb.bytes)))
  assert.equal(a.equals(undefined), false)
  assert.equal(a.equals(null), false)
  assert.equal(a.equals(`${key}x`), b.equals(`${key}x`))
  assert.throws(() => a.equals({}))
  assert.throws(() => b.equals({}))

  if (b.publicKey == null) {
    assert.equal(a.publicKey, undefined)
  } else {
    const [ka, kb] = [a.publicKey!, b.publicKey]
    assert.equal(ka.type, kb.type)
    assert.deepEqual(ka.raw, kb.raw)
    assert.ok(ka.equals(kb) && kb.equals(ka))
    assert.equal(ka.toString(), kb.toString())
    assert.equal(ka.toCID().toString(), kb.toCID().toString())
    assert.deepEqual(ka.toMultihash().bytes, kb.toMultihash().bytes)
    assert.equal(a.publicKey, ka, 'the same key object each time, as the library')
  }
}

/** Both refuse `key`, or both accept it and agree. */
function assertAgrees(key: string): void {
  const [a, b] = [ours(key), library(key)]
  if (b instanceof Error) {
    assert.ok(a instanceof Error, `library refuses ${JSON.stringify(key)} (${b.message}), ours took it`)
  } else {
    assert.ok(!(a instanceof Error), `library takes ${JSON.stringify(key)}, ours threw ${String(a)}`)
    assertSame(a, b)
  }
}

describe('peerIdFromKey agrees with the library PeerId', () => {
  it('for generated Ed25519, secp256k1 and RSA keys', async () => {
    const keys = [
      ...(await Promise.all(Array.from({ length: 20 }, () => generateKeyPair('Ed25519')))),
      ...(await Promise.all(Array.from({ length: 10 }, () => generateKeyPair('secp256k1')))),
      ...(await Promise.all(Array.from({ length: 3 }, () => generateKeyPair('RSA', 1024))))
    ]
    const made = keys.map((k) => ({ key: k, id: peerIdFromPrivateKey(k) }))
    for (const { key, id } of made) {
      const a = peerIdFromKey(id.toString())
      assertSame(a, peerIdFromString(id.toString()))
      // And with the id made from the private key, which holds the key for RSA too.
      assert.ok(a.equals(id) && id.equals(a))
      // The lazily built key verifies what the private key signed.
      if (a.publicKey != null) {
        const message = new TextEncoder().encode(`signed by ${id}`)
        assert.equal(await a.publicKey.verify(message, await key.sign(message)), true)
      }
    }
    // Different peers are not equal, whichever side asks, lazy or not.
    for (let i = 1; i < made.length; i++) {
      const [x, y] = [made[i - 1]!.id, made[i]!.id]
      const [lx, ly] = [peerIdFromKey(x.toString()), peerIdFromKey(y.toString())]
      assert.equal(lx.equals(ly), false)
      assert.equal(lx.equals(y), false)
      assert.equal(y.equals(lx), false)
      assert.equal(lx.equals(y.toString()), false)
      assert.equal(lx.equals(y.toMultihash().bytes), false)
    }
  })

  it('for every 32-byte Ed25519 key and RSA hash (the lazy forms)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (body, rsa) => {
        const key = text([...(rsa ? RSA_HEADER : ED25519_HEADER), ...body])
        // The key first, before anything built the digest (assertSame asks for the digest first).
        assert.deepEqual(peerIdFromKey(key).publicKey?.raw, rsa ? undefined : body)
        const a = peerIdFromKey(key)
        assert.equal(a.constructor.name, rsa ? 'StoredRSAPeerId' : 'StoredEd25519PeerId')
        assertSame(a, peerIdFromString(key))
        assertSame(a, peerIdFromMultihash(Digest.decode(base58btc.baseDecode(key))))
      }),
      { numRuns: 500 }
    )
  })

  it('on the ends of each lazy range and just outside them', () => {
    const bodies = [new Uint8Array(32), new Uint8Array(32).fill(0xff)]
    for (const [header, first, last] of [
      [ED25519_HEADER, ED25519_FIRST, ED25519_LAST],
      [RSA_HEADER, RSA_FIRST, RSA_LAST]
    ] as const) {
      assert.equal(text([...header, ...bodies[0]!]), first)
      assert.equal(text([...header, ...bodies[1]!]), last)
      const lastHeader = header.length - 1
      // One below the first (header ends one lower, body all 0xff) and one above the last.
      const below = [...header.slice(0, lastHeader), header[lastHeader]! - 1, ...bodies[1]!]
      const above = [...header.slice(0, lastHeader), header[lastHeader]! + 1, ...bodies[0]!]
      for (const key of [first, last, text(below), text(above)]) assertAgrees(key)
    }
  })

  it('lets publicKey be assigned, as the library fields do', async () => {
    const rsa = await generateKeyPair('RSA', 1024)
    const id = peerIdFromKey(peerIdFromPrivateKey(rsa).toString()) as { publicKey?: unknown }
    id.publicKey = rsa.publicKey
    assert.equal(id.publicKey, rsa.publicKey)
    const ed = (await generateKeyPair('Ed25519')).publicKey
    const edId = peerIdFromKey(peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()) as {
      publicKey?: unknown
    }
    edId.publicKey = ed
    assert.equal(edId.publicKey, ed)
  })
})

describe('peerIdFromKey refuses exactly what the library refuses', () => {
  const valid = fc.oneof(
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => text([...ED25519_HEADER, ...b])),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => text([...RSA_HEADER, ...b]))
  )

  it('for a valid id with one character changed, dropped or added', () => {
    const edit = fc.tuple(
      valid,
      fc.nat(60),
      fc.constantFrom('change', 'drop', 'add'),
      fc.oneof(fc.constantFrom(...ALPHABET), fc.constantFrom('0', 'O', 'I', 'l', ' ', '/', 'é', '\u0000'))
    )
    fc.assert(
      fc.property(edit, ([key, at, how, char]) => {
        const i = at % key.length
        const edited =
          how === 'change'
            ? key.slice(0, i) + char + key.slice(i + 1)
            : how === 'drop'
              ? key.slice(0, i) + key.slice(i + 1)
              : key.slice(0, i) + char + key.slice(i)
        assertAgrees(edited)
      }),
      { numRuns: 2000 }
    )
  })

  it('for base58 texts with the lazy forms prefixes and lengths', () => {
    const tail = (n: number) => fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: n, maxLength: n })
    fc.assert(
      fc.property(
        fc.oneof(
          tail(44).map((t) => `12D3KooW${t}`),
          tail(43).map((t) => `12D3KooW${t}`),
          tail(45).map((t) => `12D3KooW${t}`),
          tail(44).map((t) => `Qm${t}`),
          tail(51).map((t) => `1${t}`),
          tail(46)
        ),
        assertAgrees
      ),
      { numRuns: 2000 }
    )
  })

  it('for other keys: not base58, other multihashes, CIDs, empty', async () => {
    const ed = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    for (const key of [
      '',
      '1',
      'Q',
      'Qm',
      'not-a-peer-id',
      '12D3KooW0000',
      ` ${ed}`,
      `${ed} `,
      `${ed}1`,
      `1${ed}`,
      ed.toCID().toString(),
      secp.toString(),
      secp.toString().slice(0, -1),
      // secp256k1-shaped, but not a point on the curve: the library refuses it at load.
      text([0x00, 0x25, 0x08, 0x02, 0x12, 0x21, 0x02, ...new Uint8Array(32).fill(0xff)]),
      // A sha2-256 multihash of the wrong length, an identity multihash of the wrong length.
      text([0x12, 0x1f, ...new Uint8Array(31)]),
      text([0x00, 0x25, 0x08, 0x01, 0x12, 0x20, ...new Uint8Array(33)]),
      // An Ed25519 key of 31 bytes, and the fields in the other order (the library accepts that).
      text([0x00, 0x23, 0x08, 0x01, 0x12, 0x1f, ...new Uint8Array(31).fill(7)]),
      text([0x00, 0x24, 0x12, 0x20, ...new Uint8Array(32).fill(7), 0x08, 0x01])
    ]) {
      assertAgrees(key)
    }
  })
})
