/**
 * A WebSocket client made of a bare TCP socket, for hostile tests: it writes
 * frames exactly as told (several in one TCP write, binary then text, more
 * after a close), can ignore close frames and never read, which the `ws`
 * client refuses to do.
 */

import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';

/** Frame opcodes (RFC 6455 section 5.2). */
export const OPCODE = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A frame the server sent. */
export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/**
 * One masked client frame.
 * @param opcode see {@link OPCODE}
 * @param payload its bytes (text frames: UTF-8, or deliberately not)
 */
export function clientFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = data.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126 && length < 65536) {
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else if (length >= 65536) {
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = data[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

/** A text frame holding `message` as JSON (strings are sent as they are). */
export function textFrame(message: unknown): Buffer {
  return clientFrame(OPCODE.text, typeof message === 'string' ? message : JSON.stringify(message));
}

/** A raw client connection after a successful upgrade. */
export class RawWebSocket {
  readonly socket: Socket;
  /** Frames received so far (only while reading). */
  readonly frames: ServerFrame[] = [];
  /** Bytes received after the upgrade answer. */
  received = 0;
  #buffer: Buffer = Buffer.alloc(0);
  readonly ended: Promise<void>;

  private constructor(socket: Socket, rest: Buffer, read: boolean) {
    this.socket = socket;
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // the server may destroy it; that is what several tests wait for
    if (read) {
      this.#take(rest);
      socket.on('data', (chunk: Buffer) => this.#take(chunk));
    } else {
      socket.pause();
    }
  }

  /**
   * Upgrade a TCP connection by hand.
   * @param port the server's port
   * @param path the request target
   * @param options extra headers; `read: false` leaves the socket paused (a client that never reads)
   * @returns the connection, or the HTTP status line when the upgrade was refused
   */
  static async open(port: number, path = '/ws', options: { headers?: Record<string, string>; read?: boolean } = {}): Promise<RawWebSocket | string> {
    const socket = netConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const headers = { Host: `127.0.0.1:${port}`, ...options.headers };
    socket.write(
      `GET ${path} HTTP/1.1\r\n` +
        Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let head = Buffer.alloc(0);
    while (!head.includes('\r\n\r\n')) {
      const chunk = await new Promise<Buffer | undefined>((resolve) => {
        socket.once('data', resolve);
        socket.once('close', () => resolve(undefined));
      });
      if (chunk === undefined) return head.toString('latin1').split('\r\n')[0] || 'closed';
      head = Buffer.concat([head, chunk]);
    }
    socket.removeAllListeners('data');
    const end = head.indexOf('\r\n\r\n') + 4;
    const status = head.subarray(0, end).toString('latin1').split('\r\n')[0]!;
    if (!status.startsWith('HTTP/1.1 101')) {
      socket.destroy();
      return status;
    }
    return new RawWebSocket(socket, head.subarray(end), options.read ?? true);
  }

  /** Write these bytes in one TCP write. */
  write(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** The JSON messages among the text frames received. */
  messages(): Record<string, unknown>[] {
    return this.frames.filter((f) => f.opcode === OPCODE.text).map((f) => JSON.parse(f.payload.toString()) as Record<string, unknown>);
  }

  /** The close code the server sent, if it sent one. */
  closeCode(): number | undefined {
    const close = this.frames.find((f) => f.opcode === OPCODE.close);
    return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0);
  }

  /** The close reason the server sent. */
  closeReason(): string {
    return this.frames.find((f) => f.opcode === OPCODE.close)?.payload.subarray(2).toString() ?? '';
  }

  destroy(): void {
    this.socket.destroy();
  }

  #take(chunk: Buffer): void {
    this.received += chunk.length;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + length) return;
      this.frames.push({ opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length) });
      this.#buffer = b.subarray(offset + length);
    }
  }
}
