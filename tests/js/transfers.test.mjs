// Files up and down (files.js) against the fake server: the bytes and SHA-256 that go out,
// progress, cancel, and a download checked against its SHA-256.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../../chat/server/web/static/js/session.js";
import { Transfers } from "../../chat/server/web/static/js/files.js";
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
