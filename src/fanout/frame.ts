/**
 * @module fanout/frame
 * WebSocket framing done once per message instead of once per socket. A
 * server-to-client text frame is a 2-10 byte header (RFC 6455 section 5.2:
 * FIN, opcode 1, no mask, payload length) followed by the payload, so the
 * same bytes can be written to every socket that gets the message.
 */

const FIN_TEXT = 0x81;
const LENGTH_16 = 126;
const LENGTH_64 = 127;

/** A message ready to send: its payload, and optionally the complete frame around it. */
export interface OutgoingMessage {
  /** The JSON text, as bytes. */
  readonly payload: Buffer;
  /** The whole unmasked text frame (header + payload), when it was built once for many sockets. */
  readonly frame?: Buffer;
}

/**
 * Wrap a payload in an unmasked, unfragmented, uncompressed text frame.
 * @param payload the UTF-8 JSON text
 */
export function encodeTextFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < LENGTH_16 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = LENGTH_16;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = LENGTH_64;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/**
 * A message to send to many sockets: payload and frame, each built once.
 * @param text the JSON text
 */
export function prepareMessage(text: string): OutgoingMessage {
  const payload = Buffer.from(text);
  return { payload, frame: encodeTextFrame(payload) };
}
