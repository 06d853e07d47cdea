// Address handling: normalisation, header sanitising and mailbox parsing.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashEmail, headerSafe, normalizeEmail, parseMailbox } from '../../src/audience/email.ts';

/** A syntactically valid address of exactly `length` characters. */
function addressOfLength(length: number): string {
  const local = 'a'.repeat(64);
  let domain = 'example.com';
  while (local.length + 1 + domain.length < length) {
    const room = length - (local.length + 1 + domain.length);
    domain = `${'b'.repeat(Math.max(1, Math.min(60, room - 1)))}.${domain}`;
  }
  const address = `${local}@${domain}`;
  if (address.length !== length) throw new Error(`built ${address.length} characters, wanted ${length}`);
  return address;
}

describe('normalizeEmail', () => {
  it('lowercases and trims a good address', () => {
    expect(normalizeEmail('  Ada.Lindqvist@Example.COM ')).toBe('ada.lindqvist@example.com');
  });

  it.each(['priya+news@example.co.uk', "tom.o'connell@example.org", 'x_y-z@sub.example.net'])('accepts %s', (address) => {
    expect(normalizeEmail(address)).toBe(address);
  });

  it.each([
    ['"a..b"@example.org', '"a..b"@example.org'],
    ['"John Doe"@Example.org', '"john doe"@example.org'],
    ['"a\\"b"@example.org', '"a\\"b"@example.org'],
    ['"a@b"@example.org', '"a@b"@example.org'],
    ['"ada"@example.org', 'ada@example.org'],
    ['"a\\da"@example.org', 'ada@example.org'],
    ['user%relay@example.org', 'user%relay@example.org'],
    ["!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org"],
    ['josé@example.com', 'josé@example.com'],
    ['JOSÉ@example.com', 'josé@example.com'],
    ['jose\u0301@example.com', 'josé@example.com'],
    ['用户@例子.广告', '用户@xn--fsqu00a.xn--4rr70v'],
    ['ada@Bücher.Example', 'ada@xn--bcher-kva.example'],
    ['ada@xn--bcher-kva.example', 'ada@xn--bcher-kva.example'],
  ])('accepts %j (RFC 5321/6531) as %j: domain in ASCII, local part lower-cased, NFC, quoted only when it must be', (address, stored) => {
    expect(normalizeEmail(address)).toBe(stored);
  });

  it('makes the Unicode and the punycode form of a domain one address', () => {
    expect(normalizeEmail('ada@bücher.example')).toBe(normalizeEmail('ADA@XN--BCHER-KVA.EXAMPLE'));
  });

  it.each([
    'a..b@example.org', '.ada@example.org', 'ada.@example.org', '"unterminated@example.org', 'a"b"@example.org', '"a"b"@example.org',
    'ada@[192.0.2.1]', 'ada@192.0.2.1', 'ada@example.com.', 'ada@-example.com', 'ada@example-.com', 'ada@ex_ample.com', 'ada@example..com',
    '"a\r\nb"@example.org', '"a\u0000b"@example.org', '"a\\\nb"@example.org', 'a\u202e@example.org', 'a\u00a0b@example.org', 'a\u0085b@example.org',
  ])('rejects %j', (address) => {
    expect(normalizeEmail(address)).toBeNull();
  });

  it('measures the local part in octets: 64 accepted, 65 rejected, even when the characters are fewer', () => {
    expect(normalizeEmail(`${'a'.repeat(64)}@example.com`)).not.toBeNull();
    expect(normalizeEmail(`${'a'.repeat(65)}@example.com`)).toBeNull();
    expect(normalizeEmail(`${'é'.repeat(32)}@example.com`)).not.toBeNull();
    expect(normalizeEmail(`${'é'.repeat(33)}@example.com`)).toBeNull();
  });

  it('rejects a domain label over 63 characters', () => {
    expect(normalizeEmail(`ada@${'b'.repeat(63)}.com`)).not.toBeNull();
    expect(normalizeEmail(`ada@${'b'.repeat(64)}.com`)).toBeNull();
  });

  it.each(['ada lindqvist@example.com', 'ada@exam ple.com', 'ada@example.com\tbcc@example.com'])('rejects %j, which has whitespace inside', (address) => {
    expect(normalizeEmail(address)).toBeNull();
  });

  it.each(['ada@example.com\r\nBcc: evil@example.com', 'ada\r@example.com', 'ada\n@example.com', 'ada@example.com\nX: y'])('rejects %j, which has CR or LF inside', (address) => {
    expect(normalizeEmail(address)).toBeNull();
  });

  it.each(['<ada@example.com>', 'Ada <ada@example.com>', 'ada<x>@example.com', 'ada@example.com>'])('rejects %j, which has angle brackets', (address) => {
    expect(normalizeEmail(address)).toBeNull();
  });

  it.each(['', '   ', 'not-an-email', 'a@b', 'x@@example.com', '@example.com', 'ada@'])('rejects %j', (address) => {
    expect(normalizeEmail(address)).toBeNull();
  });

  it('accepts an address of 254 characters', () => {
    const address = addressOfLength(254);
    expect(normalizeEmail(address)).toBe(address);
  });

  it('rejects an address of 255 characters', () => {
    expect(normalizeEmail(addressOfLength(255))).toBeNull();
  });
});

describe('hashEmail', () => {
  it('is the hex sha256 of the address', () => {
    expect(hashEmail('ada@example.com')).toBe(createHash('sha256').update('ada@example.com').digest('hex'));
  });
});

describe('headerSafe', () => {
  it('turns CR and LF into a single space so no header can be injected', () => {
    expect(headerSafe('Weekly\r\nBcc: evil@example.com')).toBe('Weekly Bcc: evil@example.com');
  });

  it('strips a lone CR and a lone LF', () => {
    expect(headerSafe('a\rb\nc')).toBe('a b c');
  });

  it('strips other C0 control characters and DEL', () => {
    const cleaned = headerSafe('a\u0000b\u0007c\u001bd\u007fe\tf');
    expect(cleaned).toBe('a b c d e f');
    expect(cleaned).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('strips the Unicode line and paragraph separators U+2028 and U+2029', () => {
    expect(headerSafe('one\u2028two\u2029three')).toBe('one two three');
  });

  it('strips C1 control characters such as NEL (U+0085) and CSI (U+009B)', () => {
    expect(headerSafe('one\u0085two\u009bthree')).toBe('one two three');
  });

  it('collapses runs of spaces and trims the ends', () => {
    expect(headerSafe('  Weekly   AI \r\n\r\n Recap  ')).toBe('Weekly AI Recap');
  });

  it('removes bidi embeddings, overrides and isolates, which would reorder the text around them', () => {
    expect(headerSafe('invoice \u202egpj.exe\u202c and \u2067x\u2069')).toBe('invoice gpj.exe and x');
  });

  it('replaces a lone surrogate and drops non-characters, which no XML or UTF-8 writer can carry', () => {
    expect(headerSafe('a\ud800b\ufffec\udc00')).toBe('a\ufffdbc\ufffd');
  });

  it('leaves ordinary Unicode text alone', () => {
    expect(headerSafe('Zoë Müller — 東京')).toBe('Zoë Müller — 東京');
  });
});

describe('parseMailbox', () => {
  it('parses a quoted name with an address in angle brackets', () => {
    expect(parseMailbox('"Weekly AI Recap" <recap@example.com>')).toEqual({ name: 'Weekly AI Recap', address: 'recap@example.com' });
  });

  it('parses a quoted name containing a comma', () => {
    expect(parseMailbox('"Okafor, Chidi" <chidi@example.org>')).toEqual({ name: 'Okafor, Chidi', address: 'chidi@example.org' });
  });

  it('parses an unquoted name with an address in angle brackets', () => {
    expect(parseMailbox('Weekly AI Recap <Recap@Example.com>')).toEqual({ name: 'Weekly AI Recap', address: 'recap@example.com' });
  });

  it('parses a bare address with an empty name', () => {
    expect(parseMailbox(' recap@example.com ')).toEqual({ name: '', address: 'recap@example.com' });
  });

  it('parses an address in angle brackets without a name', () => {
    expect(parseMailbox('<recap@example.com>')).toEqual({ name: '', address: 'recap@example.com' });
  });

  it('makes a name with a line break header-safe', () => {
    expect(parseMailbox('"Recap\r\nBcc: evil@example.com" <recap@example.com>')?.name).not.toMatch(/[\r\n]/);
  });

  it('parses a quoted local part and an IDN domain inside angle brackets', () => {
    expect(parseMailbox('"Recap" <"news desk"@Bücher.example>')).toEqual({ name: 'Recap', address: '"news desk"@xn--bcher-kva.example' });
  });

  it.each(['', 'garbage', 'Name <>', 'Name <not-an-email>', 'Name recap@example.com', '<recap@example.com', 'a@b', '"Name" <a@b.com> extra'])(
    'rejects %j',
    (value) => {
      expect(parseMailbox(value)).toBeNull();
    },
  );
});
