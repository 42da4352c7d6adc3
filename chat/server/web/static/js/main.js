// Entry point of the browser client (an ES module: no build step).
import { App } from "./app.js";

const app = new App();
globalThis.chatApp = app;        // for the browser tests and the curious
app.start();
