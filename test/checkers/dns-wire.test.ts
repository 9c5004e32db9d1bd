import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeReplyHeader, encodeQuery } from '../../checkers/dns-wire.js';

// Expected bytes written by hand from RFC 1035 §4.1.1–4.1.2, one field per line.
const QUERY_A_WWW = [
  '1234', // ID
  '0100', // flags: RD
  '0001', // QDCOUNT
  '0000', // ANCOUNT
  '0000', // NSCOUNT
  '0000', // ARCOUNT
  '03777777', // "www"
  '076578616d706c65', // "example"
  '03636f6d', // "com"
  '00', // root
  '0001', // QTYPE A
  '0001', // QCLASS IN
].join('');

test('encodeQuery builds an RD query with one question', () => {
  assert.equal(encodeQuery(0x1234, 'www.example.com', 'A').toString('hex'), QUERY_A_WWW);
  assert.equal(encodeQuery(0x1234, 'www.example.com.', 'A').toString('hex'), QUERY_A_WWW);
  // The root name (keepalived's default `.`) is a single zero byte; SOA is 6.
  assert.equal(encodeQuery(1, '.', 'SOA').subarray(12).toString('hex'), '00' + '0006' + '0001');
  assert.equal(encodeQuery(1, 'x', 'DNSKEY').subarray(-4).toString('hex'), '0030' + '0001');
  assert.throws(() => encodeQuery(1, 'a..b', 'A'), /bad DNS label/);
});

test('decodeReplyHeader reads ID, QR, RCODE and refuses short datagrams', () => {
  const reply = Buffer.from('1234' + '8183' + '0001' + '0002' + '0000' + '0000', 'hex');
  assert.deepEqual(decodeReplyHeader(reply), { id: 0x1234, qr: true, rcode: 3, ancount: 2 });
  assert.equal(decodeReplyHeader(Buffer.alloc(11)), undefined);
});
