/**
 * The local page: each simulated phone with its notification tray, and the trace of the latest
 * messages. It fills itself from /_local/devices, /_local/deliveries and /_local/journal, then follows
 * /_local/stream (server-sent events `delivery` and `journal`). Every delivery carries `display`
 * (local/simulators/display.ts): what that vendor's request asks the phone to show.
 */

const VENDOR_NAMES = {
  apns: "APNs",
  fcm: "FCM",
  huawei: "Huawei",
  honor: "Honor",
  xiaomi: "Xiaomi",
  oppo: "OPPO",
  vivo: "vivo",
  meizu: "Meizu",
};
/** How many messages (and other events) the trace shows. */
const MAX_TRACES = 40;

const state = {
  /** token → registered device (GET /_local/devices). */
  devices: new Map(),
  /** "userId/deviceId" → device. */
  devicesById: new Map(),
  /** "vendor token" → phone, in the order phones first received something. */
  phones: new Map(),
  /** token → [{ at, display }] of accepted deliveries, for the trace's "what was shown". */
  shownByToken: new Map(),
  /** messageKey (or an event's own key) → trace. */
  traces: new Map(),
  seen: new Set(),
  deliveries: 0,
  entries: 0,
  connection: "connecting…",
};

/** Builds an element: `h("p", { class: "x" }, "text", child)`; text is always text, never HTML. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== false)
      element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const vendorName = (vendor) => VENDOR_NAMES[vendor] ?? vendor;
const clock = (at) => new Date(at).toLocaleTimeString("en-GB", { hour12: false });

/** "bob-iphone-15" of bob → "iphone-15". */
function deviceName(device) {
  const prefix = `${device.userId}-`;
  return device.deviceId.startsWith(prefix) ? device.deviceId.slice(prefix.length) : device.deviceId;
}

function phoneLabel(phone) {
  const device = state.devices.get(phone.token);
  if (device === undefined) return `unknown device …${phone.token.slice(-6)} (${vendorName(phone.vendor)})`;
  return `${device.userId} · ${deviceName(device)} (${vendorName(phone.vendor)})`;
}

/**
 * A conversation's heading: "c2c_alice" → "alice"; a group by its name, which is the title of its
 * notifications ("Weekend hiking · group"), with its id in the tooltip.
 */
function conversationLabel(group) {
  const { thread, items } = group;
  if (thread === "") return "other";
  if (thread.startsWith("c2c_")) return thread.slice(4);
  const named = items.findLast((item) => item.display?.title)?.display.title;
  if (thread.startsWith("group_")) return named ? `${named} · group` : `group ${thread.slice(6)}`;
  return thread;
}

// ---- deliveries → phones -------------------------------------------------------------------------

/** A delivery to a token the page does not know yet: the device registered after the page loaded. */
let devicesRefreshing = false;
function refreshDevicesSoon() {
  if (devicesRefreshing) return;
  devicesRefreshing = true;
  setTimeout(async () => {
    try {
      setDevices(await getJson("/_local/devices"));
    } catch (error) {
      showError(error);
    } finally {
      devicesRefreshing = false;
    }
  }, 200);
}

function setDevices(devices) {
  state.devices.clear();
  state.devicesById.clear();
  for (const device of devices) {
    state.devices.set(device.token, device);
    // A phone's PushKit token shares its deviceId with its alert token: the id names the alert one.
    const id = `${device.userId}/${device.deviceId}`;
    if (device.pushType !== "voip" || !state.devicesById.has(id)) state.devicesById.set(id, device);
  }
  for (const phone of state.phones.values()) phone.dirty = true;
  state.tracesDirty = true;
  render();
}

function addDelivery(delivery) {
  const id = `d ${delivery.vendor} ${delivery.token} ${delivery.at} ${delivery.status}`;
  if (state.seen.has(id)) return;
  state.seen.add(id);
  state.deliveries += 1;
  if (!state.devices.has(delivery.token)) refreshDevicesSoon();

  const token = phoneToken(delivery);
  const key = `${delivery.vendor} ${token}`;
  let phone = state.phones.get(key);
  if (phone === undefined) {
    phone = { vendor: delivery.vendor, token, items: [], refused: 0, dirty: true };
    state.phones.set(key, phone);
  }
  phone.dirty = true;
  if (delivery.status < 200 || delivery.status >= 300 || delivery.fault !== undefined) {
    // The vendor refused it (some refuse with a code inside an HTTP 200: `fault` says so): nothing
    // reaches the phone (the trace says what chatpush did about it).
    phone.refused += 1;
    phone.lastRefusal =
      delivery.fault?.reason !== undefined ? `code ${delivery.fault.reason}` : `HTTP ${delivery.status}`;
    render();
    return;
  }
  const display = delivery.display;
  if (display !== undefined) {
    const shown = state.shownByToken.get(delivery.token) ?? [];
    shown.push({ at: delivery.at, display });
    state.shownByToken.set(delivery.token, shown);
    state.tracesDirty = true;
  }
  const replaced =
    display?.replaceKey === undefined
      ? undefined
      : phone.items.find((item) => item.display?.replaceKey === display.replaceKey);
  if (replaced !== undefined) {
    // Same replacement key: the phone shows the newer one where the older one was.
    replaced.previous = replaced.display;
    replaced.display = display;
    replaced.replacedAt = delivery.at;
  } else {
    phone.items.push({ at: delivery.at, display });
  }
  if (display?.kind !== "data" && display?.badge !== undefined) phone.badge = display.badge;
  else if (display?.badgeAdd !== undefined) phone.badge = (phone.badge ?? 0) + display.badgeAdd;
  render();
}

/**
 * The token a delivery's phone is known by: a PushKit (VoIP) token's phone is the one of the alert token
 * registered under the same deviceId, so a call's ring and its "Missed call" share one tray.
 */
function phoneToken(delivery) {
  const device = state.devices.get(delivery.token);
  if (device?.pushType !== "voip") return delivery.token;
  const alert = state.devicesById.get(`${device.userId}/${device.deviceId}`);
  return alert !== undefined && alert.pushType !== "voip" && alert.vendor === device.vendor
    ? alert.token
    : delivery.token;
}

/** Every token registered under a user's deviceId (its alert and its PushKit token). */
function tokensOf(userId, deviceId) {
  return [...state.devices.values()]
    .filter((d) => d.userId === userId && d.deviceId === deviceId)
    .map((d) => d.token);
}

function renderPhone(phone) {
  const label = phoneLabel(phone);
  const device = state.devices.get(phone.token);
  const groups = new Map();
  for (const item of phone.items) {
    const thread = item.display?.thread ?? "";
    const group = groups.get(thread) ?? { thread, items: [], latest: item.at };
    group.items.push(item);
    if (item.at > group.latest) group.latest = item.at;
    groups.set(thread, group);
  }
  // Newest conversation first, newest notification first within it, as a tray shows them.
  const ordered = [...groups.values()].sort((a, b) => (a.latest < b.latest ? 1 : -1));
  const meta = [
    vendorName(phone.vendor),
    device?.platform,
    device?.pushType === "voip" ? "PushKit" : undefined,
  ]
    .filter(Boolean)
    .join(" · ");
  const parts = [
    h(
      "header",
      { class: "phone-head" },
      h("h3", {}, label.replace(/ \([^)]*\)$/, "")),
      h("p", { class: "phone-meta" }, meta),
      phone.badge === undefined
        ? undefined
        : h(
            "span",
            { class: "app-badge", title: "app icon badge", "aria-label": `badge ${phone.badge}` },
            phone.badge,
          ),
    ),
    h(
      "ol",
      { class: "tray", "aria-label": `notification tray of ${label}` },
      ordered.map((group) =>
        h(
          "li",
          { class: "conversation", "data-thread": group.thread },
          h(
            "h4",
            { title: group.thread },
            conversationLabel(group),
            group.items.length > 1 ? ` · ${group.items.length}` : "",
          ),
          h(
            "ul",
            {},
            [...group.items].reverse().map((item) => renderNotification(item)),
          ),
        ),
      ),
    ),
    phone.refused > 0
      ? h(
          "p",
          { class: "refused" },
          `${phone.refused} request${phone.refused > 1 ? "s" : ""} refused by ${vendorName(phone.vendor)} (last ${phone.lastRefusal})`,
        )
      : undefined,
  ];
  return parts.filter(Boolean);
}

function renderNotification(item) {
  const display = item.display;
  if (display === undefined) {
    return h(
      "li",
      { class: "note kind-unknown" },
      h("p", { class: "note-body" }, "a request with nothing to show"),
    );
  }
  const tags = [
    display.kind === "voip" ? h("span", { class: "tag tag-voip" }, "📞 call push") : undefined,
    display.kind === "data" ? h("span", { class: "tag tag-data" }, "data message, for the app") : undefined,
    display.silent ? h("span", { class: "tag tag-silent" }, "silent") : undefined,
    item.previous !== undefined
      ? h(
          "span",
          { class: "tag tag-replaced", title: `replaced: ${item.previous.title} — ${item.previous.body}` },
          "replaced",
        )
      : undefined,
  ];
  return h(
    "li",
    {
      class: `note kind-${display.kind}${item.previous !== undefined ? " replaced" : ""}${display.silent ? " silent" : ""}`,
      "data-replace-key": display.replaceKey,
    },
    h(
      "p",
      { class: "note-head" },
      h("span", { class: "note-title" }, display.title || "(no title)"),
      h("time", { datetime: item.replacedAt ?? item.at }, clock(item.replacedAt ?? item.at)),
    ),
    display.subtitle ? h("p", { class: "note-subtitle" }, display.subtitle) : undefined,
    h("p", { class: "note-body" }, display.body),
    tags.some(Boolean) || display.badge !== undefined || display.badgeAdd !== undefined
      ? h(
          "p",
          { class: "tags" },
          tags,
          display.badge !== undefined ? h("span", { class: "tag" }, `badge ${display.badge}`) : undefined,
          display.badgeAdd !== undefined
            ? h("span", { class: "tag" }, `badge +${display.badgeAdd}`)
            : undefined,
        )
      : undefined,
  );
}

// ---- journal → trace -----------------------------------------------------------------------------

function addJournal(entry) {
  const id = `j ${entry.at} ${entry.stage} ${entry.messageKey} ${entry.userId} ${entry.deviceId} ${entry.reason} ${entry.status} ${entry.attempt}`;
  if (state.seen.has(id)) return;
  state.seen.add(id);
  state.entries += 1;
  state.tracesDirty = true;
  if (entry.messageKey === undefined) {
    state.traces.set(id, { event: entry, firstAt: entry.at });
  } else {
    let trace = state.traces.get(entry.messageKey);
    if (trace === undefined) {
      trace = { messageKey: entry.messageKey, firstAt: entry.at, rows: new Map() };
      state.traces.set(entry.messageKey, trace);
    }
    const who = [entry.userId, entry.deviceId].filter(Boolean).join("/") || "everyone";
    const row = trace.rows.get(who) ?? { who, userId: entry.userId, deviceId: entry.deviceId, steps: [] };
    row.vendor ??= entry.vendor;
    row.steps.push(entry);
    trace.rows.set(who, row);
  }
  render();
}

/** What the phones showed for a message: the notification a delivered device received just before. */
function shownFor(trace) {
  for (const row of trace.rows.values()) {
    const delivered = row.steps.find((step) => step.stage === "delivered");
    const shown =
      delivered &&
      tokensOf(row.userId, row.deviceId)
        .flatMap((token) => state.shownByToken.get(token) ?? [])
        .sort((a, b) => (a.at < b.at ? -1 : 1));
    const match = shown?.findLast((s) => s.at <= delivered.at);
    if (match !== undefined) return match.display;
  }
  return undefined;
}

function messageLabel(messageKey) {
  const recall = messageKey.endsWith(":recall");
  const key = recall ? messageKey.slice(0, -":recall".length) : messageKey;
  return recall ? ["recall of ", h("code", {}, key)] : ["message ", h("code", {}, key)];
}

function stepText(step) {
  const parts = [step.stage];
  if (step.status !== undefined) parts.push(`HTTP ${step.status}`);
  if (step.attempt !== undefined) parts.push(`attempt ${step.attempt}`);
  return parts.join(" · ");
}

function renderTrace(trace) {
  if (trace.event !== undefined) {
    const e = trace.event;
    return h(
      "li",
      { class: `trace-event stage-${e.stage}` },
      h("time", { datetime: e.at }, clock(e.at)),
      " ",
      h("span", { class: "stage" }, e.stage),
      " ",
      [e.userId, e.deviceId].filter(Boolean).join("/"),
      e.reason ? h("span", { class: "reason" }, ` ${e.reason}`) : undefined,
    );
  }
  const shown = shownFor(trace);
  const rows = [...trace.rows.values()];
  const count = (stage) => rows.filter((row) => row.steps.some((s) => s.stage === stage)).length;
  const summary = [
    [count("delivered"), "delivered"],
    [count("skipped"), "skipped"],
    [count("retrying"), "retrying"],
    [count("dead-lettered"), "dead-lettered"],
    [count("token-removed"), "token removed"],
  ]
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(", ");
  return h(
    "li",
    { class: "trace-message", "data-message-key": trace.messageKey },
    h(
      "article",
      { "aria-label": `trace of ${trace.messageKey}` },
      h(
        "header",
        {},
        h("h3", {}, messageLabel(trace.messageKey)),
        h("time", { datetime: trace.firstAt }, clock(trace.firstAt)),
      ),
      shown
        ? h("p", { class: "trace-shown" }, h("strong", {}, shown.title), shown.title ? ": " : "", shown.body)
        : undefined,
      summary ? h("p", { class: "trace-summary" }, summary) : undefined,
      h(
        "ul",
        { class: "rows" },
        rows.map((row) =>
          h(
            "li",
            { class: "row", "data-who": row.who },
            h("span", { class: "who" }, row.who),
            row.vendor ? h("span", { class: "vendor" }, vendorName(row.vendor)) : undefined,
            h(
              "ol",
              { class: "steps", "aria-label": `what happened for ${row.who}` },
              row.steps.map((step) =>
                h(
                  "li",
                  { class: `step stage-${step.stage}` },
                  h("span", { class: "stage" }, stepText(step)),
                  step.reason ? h("span", { class: "reason" }, step.reason) : undefined,
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

// ---- rendering -----------------------------------------------------------------------------------

/** Everything that changed is drawn once per frame, however many events arrived in it. */
let drawing = false;
function render() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => {
    drawing = false;
    draw();
  });
}

function draw() {
  const grid = document.getElementById("phones");
  for (const phone of state.phones.values()) {
    if (!phone.dirty) continue;
    phone.dirty = false;
    if (phone.element === undefined) {
      phone.element = h("article", { class: `phone vendor-${phone.vendor}` });
      grid.append(phone.element);
    }
    phone.element.setAttribute("aria-label", phoneLabel(phone));
    phone.element.replaceChildren(...renderPhone(phone));
  }
  document.getElementById("no-phones").hidden = state.phones.size > 0;

  if (state.tracesDirty) {
    state.tracesDirty = false;
    const latest = [...state.traces.values()]
      .sort((a, b) => (a.firstAt < b.firstAt ? 1 : a.firstAt > b.firstAt ? -1 : 0))
      .slice(0, MAX_TRACES);
    document.getElementById("trace").replaceChildren(...latest.map(renderTrace));
    document.getElementById("no-trace").hidden = state.traces.size > 0;
  }
  document.getElementById("status").textContent =
    `${state.connection} · ${state.phones.size} phones · ${state.deliveries} deliveries · ${state.entries} journal entries`;
}

// ---- loading and following -----------------------------------------------------------------------

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

let ready = false;
const pending = [];
const whenReady = (apply) => (ready ? apply() : pending.push(apply));

async function load() {
  const [devices, deliveries, journal] = await Promise.all([
    getJson("/_local/devices"),
    getJson("/_local/deliveries"),
    getJson("/_local/journal"),
  ]);
  setDevices(devices);
  for (const delivery of deliveries) addDelivery(delivery);
  for (const entry of journal) addJournal(entry);
  ready = true;
  // Events that arrived while loading: the ones already in the lists are recognised and skipped.
  for (const apply of pending.splice(0)) apply();
  render();
}

function follow() {
  const stream = new EventSource("/_local/stream");
  let lost = false;
  stream.addEventListener("delivery", (event) => whenReady(() => addDelivery(JSON.parse(event.data))));
  stream.addEventListener("journal", (event) => whenReady(() => addJournal(JSON.parse(event.data))));
  stream.addEventListener("open", () => {
    state.connection = "live";
    // After a lost connection, what happened meanwhile is in the lists (seen entries are skipped).
    if (lost) load().catch(showError);
    lost = false;
    render();
  });
  stream.addEventListener("error", () => {
    lost = true;
    state.connection = "reconnecting…";
    render();
  });
}

function showError(error) {
  state.connection = `error: ${error instanceof Error ? error.message : error}`;
  render();
}

follow();
load().catch(showError);
