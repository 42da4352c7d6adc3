// Files up and down (files.js) against the fake server: the bytes and SHA-256 that go out,
// progress, cancel, and a download checked against its SHA-256.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../../chat/server/web/static/js/session.js";
import { PIECE, Transfers } from "../../chat/server/web/static/js/files.js";
import { sha256Hex } from "../../chat/server/web/static/js/sha256.js";
import { FakeServer, until } from "./fake_server.mjs";

async function setUp() {
  const server = new FakeServer();
  const session = new Session("ws://test/ws", { WebSocketClass: server.socketClass() });
  await session.start("alice", "secret-password");
  session.limits = { max_file_size: 10 << 20, file_chunk: 65536 };
  const changes = [];
  const transfers = new Transfers(session, (items) => changes.push(items.map((i) => [i.state, i.done])));
  return { server, session, transfers, changes };
}

function bytes(n) {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7 + 3) & 255;
  return data;
}

test("an upload sends every byte once, offered with its SHA-256", async () => {
  const { server, session, transfers, changes } = await setUp();
  const data = bytes(300000);
  const item = await transfers.send("#lobby", new Blob([data]), { name: "a.bin" });
  assert.equal(item.state, "done");
  assert.equal(server.offer.sha256, sha256Hex(data));
  assert.equal(server.offer.size, data.length);
  assert.deepEqual(server.uploaded, data);
  assert.equal(server.bodyFrames, 5);                 // 300,000 bytes in 64 KiB frames
  assert.ok(changes.some((c) => c[0] && c[0][0] === "sending"));
  session.stop();
});

test("a file over the server's limit is refused before anything is sent", async () => {
  const { server, session, transfers } = await setUp();
  session.limits.max_file_size = 1000;
  const item = await transfers.send("#lobby", new Blob([bytes(2000)]), { name: "big.bin" });
  assert.equal(item.state, "failed");
  assert.equal(item.error.code, "too_large");
  assert.equal(server.offer, undefined);
  session.stop();
});

test("cancelling an upload stops its body frames and tells the server", async () => {
  const { server, session, transfers } = await setUp();
  const socket = server.sockets.at(-1);
  // the socket stays "full" after the first frame: the upload waits there
  const send = socket.send.bind(socket);
  socket.send = (data) => { send(data); if (typeof data !== "string") socket.bufferedAmount = 4 << 20; };
  const running = transfers.send("#lobby", new Blob([bytes(1 << 20)]), { name: "c.bin" });
  await until(() => server.bodyFrames === 1, "the first body frame");
  const item = transfers.items[0];
  item.cancel();
  await until(() => server.requests.some((r) => r.type === "cancel"), "the cancel request");
  const upload = server.requests.find((r) => r.type === "upload");
  assert.equal(server.requests.find((r) => r.type === "cancel").request, upload.id);
  socket.bufferedAmount = 0;
  await running;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.bodyFrames, 1);                 // nothing more after the cancel
  assert.equal(item.state, "cancelled");
  session.stop();
});

test("a download is checked against its SHA-256", async () => {
  const { server, session, transfers } = await setUp();
  const data = bytes(5500);
  server.files.set(3, data);
  const blob = await transfers.fetch({ id: 3, name: "d.bin", size: data.length, sha256: sha256Hex(data), mime: "application/octet-stream" });
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), data);
  server.files.set(4, data);
  await assert.rejects(transfers.fetch({ id: 4, name: "e.bin", size: data.length, sha256: "0".repeat(64) }),
                       (error) => error.code === "checksum");
  session.stop();
});

const waitFor = async (f, what, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end;) { if (f()) return; await new Promise((r) => setTimeout(r, 5)); }
  throw new Error(`timed out: ${what}`);
};

test("an upload cut by a lost connection goes on from the server's offset after the reconnect", async () => {
  const { server, session, transfers, changes } = await setUp();
  session.backoff = 20;                               // reconnect at once
  const data = bytes(600000);
  server.breakAfter = 200000;                         // the link breaks in the middle
  const item = await transfers.send("#lobby", new Blob([data]), { name: "r.bin" });
  assert.equal(item.state, "done");
  assert.deepEqual(server.uploaded, data);
  assert.equal(server.offers, 2);                     // offered again after the reconnect ...
  const uploads = server.requests.filter((r) => r.type === "upload");
  assert.equal(uploads.length, 2);
  assert.equal(uploads[0].offset, 0);
  assert.ok(uploads[1].offset >= 200000, uploads[1].offset);   // ... and not sent from 0 again
  assert.equal(uploads[1].body, data.length - uploads[1].offset);
  assert.equal(server.bodyBytes, data.length);         // every byte once
  assert.ok(changes.some((c) => c[0] && c[0][0] === "waiting"), "shown as waiting");
  session.stop();
});

test("a download cut by a lost connection asks for the rest and checks the whole", async () => {
  const { server, session, transfers } = await setUp();
  session.backoff = 20;
  const data = bytes(50000);
  server.files.set(5, data);
  server.breakAfter = 20000;
  const blob = await transfers.fetch({ id: 5, name: "r.bin", size: data.length, sha256: sha256Hex(data) });
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), data);
  assert.equal(server.downloads.length, 2);
  assert.equal(server.downloads[0], 0);
  assert.equal(server.downloads[1], 20000);           // from the bytes it had
  session.stop();
});

test("a transfer waiting for the connection ends when the session stops for good", async () => {
  const { server, session, transfers } = await setUp();
  session.backoff = 60000;                            // no reconnect within the test
  const data = bytes(50000);
  server.files.set(6, data);
  server.breakAfter = 10000;
  const running = transfers.fetch({ id: 6, name: "s.bin", size: data.length, sha256: sha256Hex(data) });
  await waitFor(() => transfers.items[0]?.state === "waiting", "waiting");
  session.stop();                                     // a logout, a kick
  await assert.rejects(running, (error) => error.code === "link_lost");
  assert.equal(transfers.items[0].state, "failed");
});

test("a large download holds at most one piece in the script's memory", async () => {
  const { server, session, transfers } = await setUp();
  const size = 3 * PIECE + 12345;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) data[i] = i & 255;
  server.files.set(8, data);
  server.downloadChunk = 262144;
  const blob = await transfers.fetch({ id: 8, name: "big.bin", size, sha256: sha256Hex(data) });
  assert.equal(blob.size, size);
  assert.ok(transfers.held <= PIECE + 262144, `${transfers.held} bytes held at once`);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), data);
  session.stop();
});
