// LinkDebounce: interface_up_down_delays as keepalived_netlink.c update_interface_flags applies them, with a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkDebounce } from '../../src/vrrp/link-debounce.js';
import { FakeClock } from '../../src/clock.js';

// ifi_flags of a veth: up and running (UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP), set down, up but no carrier yet.
const UP = 0x11043;
const DOWN = 0x1002;
const UP_NO_CARRIER = 0x1003;

function make(): { d: LinkDebounce; clock: FakeClock } {
  const d = new LinkDebounce([{ name: 'eth1', downUs: 2_000_000, upUs: 3_000_000 }]);
  d.seed('eth1', UP);
  d.seed('eth0', UP);
  return { d, clock: new FakeClock() };
}

test('a link going down is acted on only once it has stayed down for the down delay', () => {
  const { d, clock } = make();
  assert.deepEqual(d.change('eth1', DOWN, false, clock.now()), { act: false, lines: ['eth1: Adding flags change from 0x11043 to 0x1002 delay by 2000000'] });
  assert.equal(d.nextDue(), 2000);
  clock.advance(1999);
  assert.deepEqual(d.due(clock.now()), []);
  clock.advance(1);
  assert.deepEqual(d.due(clock.now()), [{ name: 'eth1', up: false }]);
  assert.equal(d.nextDue(), undefined);
  // Coming back up waits for the up delay, from the flags acted on.
  assert.deepEqual(d.change('eth1', UP, false, clock.now()), { act: false, lines: ['eth1: Adding flags change from 0x1002 to 0x11043 delay by 3000000'] });
  assert.equal(d.nextDue(), 5000);
  clock.advance(3000);
  assert.deepEqual(d.due(clock.now()), [{ name: 'eth1', up: true }]);
});

test('a flap back to the flags acted on within the delay drops the change without a word', () => {
  const { d, clock } = make();
  d.change('eth1', DOWN, false, clock.now());
  clock.advance(500);
  // Up without carrier is still down for VRRP (FLAGS_UP wants IFF_RUNNING): the delayed change takes the new flags.
  assert.deepEqual(d.change('eth1', UP_NO_CARRIER, false, clock.now()), { act: false, lines: [] });
  assert.deepEqual(d.change('eth1', UP, false, clock.now()), { act: false, lines: [] });
  assert.equal(d.nextDue(), undefined);
  clock.advance(5000);
  assert.deepEqual(d.due(clock.now()), []);
});

test('the other way with other flags than acted on cancels the delayed change with a line', () => {
  const { d, clock } = make();
  d.change('eth1', DOWN, false, clock.now());
  // Up again but with IFF_PROMISC set since: not the flags acted on.
  assert.deepEqual(d.change('eth1', UP | 0x100, false, clock.now()), { act: false, lines: ['Delay timer for eth1 cancelled'] });
  assert.equal(d.nextDue(), undefined);
});

test('no delay for an interface without one, one never seen up, or one deleted', () => {
  const { d, clock } = make();
  assert.deepEqual(d.change('eth0', DOWN, false, clock.now()), { act: true, lines: [] });
  assert.deepEqual(d.change('eth0', UP | 0x100, false, clock.now()), { act: true, lines: [] });
  // Flags that change without up/down changing are not acted on.
  assert.deepEqual(d.change('eth0', UP, false, clock.now()), { act: false, lines: [] });
  const delayed = new LinkDebounce([{ name: 'eth2', downUs: 1_000_000, upUs: 1_000_000 }]);
  delayed.seed('eth2', DOWN);
  assert.deepEqual(delayed.change('eth2', UP, false, clock.now()), { act: true, lines: [] });
  // Deleted: down at once, and seen up no more, so its return is not delayed either.
  assert.deepEqual(d.change('eth1', UP, true, clock.now()), { act: true, lines: [] });
  assert.deepEqual(d.change('eth1', UP, false, clock.now()), { act: true, lines: [] });
});

test('a reload changes the delays', () => {
  const { d, clock } = make();
  d.setDelays([]);
  assert.deepEqual(d.change('eth1', DOWN, false, clock.now()), { act: true, lines: [] });
});
