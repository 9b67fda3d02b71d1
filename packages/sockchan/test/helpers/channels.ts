import { afterEach, beforeAll } from 'vitest';
import { CleanupList, assertTestNames } from '@sockchan/test-support';
import type { ServerChannel, SocketChannel } from '../../src/index.js';

/** What {@link useChannelCleanup} gives a test file. */
export interface ChannelCleanup {
  /** Raw servers and sockets of the file, closed after each test. */
  readonly cleanup: CleanupList;
  /** Registers a channel to close after the test; returns it. */
  track<T extends SocketChannel | ServerChannel>(ch: T): T;
}

/**
 * The set-up every socket test file shares: after each test, every channel it tracked and every
 * raw socket or server in `cleanup` is closed (tests end with nothing open); before the file, a
 * check that names resolve through the private hosts table only.
 */
export function useChannelCleanup(): ChannelCleanup {
  const cleanup = new CleanupList();
  const channels: (SocketChannel | ServerChannel)[] = [];
  afterEach(async () => {
    await Promise.all(channels.splice(0).map((c) => c.close()));
    await cleanup.closeAll();
  });
  beforeAll(() => {
    assertTestNames();
  });
  return {
    cleanup,
    track<T extends SocketChannel | ServerChannel>(ch: T): T {
      channels.push(ch);
      return ch;
    },
  };
}
