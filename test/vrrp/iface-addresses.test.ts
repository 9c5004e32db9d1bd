// The interface address keepalived takes as its own (keepalived_netlink.c netlink_if_address_filter): the first one
// reported, the others remembered; the last remembered takes over when it goes, and with none left it is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceAddresses } from '../../src/vrrp/iface-addresses.js';

test('the first address is the own one; deleting it promotes the last one remembered, then leaves none', () => {
  const book = new InterfaceAddresses();
  assert.equal(book.added(2, 4, '10.0.0.1'), true);
  assert.equal(book.added(2, 4, '10.0.1.1'), false);
  assert.equal(book.added(2, 4, '10.0.2.1'), false);
  // Reported again (a secondary promoted, flags changed): not remembered twice.
  assert.equal(book.added(2, 4, '10.0.1.1'), false);
  assert.equal(book.added(2, 6, 'fe80::1'), true, 'each family has its own');
  assert.equal(book.added(3, 4, '10.9.0.1'), true, 'each interface has its own');
  assert.equal(book.deleted(2, 4, '10.0.2.1'), undefined, 'a remembered one goes quietly');
  assert.deepEqual(book.deleted(2, 4, '10.0.0.1'), { kind: 'replaced', by: '10.0.1.1' });
  assert.deepEqual(book.deleted(2, 4, '10.0.1.1'), { kind: 'gone' });
  assert.equal(book.deleted(2, 4, '10.0.1.1'), undefined);
  assert.equal(book.added(2, 4, '10.0.0.1'), true, 'the next to come is the own one again');
  assert.equal(book.added(2, 6, 'fe80::2'), false);
});
