// Every string in both languages: each key of the English table is in the Chinese one, and
// every key the page (data-i18n*) and the app (t("...")) use is in the tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
const { STRING_TABLES } = await import("../../chat/server/web/static/js/i18n.js");
const STATIC = new URL("../../chat/server/web/static/", import.meta.url);

test("the Chinese table has every English string", () => {
  const missing = Object.keys(STRING_TABLES.en).filter((k) => !k.endsWith("_one") && !(k in STRING_TABLES.zh));
  assert.deepEqual(missing, []);
  const extra = Object.keys(STRING_TABLES.zh).filter((k) => !(k in STRING_TABLES.en));
  assert.deepEqual(extra, []);
});

test("every key the page and the app use has a string", () => {
  const html = readFileSync(new URL("index.html", STATIC), "utf8");
  const used = [...html.matchAll(/data-i18n(?:-label|-placeholder|-title)?="([a-z_0-9]+)"/g)].map((m) => m[1]);
  const app = readFileSync(new URL("js/app.js", STATIC), "utf8");
  used.push(...[...app.matchAll(/\bt\("([a-z_0-9]+)"/g)].map((m) => m[1]));
  assert.ok(used.length > 100, `${used.length} keys found`);
  assert.deepEqual([...new Set(used.filter((k) => !(k in STRING_TABLES.en)))], []);
});
