// A correct client on Node 18+'s own fetch: creates once (reports failed when the
// create's outcome is unknown), retries refused creates and every poll failure three
// times after Retry-After or a backoff, and polls with a pause that grows.
const REFUSED = new Set([429, 502, 503]);
const TRANSIENT = new Set([429, 500, 502, 503, 504]);
const RETRIES = 3;
const base = process.env.WANMOCK_BASE_URL;
const key = process.env.WANMOCK_API_KEY;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Unknown extends Error {}

async function call(method, path, body) {
  const create = method === "POST";
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    let answer, data;
    try {
      answer = await fetch(base + path, {
        method,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10000),
      });
      data = await answer.json();
    } catch (error) {
      if (create) throw new Unknown(String(error));
      if (attempt === RETRIES) throw error;
      await sleep(50 * 2 ** attempt);
      continue;
    }
    if (answer.status === 200) return data;
    if (create && TRANSIENT.has(answer.status) && !REFUSED.has(answer.status)) {
      throw new Unknown(String(answer.status));
    }
    if (!TRANSIENT.has(answer.status) || attempt === RETRIES) {
      throw new Error(`HTTP ${answer.status}: ${JSON.stringify(data)}`);
    }
    const after = answer.headers.get("retry-after");
    await sleep(after !== null ? Number(after) * 1000 : 50 * 2 ** attempt);
  }
  throw new Error("unreachable");
}

let task;
try {
  task = await call("POST", "/v1/videos/generations", JSON.parse(process.env.WANMOCK_REQUEST));
} catch (error) {
  if (!(error instanceof Unknown)) throw error;
  console.log(JSON.stringify({ status: "failed", error_code: "create_outcome_unknown" }));
  process.exit(0);
}
let wait = 40;
while (task.status !== "completed" && task.status !== "failed") {
  await sleep(wait);
  wait = Math.min(wait * 2, 250);
  task = await call("GET", `/v1/tasks/${task.id}`);
}
if (task.status === "completed") {
  console.log(JSON.stringify({ status: "completed", video_urls: task.results }));
} else {
  console.log(JSON.stringify({ status: "failed", error_code: task.error.code }));
}
