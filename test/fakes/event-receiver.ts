// An operator's event endpoint on 127.0.0.1, as docs/api.md ("Outbound events") tells them to write
// one: it verifies Lastcall-Signature on the raw body before parsing, then answers what the test
// asks for (2xx, a status, or no answer at all). Every request is kept with its verdict.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { verifyEventSignature } from '../../src/events/signature.ts';

export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly data: Record<string, unknown>;
}

export type Answer = number | 'hang';

export interface EventReceiver {
  readonly url: string;
  /** Every POST, in arrival order, with whether its signature held. */
  readonly requests: { event: ReceivedEvent; signed: boolean; status: Answer }[];
  /** What the next requests get (default 204). */
  answer: (request: number) => Answer;
  /** Events accepted (2xx), in arrival order. */
  accepted(): ReceivedEvent[];
  close(): Promise<void>;
}

async function rawBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startEventReceiver(secret: string): Promise<EventReceiver> {
  const hanging = new Set<() => void>();
  const receiver: EventReceiver = {
    url: '',
    requests: [],
    answer: () => 204,
    accepted: () =>
      receiver.requests.filter((r) => typeof r.status === 'number' && r.status < 300).map((r) => r.event),
    close: async () => {},
  };
  const server: Server = createServer(async (request, response) => {
    const body = await rawBody(request);
    const signed = verifyEventSignature(
      secret,
      request.headers['lastcall-signature'] as string,
      body,
      Math.floor(Date.now() / 1000),
      1e9,
    );
    const status: Answer = signed ? receiver.answer(receiver.requests.length) : 401;
    receiver.requests.push({ event: JSON.parse(body) as ReceivedEvent, signed, status });
    if (status === 'hang') {
      hanging.add(() => response.destroy());
      return;
    }
    response.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/lastcall-events`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const end of hanging) end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
