import type { MessageStream } from '@libp2p/interface'

/**
 * Counts what passes through a v3 message stream (a protocol stream or a raw connection) by wrapping its own
 * `send` and `dispatchEvent`, the technique js-libp2p's metrics use. Never a `message` listener: a listener
 * makes the stream deliver buffered data before the protocol reader attaches (js-libp2p#3393). The wrappers
 * only count and pass every call through unchanged.
 */
export function countStream(
  stream: MessageStream,
  onSent: (bytes: number) => void,
  onReceived: (bytes: number) => void
): void {
  const send = stream.send
  const dispatchEvent = stream.dispatchEvent
  stream.send = function countedSend(this: MessageStream, data) {
    onSent(data.byteLength)
    return send.call(this, data)
  }
  stream.dispatchEvent = function countedDispatch(this: MessageStream, event: Event) {
    if (event.type === 'message') {
      const data = (event as Event & { data?: { byteLength: number } }).data
      if (data !== undefined) onReceived(data.byteLength)
    }
    return dispatchEvent.call(this, event)
  }
}
