// The inspector page: plain DOM, text nodes only. Every value shown comes from DingTalk or from
// whoever can push, so none is ever parsed as HTML: the server's policy enforces Trusted Types,
// under which assigning a string to any HTML sink throws.
'use strict';

const SOURCES = ['push', 'recovered', 'stream', 'sync'];
const $ = (id) => document.getElementById(id);

// Characters that are invisible or reorder what is shown around them (C0 and C1 controls, DEL,
// zero-width and direction marks, the line and paragraph separators, bidirectional overrides and
// isolates, the byte-order mark): each is shown as its JSON escape, as the CLI shows them on a
// terminal (core/terminal-safe.ts), so a payload cannot hide or disguise what it holds.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** `text` with every hidden character escaped, but those in `keep` (such as a line break). */
function visible(text, keep = '') {
  return String(text).replace(HIDDEN, (char) => (keep.includes(char) ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** An element with text children (strings become text nodes, hidden characters escaped) and a class. */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children.filter((child) => child !== undefined && child !== null).map((child) => (typeof child === 'string' ? visible(child) : child)));
  return node;
}

/** The API's JSON answer; a refusal or failure throws its message. */
async function api(path, init) {
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

const list = { cursor: undefined, ids: new Set(), query: new URLSearchParams() };
let selected;

/** The filters as API parameters; a time typed as UTC becomes ISO-8601. */
function filterQuery() {
  const form = new FormData($('filters'));
  const query = new URLSearchParams();
  for (const name of ['type', 'source', 'instance']) {
    const value = String(form.get(name) || '').trim();
    if (value) query.set(name, value);
  }
  for (const name of ['since', 'until']) {
    const value = String(form.get(name) || '');
    if (value) query.set(name, `${value.length === 16 ? `${value}:00` : value}.000Z`);
  }
  return query;
}

function timeText(iso) {
  return iso.replace('T', ' ').replace('Z', '');
}

function row(event) {
  const badge = el('span', 'badge', event.source);
  if (SOURCES.includes(event.source)) badge.classList.add(`source-${event.source}`);
  const id = el('td', 'id', event.id);
  id.title = visible(event.id);
  const tr = el('tr', undefined, el('td', 'time', timeText(event.receivedAt)), el('td', 'type', event.eventType), el('td', undefined, badge), id, el('td', 'corp', event.corpId ?? ''), el('td', 'instance', event.processInstanceId ?? ''));
  tr.dataset.id = event.id;
  tr.tabIndex = 0;
  if (event.id === selected) tr.classList.add('selected');
  return tr;
}

async function loadList(more) {
  $('list-error').textContent = '';
  const query = new URLSearchParams(list.query);
  if (more && list.cursor) query.set('cursor', list.cursor);
  try {
    const page = await api(`/api/events?${query}`);
    const body = $('events');
    if (!more) {
      body.replaceChildren();
      list.ids.clear();
    }
    for (const event of page.events) {
      list.ids.add(event.id);
      body.append(row(event));
    }
    list.cursor = page.cursor;
    $('more').hidden = !page.cursor;
    $('empty').hidden = body.children.length > 0;
  } catch (error) {
    $('list-error').textContent = error.message;
  }
}

/**
 * The newest page again, its events not shown yet put on top: how new events appear. When none of
 * it is shown yet and more follow it, more arrived than a page holds: the list starts over from it,
 * rather than leave a gap between it and what was shown.
 */
async function loadNewest() {
  try {
    const page = await api(`/api/events?${list.query}`);
    const body = $('events');
    const fresh = page.events.filter((event) => !list.ids.has(event.id));
    if (page.cursor && fresh.length === page.events.length) {
      body.replaceChildren(...page.events.map(row));
      list.ids = new Set(page.events.map((event) => event.id));
      list.cursor = page.cursor;
      $('more').hidden = false;
      $('empty').hidden = true;
      return;
    }
    for (const event of fresh.reverse()) {
      list.ids.add(event.id);
      const tr = row(event);
      tr.classList.add('new');
      body.prepend(tr);
    }
    if (list.ids.size > 0) $('empty').hidden = true;
  } catch (error) {
    $('list-error').textContent = error.message;
  }
}

const STATES = {
  pending: () => 'Pending: stored, not yet taken by the forward function.',
  delivered: (d) => `Delivered ${d.by === 'redeliver' ? 'again from this page' : 'by the forward function'} at ${timeText(d.at)}${d.attempts ? ` (${d.attempts} attempt${d.attempts === 1 ? '' : 's'})` : ''}.`,
  dead_lettered: (d) => `Dead-lettered at ${timeText(d.at)} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} to ${d.sink}: ${d.lastError}.`,
  failed: (d) => `Failed: ${d.lastError}.`,
};

function showDelivery(delivery) {
  const describe = STATES[delivery.state];
  $('delivery').textContent = describe ? describe(delivery) : `${delivery.state.replace('_', ' ')}: ${delivery.reason}`;
  $('delivery').dataset.state = delivery.state;
}

async function open(id) {
  selected = id;
  for (const tr of $('events').children) tr.classList.toggle('selected', tr.dataset.id === id);
  $('action-result').textContent = '';
  try {
    const { record, payload, pretty, delivery } = await api(`/api/events/${encodeURIComponent(id)}`);
    if (selected !== id) return;
    $('detail-type').textContent = visible(record.eventType);
    $('fields').replaceChildren(
      ...Object.entries(record).flatMap(([name, value]) => {
        const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
        const shown = name === 'eventTime' ? `${text} (${new Date(Number(value)).toISOString()})` : text;
        return [el('dt', undefined, name), el('dd', undefined, shown)];
      }),
    );
    showDelivery(delivery);
    $('payload').textContent = visible(pretty ?? payload, '\n');
    $('detail').hidden = false;
    history.replaceState(null, '', `#event=${encodeURIComponent(id)}`);
  } catch (error) {
    // Beside the open event; with none open (a stale link), where the list's errors are.
    $($('detail').hidden ? 'list-error' : 'action-result').textContent = error.message;
  }
}

async function refreshDelivery(id) {
  if (id !== selected) return;
  try {
    const { delivery } = await api(`/api/events/${encodeURIComponent(id)}`);
    if (id === selected) showDelivery(delivery);
  } catch {
    // the next change tries again
  }
}

function post(path, body) {
  return api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
}

const number = new Intl.NumberFormat('en');

/** This month's pushes against DingTalk's quota (contact events do not count). */
async function loadUsage() {
  try {
    const usage = await api('/api/usage');
    const free = usage.exempt === 0 ? '' : `, ${number.format(usage.exempt)} contact event${usage.exempt === 1 ? '' : 's'} free`;
    $('usage').textContent = `${usage.month}: ${number.format(usage.counted)} of ${number.format(usage.quota)} pushes counted${free}`;
    $('usage').title = usage.reached ? 'The quota is spent: DingTalk sends no more pushes this month.' : usage.reachesQuotaOn ? `At this month's rate the quota is spent on ${usage.reachesQuotaOn}.` : 'At this rate the quota lasts the month.';
    $('usage').classList.toggle('error', usage.reached);
    $('usage').hidden = false;
  } catch {
    // the next stored event tries again
  }
}

async function start() {
  const status = await api('/api/status').catch(() => ({ forwarding: [], sampleTypes: [] }));
  $('forwarding').textContent = status.forwarding.length > 0 ? `Forwarding to ${status.forwarding.join(' and ')}` : 'Forwarding off (set DINGTALK_FORWARD_URL)';
  $('redeliver').disabled = status.forwarding.length === 0;
  $('sample-type').append(...status.sampleTypes.map((type) => el('option', undefined, type)));
  $('types').append(...status.sampleTypes.map((type) => el('option', undefined, type)));

  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    list.query = filterQuery();
    void loadList(false);
  });
  $('filters').addEventListener('reset', () => {
    list.query = new URLSearchParams();
    setTimeout(() => loadList(false));
  });
  $('more').addEventListener('click', () => loadList(true));
  $('events').addEventListener('click', (event) => {
    const tr = event.target.closest('tr');
    if (tr) void open(tr.dataset.id);
  });
  $('events').addEventListener('keydown', (event) => {
    const tr = event.target.closest('tr');
    if (tr && event.key === 'Enter') void open(tr.dataset.id);
  });
  $('copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(selected);
      $('action-result').textContent = 'Copied.';
    } catch {
      $('action-result').textContent = 'The browser refused the clipboard: select the id under Record.';
    }
  });
  $('redeliver').addEventListener('click', async () => {
    const id = selected;
    $('redeliver').disabled = true;
    $('action-result').textContent = 'Re-delivering…';
    try {
      const { delivery } = await post(`/api/events/${encodeURIComponent(id)}/redeliver`);
      if (id === selected) showDelivery(delivery);
      $('action-result').textContent = delivery.state === 'delivered' ? 'Re-delivered.' : 'Not delivered: see below.';
    } catch (error) {
      $('action-result').textContent = error.message;
    } finally {
      $('redeliver').disabled = false;
    }
  });
  $('sample').addEventListener('submit', async (event) => {
    event.preventDefault();
    const type = $('sample-type').value;
    $('sample-result').textContent = `Sending ${type}…`;
    try {
      const result = await post('/api/samples', { type });
      $('sample-result').textContent = `Sent ${type}: stored${result.rows ? ` as ${result.rows.length} rows` : ''}.`;
    } catch (error) {
      $('sample-result').textContent = error.message;
    }
  });

  let pending;
  let usageDue;
  let usageAt = Date.now();
  const stream = new EventSource('/api/stream');
  stream.addEventListener('open', () => {
    $('live').textContent = 'live';
    $('live').classList.add('on');
  });
  stream.addEventListener('error', () => {
    $('live').textContent = 'reconnecting…';
    $('live').classList.remove('on');
  });
  stream.addEventListener('stored', () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      void loadNewest();
    }, 150);
    // The month is read whole: at most once in five seconds.
    usageDue ??= setTimeout(() => {
      usageDue = undefined;
      usageAt = Date.now();
      void loadUsage();
    }, Math.max(0, usageAt + 5000 - Date.now()));
  });
  stream.addEventListener('delivery', (event) => void refreshDelivery(JSON.parse(event.data).id));

  await loadList(false);
  void loadUsage();
  const linked = /^#event=(.+)$/.exec(location.hash);
  if (linked) {
    let id;
    try {
      id = decodeURIComponent(linked[1]);
    } catch {
      $('list-error').textContent = 'The address names no event: its #event= part is not percent-encoded. Pick one from the list.';
    }
    if (id !== undefined) void open(id);
  }
}

void start();
