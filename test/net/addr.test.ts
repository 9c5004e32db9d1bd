import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, ipFamily, parseIp } from '../../src/net/addr.js';

test('IPv6 text is canonical per RFC 5952 and round-trips through bytes', () => {
  const cases: [string, string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '20010db8000000010000000000000001', '2001:db8:0:1::1'], // longest run wins
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:1:1:1:1:0:1', '20010db8000100010001000100000001', '2001:db8:1:1:1:1:0:1'], // a single 0 stays
    ['::', '00000000000000000000000000000000', '::'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001', 'fe80::1'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201', '::ffff:c000:201'],
  ];
  for (const [text, hex, canonical] of cases) {
    assert.equal(parseIp(text).toString('hex'), hex, text);
    assert.equal(formatIp(Buffer.from(hex, 'hex')), canonical, text);
  }
});

test('IPv4 and rejects', () => {
  assert.equal(parseIp('192.0.2.255').toString('hex'), 'c00002ff');
  assert.equal(formatIp(Buffer.from('c00002ff', 'hex')), '192.0.2.255');
  assert.deepEqual([ipFamily('192.0.2.1'), ipFamily('2001:db8::1'), ipFamily('eth0')], [4, 6, 0]);
  assert.throws(() => parseIp('192.0.2.256'), TypeError);
  assert.throws(() => formatIp(Buffer.alloc(5)), TypeError);
});
