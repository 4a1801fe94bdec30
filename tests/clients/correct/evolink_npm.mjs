// EvoLink's own npm client (@evolinkai/evolink-media 1.2.1) wrapped unchanged as a
// client command: its apiRequest (the create, retried once) and queryTask (a poll,
// retried three times), with the polling loop its MCP tool leaves to the caller.
// EVOLINK_MEDIA_DIR names the installed package (npm install into a temp dir; not in
// the repo); make calibrate runs it when that is set.
import { pathToFileURL } from "node:url";
import path from "node:path";

const dir = process.env.EVOLINK_MEDIA_DIR;
const api = await import(
  pathToFileURL(path.join(dir, "dist/core/src/services/api-client.js")).href
);
process.env.EVOLINK_API_KEY = process.env.WANMOCK_API_KEY;
const config = { channel: "wanmock", baseUrl: process.env.WANMOCK_BASE_URL };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let task;
try {
  task = await api.apiRequest(config, {
    method: "POST",
    path: "/v1/videos/generations",
    body: JSON.parse(process.env.WANMOCK_REQUEST),
  });
} catch (error) {
  console.error(String(error));
  console.log(JSON.stringify({ status: "failed", error_code: "create_failed" }));
  process.exit(0);
}
while (task.status !== "completed" && task.status !== "failed") {
  await sleep(100);
  task = await api.queryTask(config, task.id);
}
if (task.status === "completed") {
  console.log(JSON.stringify({ status: "completed", video_urls: task.results }));
} else {
  console.log(JSON.stringify({ status: "failed", error_code: task.error?.code ?? "unknown_error" }));
}
