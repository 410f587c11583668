// The guest side of a virtio-serial port, as a byte stream that knows whether a host is there.
// A port's read() returns 0 while no host client is connected to the socket QEMU listens on: the
// port stays open and the read is retried (LIBVIRT-NOTES, virtio-serial). Reads run on Bun's fs
// thread pool, so a read blocked waiting for the host never stalls the event loop. Writes go one
// frame at a time, each written whole (virtio_console takes at most 32 KiB per write() call, so
// two frames written at once could interleave).

import { open, type FileHandle } from "node:fs/promises";

export interface PortHandlers {
  /** The first bytes after a time without a host: a host connected. */
  onConnect(): void;
  onDisconnect(): void;
  onData(chunk: Uint8Array): void;
}

export interface Port {
  /** Queues a frame; resolved once it is all written. */
  write(frame: Uint8Array): Promise<void>;
  readonly connected: boolean;
}

/** The first of the paths that opens; retries every 200 ms until one does. */
async function openFirst(paths: readonly string[], log: (m: string) => void): Promise<{ fh: FileHandle; path: string }> {
  for (let attempt = 0; ; attempt++) {
    for (const path of paths) {
      try {
        return { fh: await open(path, "r+"), path };
      } catch (err) {
        if (attempt % 50 === 0) log(`cannot open ${path}: ${(err as Error).message}`);
      }
    }
    await Bun.sleep(200);
  }
}

export async function openPort(paths: readonly string[], handlers: PortHandlers, log: (m: string) => void): Promise<Port> {
  const { fh, path } = await openFirst(paths, log);
  log(`opened ${path}`);
  let connected = false;
  let queue: Promise<void> = Promise.resolve();

  async function writeWhole(frame: Uint8Array) {
    let at = 0;
    while (at < frame.length) {
      const { bytesWritten } = await fh.write(frame, at, frame.length - at);
      at += bytesWritten;
    }
  }

  void (async () => {
    const buf = new Uint8Array(256 * 1024);
    for (;;) {
      let n = 0;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, buf.length, null));
      } catch (err) {
        log(`read ${path}: ${(err as Error).message}`);
      }
      if (n === 0) {
        if (connected) {
          connected = false;
          handlers.onDisconnect();
        }
        await Bun.sleep(100);
        continue;
      }
      if (!connected) {
        connected = true;
        handlers.onConnect();
      }
      handlers.onData(buf.slice(0, n));
    }
  })();

  return {
    write(frame) {
      const done = queue.then(() => writeWhole(frame));
      queue = done.catch((err) => log(`write ${path}: ${(err as Error).message}`));
      return done;
    },
    get connected() {
      return connected;
    },
  };
}
