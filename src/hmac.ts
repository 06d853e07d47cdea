// HMAC-SHA256 (RFC 2104) with the key prepared once. Every recipient of a send gets two signed
// links and a signed Message-ID: a createHmac object for each cost about 5 µs, two one-shot SHA-256
// calls (crypto.hash) over the key blocks kept from the start about 3. The same MAC: the tests
// check it against createHmac.
import { createHash, hash } from 'node:crypto';

/** SHA-256's block size: a longer key is hashed first, a shorter one padded with zeros. */
const BLOCK = 64;

/** The MAC of a message (UTF-8), base64url. */
export type Hmac = (message: string) => string;

export function hmacSha256(secret: string): Hmac {
  let key: Buffer = Buffer.from(secret, 'utf8');
  if (key.length > BLOCK) key = createHash('sha256').update(key).digest();
  // The key blocks, each followed by room for what it is hashed with (reused: one call at a time).
  let inner = Buffer.alloc(BLOCK + 256);
  const outer = Buffer.alloc(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (key[i] ?? 0) ^ 0x36;
    outer[i] = (key[i] ?? 0) ^ 0x5c;
  }
  return (message) => {
    // At most three bytes of UTF-8 per UTF-16 unit.
    if (BLOCK + message.length * 3 > inner.length) inner = Buffer.concat([inner.subarray(0, BLOCK), Buffer.alloc(message.length * 3)]);
    const length = BLOCK + inner.write(message, BLOCK, 'utf8');
    outer.write(hash('sha256', inner.subarray(0, length), 'binary'), BLOCK, 'binary');
    return hash('sha256', outer, 'base64url');
  };
}

let last: { secret: string; hmac: Hmac } | undefined;

/** The HMAC for `secret`, prepared once (a process signs with one secret). */
export function keyedHmac(secret: string): Hmac {
  if (last?.secret !== secret) last = { secret, hmac: hmacSha256(secret) };
  return last.hmac;
}
