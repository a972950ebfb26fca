import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'

export const ECHO_PROTOCOL = '/peerscope/echo/1.0.0'

/** Answers every stream of the echo protocol with the bytes it receives. */
export async function handleEcho(node: Libp2p): Promise<void> {
  await node.handle(ECHO_PROTOCOL, async (stream: Stream) => {
    for await (const chunk of stream) {
      if (!stream.send(chunk))
        await new Promise((resolve) => stream.addEventListener('drain', resolve, { once: true }))
    }
    await stream.close()
  })
}

/** Sends `bytes` random bytes to `peer` on the echo protocol and checks they come back unchanged. */
export async function echo(node: Libp2p, peer: PeerId, bytes: number): Promise<void> {
  const stream = await node.dialProtocol(peer, ECHO_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  await exchange(stream, bytes)
}

/**
 * As `echo`, on one given connection (a new stream on it; no dial). `signal` bounds the whole exchange: when it
 * fires the stream is aborted and the error says where the exchange stood (for the soak's reports).
 */
export async function echoOn(connection: Connection, bytes: number, signal?: AbortSignal): Promise<void> {
  const stream = await connection.newStream(ECHO_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  await exchange(stream, bytes, signal)
}

/** The state of a stream, for error messages. */
export function describeStream(stream: Stream): string {
  return `status ${stream.status}, read ${stream.readStatus}, write ${stream.writeStatus}, remote read ${stream.remoteReadStatus}, remote write ${stream.remoteWriteStatus}`
}

async function exchange(stream: Stream, bytes: number, signal?: AbortSignal): Promise<void> {
  let phase = 'send'
  let received = 0
  const onAbort = (): void => {
    stream.abort(
      new Error(`echo of ${bytes} B stuck in ${phase} with ${received} B back (${describeStream(stream)})`)
    )
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const payload = new Uint8Array(bytes)
    // getRandomValues fills at most 64 KiB per call.
    for (let at = 0; at < bytes; at += 65_536) crypto.getRandomValues(payload.subarray(at, at + 65_536))
    stream.send(payload)
    phase = 'close'
    await stream.close()
    phase = 'read'
    for await (const chunk of stream) {
      const view = chunk.subarray()
      for (let i = 0; i < view.byteLength; i++) {
        if (view[i] !== payload[received + i]) throw new Error('echo returned different bytes')
      }
      received += view.byteLength
    }
    if (received !== bytes) throw new Error(`echo returned ${received} of ${bytes} bytes`)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}
