import type { PeerStore } from '@libp2p/interface'

/**
 * Every method of the libp2p 3 `PeerStore` contract. libp2p builds its own store and hands the same object to
 * every internal holder (dialer, identify, registrar, connection manager, services), and it offers no option
 * to supply another one. Shadowing these methods on that one shared instance, before the node starts, routes
 * every caller to our store; a later libp2p that adds a method fails the completeness check below instead of
 * silently reaching the built-in store.
 */
export const PEER_STORE_METHODS = [
  'forEach',
  'all',
  'delete',
  'has',
  'get',
  'getInfo',
  'save',
  'patch',
  'merge',
  'consumePeerRecord'
] as const satisfies ReadonlyArray<keyof PeerStore>

const INTERPOSED = Symbol.for('@peerscope/swarm-adapter/interposed-peer-store')

interface Interposable {
  [INTERPOSED]?: PeerStore
}

/**
 * Makes `target` (the node's shared peer store instance) answer every call with `replacement`.
 * Returns a function that restores the built-in behaviour. Throws when `target` is already interposed, or when
 * the contract grew methods this module does not know (so no caller silently reaches the built-in store).
 */
export function interposePeerStore(target: PeerStore, replacement: PeerStore): () => void {
  const holder = target as PeerStore & Interposable
  if (holder[INTERPOSED] !== undefined) {
    throw new Error('this peer store is already interposed by peerscope')
  }
  const unknown = methodsOf(target).filter(
    (name) => !(PEER_STORE_METHODS as readonly string[]).includes(name)
  )
  if (unknown.length > 0) {
    throw new Error(`the libp2p peer store has methods peerscope does not route: ${unknown.join(', ')}`)
  }
  for (const name of PEER_STORE_METHODS) {
    const method = replacement[name] as (...args: unknown[]) => unknown
    Object.defineProperty(target, name, {
      configurable: true,
      enumerable: false,
      writable: true,
      value: (...args: unknown[]) => method.apply(replacement, args)
    })
  }
  Object.defineProperty(target, INTERPOSED, { configurable: true, value: replacement })
  return () => {
    for (const name of PEER_STORE_METHODS) delete (target as unknown as Record<string, unknown>)[name]
    delete holder[INTERPOSED]
  }
}

/** The store that answers for `target`, if peerscope interposed one. */
export function interposedStore(target: PeerStore): PeerStore | undefined {
  return (target as PeerStore & Interposable)[INTERPOSED]
}

/** Public function-valued members along the prototype chain, excluding Object's own. */
function methodsOf(value: object): string[] {
  const names = new Set<string>()
  for (let proto = Object.getPrototypeOf(value); proto !== null && proto !== Object.prototype; ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof (proto as Record<string, unknown>)[name] === 'function')
        names.add(name)
    }
    proto = Object.getPrototypeOf(proto)
  }
  return [...names]
}
