import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { configError } from "./codes.ts";

/** One Ed25519 signing key of the core. */
export interface ContextRefKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The encoded JWS header for this key, computed once. */
  readonly headerSegment: string;
}

export const CONTEXT_REF_TYP = "outrig-ctx+jwt";

function keyFrom(privateKey: KeyObject, kid?: string): ContextRefKey {
  if (privateKey.asymmetricKeyType !== "ed25519") throw configError("context reference keys must be Ed25519");
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: "jwk" }).x ?? "";
  const id = kid ?? `ctx-${createHash("sha256").update(raw).digest("base64url").slice(0, 16)}`;
  const header = JSON.stringify({ alg: "EdDSA", typ: CONTEXT_REF_TYP, kid: id });
  return Object.freeze({
    kid: id,
    privateKey,
    publicKey,
    headerSegment: Buffer.from(header).toString("base64url"),
  });
}

/**
 * The current signing key and the keys it replaced. Verification accepts every key
 * in the ring; `rotate()` makes a fresh key current and keeps the old one for
 * verification, so references signed just before a rotation stay valid until they
 * expire (at most 60 s). Rotate no more often than the reference lifetime.
 */
export class ContextRefKeyRing {
  #current: ContextRefKey;
  #previous: ContextRefKey[];
  #byKid: Map<string, ContextRefKey>;
  readonly #maxPrevious: number;

  private constructor(current: ContextRefKey, previous: ContextRefKey[], maxPrevious: number) {
    this.#current = current;
    this.#previous = previous;
    this.#maxPrevious = maxPrevious;
    this.#byKid = this.#index();
  }

  /** A ring with one fresh key (one process, or keys shared another way). */
  static generate(options: { maxPrevious?: number } = {}): ContextRefKeyRing {
    return new ContextRefKeyRing(
      keyFrom(generateKeyPairSync("ed25519").privateKey),
      [],
      options.maxPrevious ?? 1,
    );
  }

  /**
   * A ring from PKCS#8 PEM keys shared by every core replica: the first is current,
   * the rest verify only.
   */
  static fromPem(
    keys: readonly { kid?: string; privateKeyPem: string }[],
    options: { maxPrevious?: number } = {},
  ) {
    if (keys.length === 0) throw configError("at least one context reference key is needed");
    const parsed = keys.map((k) => {
      try {
        return keyFrom(createPrivateKey(k.privateKeyPem), k.kid);
      } catch {
        throw configError("a context reference key cannot be read");
      }
    });
    return new ContextRefKeyRing(
      parsed[0]!,
      parsed.slice(1),
      options.maxPrevious ?? Math.max(1, parsed.length - 1),
    );
  }

  get current(): ContextRefKey {
    return this.#current;
  }

  get kids(): string[] {
    return [...this.#byKid.keys()];
  }

  byKid(kid: string): ContextRefKey | undefined {
    return this.#byKid.get(kid);
  }

  /** Makes a new key current; returns its kid. */
  rotate(next?: { kid?: string; privateKeyPem: string }): string {
    const key = next
      ? keyFrom(createPrivateKey(next.privateKeyPem), next.kid)
      : keyFrom(generateKeyPairSync("ed25519").privateKey);
    this.#previous = [this.#current, ...this.#previous].slice(0, this.#maxPrevious);
    this.#current = key;
    this.#byKid = this.#index();
    return key.kid;
  }

  /** Public keys as a JWKS, for anyone who wants to verify references offline. */
  publicJwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: [this.#current, ...this.#previous].map((k) => ({
        ...k.publicKey.export({ format: "jwk" }),
        kid: k.kid,
        alg: "EdDSA",
        use: "sig",
      })),
    };
  }

  #index(): Map<string, ContextRefKey> {
    return new Map([this.#current, ...this.#previous].map((k) => [k.kid, k]));
  }
}
