// Our SMTP client (src/delivery/smtp-client.ts) against real servers on loopback: smtp-server for
// SMTP itself (pipelining or not, STARTTLS, smtps, AUTH), a recording TCP relay in front of it to
// see what went over the wire in which packet, and servers that refuse, never greet, cut or stall.
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type SmtpOptions, SubmitError, dotStuffed, smtpPool } from '../../src/delivery/smtp-client.ts';
import { type SinkAction, type SinkOptions, type SmtpSink, TEST_CA, refusedPort, startRecordingProxy, startSilentServer, startSmtpSink } from '../helpers/smtp-sink.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function sink(options: SinkOptions = {}): Promise<SmtpSink> {
  const s = await startSmtpSink(options);
  cleanups.push(() => s.close());
  return s;
}

async function proxy(port: number) {
  const p = await startRecordingProxy(port);
  cleanups.push(() => p.close());
  return p;
}

function pool(port: number, options: Partial<SmtpOptions> = {}) {
  const p = smtpPool({ host: '127.0.0.1', port, secure: false, poolSize: 1, timeoutMs: 2000, label: `127.0.0.1:${port}`, ...options });
  cleanups.push(() => p.close());
  return p;
}

const CA = readFileSync(TEST_CA, 'utf8');
const message = (to: string, body = 'Hello.\r\n') => Buffer.from(`From: recap@recap.test\r\nTo: ${to}\r\nSubject: test\r\n\r\n${body}`);
const envelope = (to: string) => ({ from: 'recap@recap.test', to: [to] });

/** A hand-over that counts its calls. */
function handOver() {
  const calls: number[] = [];
  const fn = async () => void calls.push(Date.now());
  return Object.assign(fn, { calls });
}

async function refusal(p: Promise<unknown>): Promise<SubmitError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof SubmitError)) throw new Error(`expected a SubmitError, got ${String(e)}`);
  return e;
}

describe('pipelining (RFC 2920)', () => {
  it('writes MAIL FROM, RCPT TO and DATA in one packet when the server offers PIPELINING', async () => {
    const s = await sink();
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    const ho = handOver();
    const { response } = await p.send(envelope('ada@example.com'), message('ada@example.com'), ho);
    expect(response).toMatch(/^250 .*Queued as test/);
    expect(ho.calls).toHaveLength(1);
    const group = relay.packets.find((packet) => packet.startsWith('MAIL FROM:'));
    expect(group).toMatch(/^MAIL FROM:<recap@recap\.test>[^\r]*\r\nRCPT TO:<ada@example\.com>\r\nDATA\r\n$/);
    expect(s.byRecipient().get('ada@example.com')).toHaveLength(1);
  });

  it('sends one command at a time when the server does not offer it', async () => {
    const s = await sink({ pipelining: false });
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    await p.send(envelope('ada@example.com'), message('ada@example.com'), handOver());
    const mail = relay.packets.findIndex((packet) => packet.startsWith('MAIL FROM:'));
    expect(relay.packets[mail]).toMatch(/^MAIL FROM:<recap@recap\.test>[^\r]*\r\n$/);
    expect(relay.packets[mail + 1]).toBe('RCPT TO:<ada@example.com>\r\n');
    expect(relay.packets[mail + 2]).toBe('DATA\r\n');
    expect(s.byRecipient().get('ada@example.com')).toHaveLength(1);
  });
});

describe('dot-stuffing', () => {
  const bodies: Array<[string, string]> = [
    ['a line that is a lone dot', 'one\r\n.\r\ntwo\r\n'],
    ['lines starting with dots and double dots', '.a\r\n..b\r\n...\r\nx.y\r\n.\r\n..\r\n'],
    ['a dot at the very end', 'last line\r\n.'],
    ['no final line break', 'no CRLF at the end'],
  ];

  it.each(bodies)('%s: the server reads the message back byte for byte', async (_, body) => {
    const s = await sink();
    const p = pool(s.port);
    const raw = message('ada@example.com', body);
    await p.send(envelope('ada@example.com'), raw, handOver());
    const got = s.messages[0]?.bytes;
    // A message must end in CRLF on the wire; one that does not gets it.
    const expected = raw.subarray(-2).toString() === '\r\n' ? raw : Buffer.concat([raw, Buffer.from('\r\n')]);
    expect(got?.toString('utf8')).toBe(expected.toString('utf8'));
    expect(got?.equals(expected)).toBe(true);
  });

  it('stuffs a message that starts with a dot, and splits only at line starts', () => {
    const stuffed = dotStuffed(Buffer.from('.first\r\nmid.dle\r\n.\r\n..x\r\n')).toString();
    expect(stuffed).toBe('..first\r\nmid.dle\r\n..\r\n...x\r\n.\r\n');
    expect(dotStuffed(Buffer.from('')).toString()).toBe('\r\n.\r\n');
  });

  it('reads back a message that starts with a dot', async () => {
    const s = await sink();
    const p = pool(s.port);
    const raw = Buffer.from('.X-Odd: header-like first line\r\n\r\nbody\r\n');
    await p.send(envelope('ada@example.com'), raw, handOver());
    expect(s.messages[0]?.bytes.equals(raw)).toBe(true);
  });
});

describe('TLS and AUTH', () => {
  const login = (user: string, pass: string) => user === 'recap' && pass === 's3cret';

  it('upgrades with STARTTLS, verifies the certificate against SMTP_TLS_CA, and logs in with AUTH PLAIN', async () => {
    const s = await sink({ tls: 'starttls', login });
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port), { ca: CA, auth: { user: 'recap', pass: 's3cret' } });
    await p.send(envelope('ada@example.com'), message('ada@example.com'), handOver());
    expect(s.logins).toEqual([{ method: 'PLAIN', user: 'recap', secure: true }]);
    expect(s.byRecipient().get('ada@example.com')).toHaveLength(1);
    // After STARTTLS nothing went over the wire in the clear.
    const wire = relay.packets.join('');
    expect(wire).toMatch(/^EHLO [^\r]+\r\nSTARTTLS\r\n/);
    expect(wire).not.toContain('MAIL FROM');
    expect(wire).not.toContain('AUTH');
  });

  it('logs in with AUTH LOGIN when the server offers only that', async () => {
    const s = await sink({ tls: 'starttls', login, authMethods: ['LOGIN'] });
    const p = pool(s.port, { ca: CA, auth: { user: 'recap', pass: 's3cret' } });
    await p.send(envelope('ada@example.com'), message('ada@example.com'), handOver());
    expect(s.logins).toEqual([{ method: 'LOGIN', user: 'recap', secure: true }]);
    expect(s.byRecipient().get('ada@example.com')).toHaveLength(1);
  });

  it('speaks TLS from the start with smtps://', async () => {
    const s = await sink({ tls: 'smtps', login });
    const p = pool(s.port, { secure: true, ca: CA, auth: { user: 'recap', pass: 's3cret' } });
    await p.send(envelope('ada@example.com'), message('ada@example.com'), handOver());
    expect(s.logins).toEqual([{ method: 'PLAIN', user: 'recap', secure: true }]);
    expect(s.byRecipient().get('ada@example.com')).toHaveLength(1);
  });

  it.each([
    ['a wrong password', { tls: 'starttls' as const, login }, { ca: CA, auth: { user: 'recap', pass: 'wrong' } }, /Invalid login: 535/],
    ['an untrusted certificate (STARTTLS)', { tls: 'starttls' as const }, {}, /TLS failed: .*self[- ]signed/i],
    ['an untrusted certificate (smtps)', { tls: 'smtps' as const }, { secure: true }, /TLS failed: .*self[- ]signed/i],
  ] as Array<[string, SinkOptions, Partial<SmtpOptions>, RegExp]>)('%s: our relay is unreachable, and nothing was sent', async (_, server, client, error) => {
    const s = await sink(server);
    const p = pool(s.port, client);
    const ho = handOver();
    const e = await refusal(p.send(envelope('ada@example.com'), message('ada@example.com'), ho));
    expect(e).toMatchObject({ relayUnreachable: true, uncertain: false });
    expect(e.message).toMatch(error);
    expect(ho.calls).toHaveLength(0);
    expect(s.commands.filter((c) => c.startsWith('MAIL FROM'))).toEqual([]);
  });
});

/** An old server that knows no EHLO: it answers HELO and plain SMTP, and keeps what it is sent. */
async function heloOnlyServer(): Promise<{ port: number; wire: string[]; close(): Promise<void> }> {
  const wire: string[] = [];
  const server = createServer((socket) => {
    let data = false;
    let buffer = '';
    socket.write('220 old.example ESMTP-less\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        wire.push(line);
        if (data) {
          if (line === '.') {
            data = false;
            socket.write('250 ok\r\n');
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('502 5.5.2 EHLO not implemented\r\n');
        else if (verb === 'DATA') {
          data = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, wire, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('an old server', () => {
  it('falls back to HELO and sends one command at a time', async () => {
    const old = await heloOnlyServer();
    cleanups.push(old.close);
    const p = pool(old.port);
    await p.send(envelope('ada@example.com'), message('ada@example.com', '.dot\r\n'), handOver());
    await p.close();
    expect(old.wire.slice(0, 6)).toEqual([
      expect.stringMatching(/^EHLO /), expect.stringMatching(/^HELO /), 'MAIL FROM:<recap@recap.test>', 'RCPT TO:<ada@example.com>', 'DATA', 'From: recap@recap.test',
    ]);
    expect(old.wire).toContain('..dot');
    expect(old.wire.slice(-2)).toEqual(['.', 'QUIT']);
  });
});

describe('the pool', () => {
  it('opens up to SMTP_POOL_SIZE connections, keeps them open and reuses them', async () => {
    const s = await sink();
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port), { poolSize: 3 });
    for (let round = 0; round < 2; round++) {
      const people = Array.from({ length: 9 }, (_, i) => `r${round}-${i}@example.com`);
      await Promise.all(people.map((to) => p.send(envelope(to), message(to), handOver())));
    }
    expect(relay.connections()).toBe(3);
    expect(s.messages).toHaveLength(18);
    for (const m of s.messages) expect(m.to).toHaveLength(1);
  });

  it('opens no more connections than it has messages for', async () => {
    const s = await sink();
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port), { poolSize: 5 });
    await p.send(envelope('a@example.com'), message('a@example.com'), handOver());
    await p.send(envelope('b@example.com'), message('b@example.com'), handOver());
    expect(relay.connections()).toBe(1);
  });

  it('opens a fresh connection after the server dropped one', async () => {
    const s = await sink();
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    await p.send(envelope('a@example.com'), message('a@example.com'), handOver());
    relay.dropAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await p.send(envelope('b@example.com'), message('b@example.com'), handOver());
    expect(relay.connections()).toBe(2);
    expect([...s.byRecipient().keys()].sort()).toEqual(['a@example.com', 'b@example.com']);
  });

  it('opens a fresh connection after the server closed an idle one with a 421', async () => {
    const s = await sink({ idleTimeoutMs: 200 });
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    await p.send(envelope('a@example.com'), message('a@example.com'), handOver());
    await new Promise((resolve) => setTimeout(resolve, 500));
    await p.send(envelope('b@example.com'), message('b@example.com'), handOver());
    expect(relay.connections()).toBe(2);
    expect([...s.byRecipient().keys()].sort()).toEqual(['a@example.com', 'b@example.com']);
  });

  it('sends again on a fresh connection when a kept-open one turns out closed before any reply', async () => {
    const s = await sink();
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    await p.send(envelope('a@example.com'), message('a@example.com'), handOver());
    // The server went away just as the next message began: its MAIL FROM is never answered.
    relay.swallowNext(/^MAIL FROM:/);
    const ho = handOver();
    await p.send(envelope('b@example.com'), message('b@example.com'), ho);
    expect(ho.calls).toHaveLength(1);
    expect(relay.connections()).toBe(2);
    expect([...s.byRecipient().keys()].sort()).toEqual(['a@example.com', 'b@example.com']);
  });

  it('says QUIT on close', async () => {
    const s = await sink();
    const p = pool(s.port);
    await p.send(envelope('a@example.com'), message('a@example.com'), handOver());
    await p.close();
    expect(s.commands.at(-1)).toBe('QUIT');
  });
});

describe('a reply lost after the final dot', () => {
  it.each([
    ['the server cuts the connection', 'cut-after-dot', /connection closed after the message was sent/],
    ['the server never answers', 'stall', /no reply within 1 s after the message was sent/],
  ] as Array<[string, SinkAction, RegExp]>)('%s: uncertain (the message may have gone out); the next message goes on a fresh connection', async (_, action, error) => {
    const s = await sink({ script: (rcpt) => (rcpt === 'lost@example.com' ? action : 'accept') });
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port), { timeoutMs: 1000 });
    const ho = handOver();
    const e = await refusal(p.send(envelope('lost@example.com'), message('lost@example.com'), ho));
    expect(e).toMatchObject({ uncertain: true, relayUnreachable: false, responseCode: undefined });
    expect(e.message).toMatch(error);
    expect(ho.calls).toHaveLength(1);
    await p.send(envelope('next@example.com'), message('next@example.com'), handOver());
    expect(relay.connections()).toBe(2);
    expect(s.byRecipient().get('next@example.com')).toHaveLength(1);
  });

  it('a 4xx or 5xx after the final dot is the server’s answer, not uncertain', async () => {
    const s = await sink({ script: (rcpt) => (rcpt === 'spam@example.com' ? { data: { code: 550, message: '5.7.1 Message rejected as spam' } } : 'accept') });
    const p = pool(s.port);
    const e = await refusal(p.send(envelope('spam@example.com'), message('spam@example.com'), handOver()));
    expect(e).toMatchObject({ uncertain: false, relayUnreachable: false, responseCode: 550 });
    expect(e.message).toMatch(/^550 5\.7\.1 Message rejected as spam/);
  });
});

describe('failures before DATA', () => {
  it('a refused recipient refuses the message with its reply; RSET, and the connection takes the next one', async () => {
    const s = await sink({ script: (rcpt) => (rcpt === 'busy@example.com' ? { rcpt: { code: 451, message: '4.3.0 Try again later' } } : 'accept') });
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    const ho = handOver();
    const e = await refusal(p.send(envelope('busy@example.com'), message('busy@example.com'), ho));
    expect(e).toMatchObject({ responseCode: 451, uncertain: false, relayUnreachable: false });
    expect(e.message).toMatch(/^451 .*Try again later/);
    expect(ho.calls).toHaveLength(0);
    await p.send(envelope('ok@example.com'), message('ok@example.com'), handOver());
    expect(s.commands.slice(s.commands.indexOf('RCPT TO:<busy@example.com>'))).toContain('RSET');
    expect(relay.connections()).toBe(1);
    expect([...s.byRecipient().keys()]).toEqual(['ok@example.com']);
  });

  it('declares the size where SIZE is offered, so a relay refuses a message too big before it is sent', async () => {
    const s = await sink({ size: 1000 });
    const p = pool(s.port);
    const small = message('small@example.com');
    await p.send(envelope('small@example.com'), small, handOver());
    expect(s.commands).toContain(`MAIL FROM:<recap@recap.test> SIZE=${small.length}`);
    const ho = handOver();
    const e = await refusal(p.send(envelope('big@example.com'), message('big@example.com', 'x'.repeat(2000)), ho));
    expect(e.responseCode).toBe(552);
    expect(ho.calls).toHaveLength(0);
    expect([...s.byRecipient().keys()]).toEqual(['small@example.com']);
  });

  it('a 421 closes that connection; the next message opens a fresh one', async () => {
    const s = await sink({ script: (rcpt) => (rcpt === 'closing@example.com' ? { rcpt: { code: 421, message: '4.3.2 Service shutting down' } } : 'accept') });
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    const e = await refusal(p.send(envelope('closing@example.com'), message('closing@example.com'), handOver()));
    expect(e.responseCode).toBe(421);
    await p.send(envelope('ok@example.com'), message('ok@example.com'), handOver());
    expect(relay.connections()).toBe(2);
  });

  it.each([
    ['connection refused', async () => refusedPort(), /ECONNREFUSED/],
    ['no greeting', async () => {
      const silent = await startSilentServer();
      cleanups.push(silent.close);
      return Number(new URL(silent.url).port);
    }, /Greeting never received within 1 s/],
  ] as Array<[string, () => Promise<number>, RegExp]>)('%s: our relay is unreachable, and the hand-over never happens', async (_, port, error) => {
    const p = pool(await port(), { timeoutMs: 1000 });
    const ho = handOver();
    const e = await refusal(p.send(envelope('a@example.com'), message('a@example.com'), ho));
    expect(e).toMatchObject({ relayUnreachable: true, uncertain: false });
    expect(e.message).toMatch(error);
    expect(ho.calls).toHaveLength(0);
  });

  it('a hand-over that fails completes nothing: its error comes back, and the connection is not reused', async () => {
    const s = await sink();
    const relay = await proxy(s.port);
    const p = pool(Number(new URL(relay.url).port));
    const broken = new Error('database is locked');
    await expect(p.send(envelope('a@example.com'), message('a@example.com'), async () => Promise.reject(broken))).rejects.toBe(broken);
    expect(s.messages).toEqual([]);
    await p.send(envelope('b@example.com'), message('b@example.com'), handOver());
    expect([...s.byRecipient().keys()]).toEqual(['b@example.com']);
    expect(relay.connections()).toBe(2);
  });
});
