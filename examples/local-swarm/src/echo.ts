import type { Libp2p, PeerId, Stream } from '@libp2p/interface'

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
  const payload = crypto.getRandomValues(new Uint8Array(bytes))
  const stream = await node.dialProtocol(peer, ECHO_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  stream.send(payload)
  await stream.close()
  let received = 0
  for await (const chunk of stream) {
    const view = chunk.subarray()
    for (let i = 0; i < view.byteLength; i++) {
      if (view[i] !== payload[received + i]) throw new Error('echo returned different bytes')
    }
    received += view.byteLength
  }
  if (received !== bytes) throw new Error(`echo returned ${received} of ${bytes} bytes`)
}
