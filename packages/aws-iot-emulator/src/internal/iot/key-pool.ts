/**
 * A pool of pre-generated RSA-2048 key pairs for CreateKeysAndCertificate.
 *
 * Why: one RSA-2048 key costs 50-100 ms of CPU; generated on demand, a 2-core machine tops out near
 * 40 CreateKeysAndCertificate/s. The pool is refilled in the background with the asynchronous
 * `crypto.generateKeyPair`, which runs on libuv's thread pool and leaves the event loop free. Every key
 * is handed out once. When the pool is empty a key is generated on demand (slower, never wrong).
 * Filling starts at the first use, or at once when `prefill` is set (see `ready()`).
 */
import { generateKeyPair, type KeyObject } from "node:crypto";

export interface PooledKey {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
  readonly spki: Buffer;
}

/** Key generations running at once while refilling (libuv's pool has 4 threads by default). */
const REFILL_CONCURRENCY = 2;

export class KeyPool {
  readonly size: number;
  readonly #keys: PooledKey[] = [];
  #inFlight = 0;
  #concurrency = REFILL_CONCURRENCY;
  #stopped = false;
  #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.size = Math.max(0, Math.floor(size));
  }

  get available(): number {
    return this.#keys.length;
  }

  /** Takes a fresh key pair, from the pool when one is ready. */
  async take(): Promise<PooledKey> {
    const key = this.#keys.pop();
    this.#refill();
    return key ?? (await generate());
  }

  /** Fills the pool to its size, using every thread of libuv's pool, and resolves when it is full. */
  ready(): Promise<void> {
    this.#concurrency = 4;
    const done = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#refill();
    this.#notify();
    return done;
  }

  stop(): void {
    this.#stopped = true;
  }

  #refill(): void {
    while (
      !this.#stopped &&
      this.#keys.length + this.#inFlight < this.size &&
      this.#inFlight < this.#concurrency
    ) {
      this.#inFlight++;
      generate().then(
        (key) => {
          this.#inFlight--;
          if (!this.#stopped) this.#keys.push(key);
          this.#refill();
          this.#notify();
        },
        () => {
          this.#inFlight--;
        },
      );
    }
  }

  #notify(): void {
    if (this.#keys.length < this.size && !this.#stopped) return;
    this.#concurrency = REFILL_CONCURRENCY;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

function generate(): Promise<PooledKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: 2048 }, (error, publicKey: KeyObject, privateKey: KeyObject) => {
      if (error) {
        reject(error);
        return;
      }
      resolve({
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        spki: publicKey.export({ type: "spki", format: "der" }),
      });
    });
  });
}
