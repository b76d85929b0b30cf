// The sandbox on a port already in use: startSandbox rejects with EADDRINUSE (which the demo turns
// into "--sandbox-port N: the port is in use", stopping what it started) rather than the process
// dying on an unhandled 'error' event with the demo's private servers left running.

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startSandbox } from './sandbox.service.ts';

describe('the sandbox on a port in use', () => {
  it('rejects with EADDRINUSE', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(
        startSandbox({
          host: '127.0.0.1',
          port,
          token: 't',
          appSecret: 'a',
          phoneNumberId: '100000000000055',
          wabaId: '200000000000055',
          publicUrl: 'https://lastcall.example',
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
