import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { deliver } from '../../cli/deliver';
import { samplePayload } from '../../cli/event-payloads';
import { sendMany } from '../../cli/send-many';
import { loadSettings } from '../../core/settings';
import { DEV_CREDENTIALS, DEV_FORWARD_SECRET } from '../../providers/local/dev-credentials';
import { startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { startWebhookReceiver, type WebhookReceiver } from '../../testkit/webhook-receiver';

/**
 * The inspector page in a real browser (Debian's Chromium, headless, over the DevTools protocol)
 * against a real `npm start` forwarding to a real webhook receiver: `npm run test:browser`, not
 * part of `npm test`. With INSPECTOR_SCREENSHOTS=1 it also writes docs/inspector-list.png and
 * docs/inspector-event.png.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..');
const DEV = loadSettings(DEV_CREDENTIALS);
const OWNER = DEV_CREDENTIALS.DINGTALK_OWNER_KEY;
const BIG = '12345678901234567890123';
const SCRIPT = '<script>window.__pwned = "script"</script>';
const IMG = '<img src=x onerror="window.__pwned = \'img\'">';

/** A title with markup, and a right-to-left override that would show `exe.png` as `gnp.exe`. */
const TITLE = `张三提交的请假申请 ${SCRIPT} \u202Egnp.exe`;
/** An approval whose payload holds a big integer, Chinese and markup that must stay text. */
const HOSTILE = `{"EventType":"bpms_instance_change","processInstanceId":"proc-${Date.now()}","corpId":"${OWNER}","createTime":1796149146647,"amount":${BIG},"title":${JSON.stringify(TITLE)},"remark":${JSON.stringify(IMG)}}`;
/** An event whose very type is markup: it shows in the list's type column and the detail's heading. */
const HOSTILE_TYPE = `{"EventType":${JSON.stringify(`${IMG}${SCRIPT}`)},"CorpId":"${OWNER}","TimeStamp":"1796149146000"}`;

async function push(stack: LocalStack, message: string): Promise<string> {
  const delivery = await deliver({ url: stack.pushUrl, settings: DEV, ownerKey: OWNER }, message);
  expect(delivery.ok, delivery.problem).to.equal(true);
  return delivery.id!;
}

/** The ids of the list's rows, top to bottom. */
const rows = (page: Page) => page.$$eval('#events tr', (trs) => trs.map((tr) => tr.getAttribute('data-id')!));

/** With INSPECTOR_SCREENSHOTS set, the page down to the end of its content, into docs/ (a CJK font, such as Debian's fonts-wqy-microhei, shows the Chinese). */
async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.INSPECTOR_SCREENSHOTS) return;
  const main = (await page.locator('main').boundingBox())!;
  await page.screenshot({ path: join(ROOT, 'docs', name), clip: { x: 0, y: 0, width: 1280, height: Math.ceil(main.y + main.height) } });
}

/** The page's globals, as the functions below use them in the page (this file is type-checked without the DOM). */
declare const document: { querySelectorAll(selector: string): ArrayLike<{ dataset: Record<string, string> }>; querySelector(selector: string): { textContent: string } | null };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare const window: Record<string, unknown>;

/** Waits until the list has `count` rows. */
const rowCount = (page: Page, count: number) => page.waitForFunction((wanted) => document.querySelectorAll('#events tr').length === wanted, count);
/** Waits until the text of `selector` matches `pattern` (a regular expression's source). */
const textMatches = (page: Page, selector: string, pattern: string) =>
  page.waitForFunction(([where, source]) => new RegExp(source!).test(document.querySelector(where!)?.textContent ?? ''), [selector, pattern]);
const exactly = (text: string) => `^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

describe('the inspector page in headless Chromium, over npm start', function () {
  this.timeout(180_000);
  let dataDir: string;
  let profile: string;
  let stack: LocalStack | undefined;
  let receiver: WebhookReceiver;
  let context: BrowserContext | undefined;
  let page: Page;
  const problems: string[] = [];
  const firstView: string[] = [];

  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'inspector-browser-'));
    profile = await mkdtemp(join(tmpdir(), 'inspector-chromium-'));
    receiver = await startWebhookReceiver(DEV_FORWARD_SECRET);
    stack = await startLocalStack(dataDir, { DINGTALK_FORWARD_URL: receiver.url });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 760 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Anything that would show a payload ran: a dialog, a script error, a policy violation.
    page.on('dialog', (dialog) => void problems.push(`dialog: ${dialog.message()}`));
    page.on('pageerror', (error) => void problems.push(`page error: ${error.message}`));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    page.on('request', (request) => void firstView.push(`${request.method()} ${new URL(request.url()).pathname}`));
  });
  after(async function () {
    await context?.close();
    await stack?.stop();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  });

  it('opens with its three files and three API calls, then shows pushed events as they are stored, without a reload', async function () {
    await page.goto(stack!.inspectorUrl);
    await page.waitForSelector('#live.on');
    // The usage comes last: once it shows, the first view is complete.
    await textMatches(page, '#usage', '^\\d{4}-\\d{2}: 0 of 3,000 pushes counted$');
    expect(firstView.slice(0, 3)).to.deep.equal(['GET /', 'GET /style.css', 'GET /app.js']);
    expect(firstView.slice(3)).to.have.members(['GET /api/status', 'GET /api/stream', 'GET /api/events', 'GET /api/usage']);
    expect(await page.textContent('#forwarding')).to.equal('Forwarding to webhook');
    await page.waitForSelector('#empty:not([hidden])');

    const hostile = await push(stack!, HOSTILE);
    const hostileType = await push(stack!, HOSTILE_TYPE);
    await page.waitForFunction((ids) => ids.every((id) => Array.from(document.querySelectorAll('#events tr')).some((tr) => tr.dataset.id === id)), [hostile, hostileType]);
    // A sample push from the page itself: a user_add_org built and sealed as send does.
    await page.selectOption('#sample-type', 'user_add_org');
    await page.click('#sample button');
    await textMatches(page, '#sample-result', '^Sent user_add_org');
    await rowCount(page, 3);
    const listed = await rows(page);
    expect(listed.slice(1)).to.deep.equal([hostileType, hostile]);
    expect(await page.textContent('#events tr:first-child .type')).to.equal('user_add_org');
    expect(await page.textContent(`#events tr:nth-child(2) .type`)).to.equal(`${IMG}${SCRIPT}`);
    // The approval and the unknown type count against the quota; user_add_org, a contact event, does not.
    await textMatches(page, '#usage', '^\\d{4}-\\d{2}: 2 of 3,000 pushes counted, 1 contact event free$');
    expect(await page.$$eval('#events .badge', (badges) => badges.map((badge) => [badge.textContent, badge.className]))).to.deep.equal(Array(3).fill(['push', 'badge source-push']));
    await screenshot(page, 'inspector-list.png');
  });

  it('filters by type, source and instance, and clears the filters', async function () {
    await page.fill('input[name=type]', 'user_add_org');
    await page.click('#filters button[type=submit]');
    await rowCount(page, 1);
    expect(await page.textContent('#events tr .type')).to.equal('user_add_org');

    await page.fill('input[name=type]', '');
    await page.selectOption('select[name=source]', 'stream');
    await page.click('#filters button[type=submit]');
    await page.waitForSelector('#empty:not([hidden])');
    expect(await rows(page)).to.deep.equal([]);

    const instance = JSON.parse(HOSTILE).processInstanceId as string;
    await page.selectOption('select[name=source]', 'push');
    await page.fill('input[name=instance]', instance);
    await page.click('#filters button[type=submit]');
    await rowCount(page, 1);
    expect(await page.textContent('#events tr .instance')).to.equal(instance);

    await page.fill('input[name=since]', '2000-01-01T00:00:00');
    await page.fill('input[name=until]', '2000-01-02T00:00:00');
    await page.click('#filters button[type=submit]');
    await page.waitForSelector('#empty:not([hidden])');

    await page.click('#filters button[type=reset]');
    await rowCount(page, 3);
  });

  it('opens one event: the payload pretty-printed with the big integer exact, the Chinese intact, the markup as text that never runs, a direction override escaped', async function () {
    const id = (await rows(page))[2]!;
    await page.click('#events tr:nth-child(3)');
    await page.waitForSelector('#detail:not([hidden])');
    await textMatches(page, '#payload', '.');
    const payload = (await page.textContent('#payload'))!;
    expect(payload).to.include(`"amount": ${BIG},`);
    // The override shown as its escape, as the CLI shows it: it reorders nothing.
    expect(payload).to.include(`"title": ${JSON.stringify(TITLE).replace('\u202E', '\\u202e')}`);
    expect(payload).to.not.include('\u202E');
    expect(payload).to.include(`"remark": ${JSON.stringify(IMG)}`);
    expect(payload.split('\n')).to.have.length(9);
    const fields = await page.$$eval('#fields dt, #fields dd', (cells) => cells.map((cell) => cell.textContent));
    expect(fields.slice(0, 2)).to.deep.equal(['id', id]);
    expect(fields).to.include.members(['eventType', 'bpms_instance_change', 'source', 'push', 'ownerKey', OWNER]);

    // The type that is markup, opened too: its heading is text.
    await page.click('#events tr:nth-child(2)');
    await textMatches(page, '#detail-type', exactly(IMG + SCRIPT));

    // Nothing of it became an element, nothing ran.
    expect(await page.$$eval('img', (images) => images.length)).to.equal(0);
    expect(await page.$$eval('script', (scripts) => scripts.map((script) => script.getAttribute('src')))).to.deep.equal(['/app.js']);
    expect(await page.evaluate(() => typeof window.__pwned)).to.equal('undefined');
    expect(problems).to.deep.equal([]);
  });

  it('copies the id, re-delivers the event, signed, to the webhook receiver, showing the outcome, and names the open event in the address', async function () {
    await page.click('#events tr:nth-child(3)');
    const id = (await rows(page))[2]!;
    await textMatches(page, '#fields dd', exactly(id));
    await page.click('#copy');
    await textMatches(page, '#action-result', '^Copied\\.$');
    expect(await page.evaluate(() => navigator.clipboard.readText())).to.equal(id);

    // The forward function delivered each stored event once already; the page hears it.
    await receiver.accepted(3);
    await textMatches(page, '#delivery', '^Delivered by the forward function');
    const before = receiver.deliveries.length;
    await page.click('#redeliver');
    await textMatches(page, '#action-result', '^Re-delivered\\.$');
    expect(await page.textContent('#delivery')).to.match(/^Delivered again from this page at .+ \(1 attempt\)\.$/);
    const again = receiver.deliveries.slice(before);
    expect(again).to.have.length(1);
    expect(again[0]!.body.data.id).to.equal(id);
    expect(again[0]!.text).to.match(new RegExp(`"amount": ?${BIG}[,}]`));
    // The same webhook-id as the first delivery: a consumer that deduplicates takes it once.
    expect(receiver.deliveries.filter((delivery) => delivery.body.data.id === id).map((delivery) => delivery.id)).to.satisfy((ids: string[]) => ids.length === 2 && ids[0] === ids[1]);
    expect(receiver.rejected).to.deep.equal([]);
    await screenshot(page, 'inspector-event.png');

    // The address names the open event: loaded again, the page opens it again.
    await page.reload();
    await textMatches(page, '#fields dd', exactly(id));
    expect(problems).to.deep.equal([]);

    // An address naming no event (a stale link, or one mangled by hand) says so, and breaks nothing.
    for (const [hash, words] of [
      ['#event=no-such-event', '^no event with id "no-such-event"'],
      ['#event=%ff', '^The address names no event: its #event= part is not percent-encoded'],
    ] as const) {
      await page.goto('about:blank');
      await page.goto(`${stack!.inspectorUrl}${hash}`);
      await textMatches(page, '#list-error', words);
      expect(await page.isHidden('#detail')).to.equal(true);
    }
    // The 404 of the stale link is the browser's own console line; nothing else went wrong.
    expect(problems.filter((problem) => !problem.includes('404'))).to.deep.equal([]);
    problems.length = 0;
    await page.goto(stack!.inspectorUrl);
    await page.waitForSelector('#events tr');
  });

  it('keeps up with a burst of more events than a page holds, none missing, and pages by the store cursor ("Older events")', async function () {
    const before = new Set(await rows(page));
    const burst = await sendMany({ url: stack!.pushUrl, settings: DEV, ownerKey: OWNER }, { count: 55, concurrency: 8, message: () => JSON.stringify(samplePayload('bpms_task_change', OWNER)) });
    expect(burst.ok).to.equal(55);
    const newest = (await (await fetch(`${stack!.inspectorUrl}api/events?limit=50`)).json()) as { events: Array<{ id: string }> };
    // The list shows the newest page, whatever the order the burst's refreshes came in.
    await page.waitForFunction((ids) => ids.every((id) => Array.from(document.querySelectorAll('#events tr')).some((tr) => tr.dataset.id === id)), newest.events.map((event) => event.id));
    // However the refreshes fell, a fresh listing shows the newest page, then the rest after the cursor.
    await page.click('#filters button[type=submit]');
    await rowCount(page, 50);
    await page.click('#more');
    await rowCount(page, 58);
    const shown = await rows(page);
    expect(new Set(shown).size).to.equal(58);
    expect(shown.filter((id) => before.has(id))).to.have.length(3);
    expect(await page.isHidden('#more')).to.equal(true);
  });

  it('shows the newest page, with "Older events" after it, when more events than a page holds came between two refreshes', async function () {
    // The page's timers held: the refresh each stored event asks for waits until the clock moves.
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 60_000);
    const burst = await sendMany({ url: stack!.pushUrl, settings: DEV, ownerKey: OWNER }, { count: 60, concurrency: 8, message: () => JSON.stringify(samplePayload('user_modify_org', OWNER)) });
    expect(burst.ok).to.equal(60);
    const newest = (await (await fetch(`${stack!.inspectorUrl}api/events?limit=50`)).json()) as { events: Array<{ id: string }> };
    // Moved on until the list shows it: the last stored events may still be on their way to the page.
    const wanted = newest.events.map((event) => event.id).join();
    for (let moves = 0; moves < 100 && (await rows(page)).join() !== wanted; moves += 1) await page.clock.runFor(1000);
    expect((await rows(page)).join()).to.equal(wanted);
    expect(await page.isVisible('#more')).to.equal(true);
  });
});
