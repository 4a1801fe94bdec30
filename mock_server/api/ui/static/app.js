// wanmock dashboard: progressive enhancement of the server-rendered page.
// Polls /_mock/ui/state once a second with the versions it holds; the server answers
// only the sections that changed, as HTML, and rows are swapped by id and version so an
// open timeline or a playing video stays as it is. No build step, no dependencies.
"use strict";
(function () {
  const body = document.body;
  const base = body.dataset.base; // /_mock/ui
  const mock = base.replace(/\/ui$/, ""); // /_mock
  const POLL_MS = 1000;
  const TOKEN = "wanmock-control-token";
  let since = body.dataset.since || "";
  let filter = { key: body.dataset.key || "", task: body.dataset.task || "" };
  let timer = null;
  let polling = false;

  const $ = (sel) => document.querySelector(sel);
  const live = $("#live");

  function say(text) {
    live.textContent = text;
  }

  function token() {
    return sessionStorage.getItem(TOKEN);
  }

  async function api(method, path, payload) {
    const headers = {};
    if (token()) headers.Authorization = "Bearer " + token();
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(mock + path, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const data = await answer.json().catch(() => ({}));
    if (answer.status === 401 && body.dataset.needsToken) askToken("The control token was refused.");
    if (!answer.ok) {
      const message = (data.error && data.error.message) || "HTTP " + answer.status;
      throw new Error(message);
    }
    return data;
  }

  // -- live updates ------------------------------------------------------------------

  function patch(container, html) {
    const fresh = document.createElement("template");
    fresh.innerHTML = html;
    const active = document.activeElement && document.activeElement.id;
    const incoming = Array.from(fresh.content.children);
    const keyed = incoming.length > 0 && incoming.every((el) => el.id);
    if (!keyed) {
      container.replaceChildren(fresh.content);
    } else {
      const old = new Map(Array.from(container.children).filter((el) => el.id).map((el) => [el.id, el]));
      const next = incoming.map((el) => {
        const kept = old.get(el.id);
        if (kept && kept.dataset.v === el.dataset.v) return kept;
        if (kept) {
          const wasOpen = kept.querySelector("details[open]");
          const details = el.querySelector("details");
          if (wasOpen && details) {
            details.open = true;
            const timeline = wasOpen.querySelector(".timeline");
            if (timeline) details.querySelector(".timeline").replaceWith(timeline);
          }
        }
        return el;
      });
      container.replaceChildren(...next);
      for (const details of container.querySelectorAll("details[open]")) loadVideo(details);
    }
    if (active && document.activeElement === document.body) {
      // The focused control was in a row that changed: focus its new copy, or else the
      // section, so a keyboard user is never sent back to the top of the page.
      const again = document.getElementById(active);
      const section = container.closest("section");
      if (again) again.focus();
      else if (section && section.contains(container)) section.focus();
    }
  }

  function setOptions(select, values) {
    const chosen = select.value;
    const options = values.map((v) => {
      const option = document.createElement("option");
      option.value = option.textContent = v;
      return option;
    });
    if (values.length === 0) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = "(no task is running)";
      options.push(none);
    }
    select.replaceChildren(...options);
    if (values.includes(chosen)) select.value = chosen;
  }

  function apply(state) {
    const clock = state.clock;
    $("#clock-mode").textContent = clock.mode;
    $("#clock-now").textContent = state.clock_text;
    $("#clock-unix").textContent = "(" + clock.now.toFixed(1) + ")";
    $("#advance-set").disabled = !clock.can_advance;
    for (const [name, html] of Object.entries(state.html)) {
      const container = document.querySelector(`[data-section="${name}"]`);
      if (container) patch(container, html);
    }
    if (state.unfinished) setOptions($("#force-task"), state.unfinished);
    if (state.keys) {
      const list = $("#known-keys");
      list.replaceChildren(...state.keys.map((k) => Object.assign(document.createElement("option"), { value: k })));
    }
    since = Object.entries(state.v).map(([n, v]) => n + ":" + v).join(",");
    if (state.html.tasks !== undefined || state.html.journal !== undefined) {
      for (const details of document.querySelectorAll("details.more[open]")) loadTimeline(details);
    }
  }

  async function poll() {
    clearTimeout(timer);
    if (polling) return;
    polling = true;
    try {
      const query = new URLSearchParams({ since, key: filter.key, task: filter.task });
      apply(await api("GET", "/ui/state?" + query));
      if (body.dataset.live === "off") say("Live updates resumed.");
      body.dataset.live = "on";
    } catch (error) {
      body.dataset.live = "off";
      say("Live updates paused: " + error.message);
    } finally {
      polling = false;
      if (!document.hidden && !(body.dataset.needsToken && !token())) timer = setTimeout(poll, POLL_MS);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  // -- timelines and videos ----------------------------------------------------------

  function when(at) {
    return new Date(at * 1000).toISOString().slice(11, 21);
  }

  function describe(event) {
    switch (event.kind) {
      case "request":
        return `${event.method} ${event.path} → ${event.status}` + (event.notes.length ? " — " + event.notes.join("; ") : "");
      case "task":
        return `status ${event.status}` + (event.error_code ? ` (${event.error_code})` : "");
      case "ledger":
        return `ledger ${event.ledger_kind} ${event.amount}`;
      case "callback":
        return `callback attempt #${event.number}: ` + (event.status != null ? `HTTP ${event.status}` : event.error) + ` in ${event.latency_ms} ms`;
      default:
        return event.kind;
    }
  }

  async function loadTimeline(details) {
    const list = details.querySelector(".timeline");
    try {
      const data = await api("GET", "/events?task_id=" + encodeURIComponent(details.dataset.task));
      const items = data.events.map((event) => {
        const li = document.createElement("li");
        const at = document.createElement("time");
        at.textContent = when(event.at);
        const kind = document.createElement("span");
        kind.className = "kind kind-" + event.kind;
        kind.textContent = event.kind;
        li.append(at, " ", kind, " ", describe(event));
        return li;
      });
      list.replaceChildren(...items);
    } catch (error) {
      list.textContent = "Could not load the timeline: " + error.message;
    }
  }

  function loadVideo(details) {
    const video = details.querySelector("video");
    if (video && video.preload === "none") {
      video.preload = "metadata";
      video.load();
    }
  }

  document.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (details.matches && details.matches("details.more") && details.open) {
        loadVideo(details);
        loadTimeline(details);
      }
    },
    true,
  );

  // -- actions -----------------------------------------------------------------------

  async function act(label, method, path, payload) {
    try {
      await api(method, path, payload);
      say(label + ": done.");
    } catch (error) {
      say(label + " failed: " + error.message);
      return false;
    } finally {
      await poll();
    }
    return true;
  }

  function advance(seconds) {
    return act(`Advanced ${seconds} s`, "POST", "/clock/advance", { seconds: Number(seconds) });
  }

  $("#advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    advance($("#advance-seconds").value);
  });

  const examples = JSON.parse($("#examples").textContent);
  $("#scenario-example").addEventListener("change", (event) => {
    $("#scenario-rule").value = JSON.stringify(examples[Number(event.target.value)], null, 2);
  });

  $("#scenario-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    let rule;
    try {
      rule = JSON.parse($("#scenario-rule").value);
    } catch (error) {
      say("The rule is not valid JSON: " + error.message);
      return;
    }
    await act("Rule added", "POST", "/scenarios", rule);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.advance) advance(button.dataset.advance);
    else if (button.dataset.force) {
      const task = $("#force-task").value;
      if (!task) return say("Choose a running task first.");
      const kind = button.dataset.force;
      const payload = kind === "fail" ? { code: $("#force-code").value } : undefined;
      act(`${kind} ${task}`, "POST", `/tasks/${encodeURIComponent(task)}/${kind}`, payload);
    } else if (button.dataset.action === "delete-rule") {
      act(`Deleted ${button.dataset.rule}`, "DELETE", "/scenarios/" + encodeURIComponent(button.dataset.rule));
    } else if (button.dataset.action === "clear-rules") {
      act("Deleted all rules", "DELETE", "/scenarios");
    }
  });

  $("#journal-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    filter = { key: $("#filter-key").value.trim(), task: $("#filter-task").value.trim() };
    since = since.split(",").filter((part) => !part.startsWith("journal:")).join(",");
    const query = new URLSearchParams();
    if (filter.key) query.set("key", filter.key);
    if (filter.task) query.set("task", filter.task);
    history.replaceState(null, "", base + (query.toString() ? "?" + query : ""));
    say("Journal filtered.");
    poll();
  });

  // -- the control token -------------------------------------------------------------

  function askToken(message) {
    sessionStorage.removeItem(TOKEN);
    $("#token-form").hidden = false;
    say(message || "Enter the control token to load the state.");
    $("#token").focus();
  }

  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN, $("#token").value);
    $("#token-form").hidden = true;
    since = "";
    say("Loading…");
    poll();
  });

  if (body.dataset.needsToken && !token()) askToken();
  else {
    if (body.dataset.needsToken) $("#token-form").hidden = true;
    timer = setTimeout(poll, body.dataset.needsToken ? 0 : POLL_MS);
  }
})();
