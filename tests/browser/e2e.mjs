// The web app end to end, in headless Chromium, as its users would use it:
// a hospital registers and posts a need; two moderators verify the hospital; a donor
// searches in Chinese and pledges, sees where to ship but not whom to call; the
// hospital accepts the pledge, which opens its contact to the donor, who records a
// shipment; the hospital confirms the delivery; the public need page shows the whole chain and verifies it in the browser;
// a tampered proof is reported as failing. Screenshots go to $ARTIFACTS.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';

const url = process.env.AIDLEDGER_URL;
const data = process.env.AIDLEDGER_DATA;
const bin = process.env.AIDLEDGER_BIN;
const artifacts = process.env.ARTIFACTS;
let passed = 0;
let failed = 0;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function step(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n${e.stack}`);
    throw e;
  }
}

// Every page runs under the server's Content-Security-Policy; whatever it blocks is
// recorded here (Chromium reports each block on the console) and fails the last step.
const violations = [];

/// A new visitor: its own browser profile (so its own key in local storage).
async function visitor(viewport = { width: 1200, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`);
  });
  return page;
}

/// Opens `path` and waits until the WebAssembly has taken the page over (pages that
/// only read have no key status and no WebAssembly: they are ready once loaded).
async function open(page, path) {
  await page.goto(url + path);
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid=key-status]');
    return !s || !/Loading|正在载入/.test(s.textContent);
  });
}

/// What loading `path` in a fresh profile transfers: all bytes, and the WebAssembly's.
async function firstLoad(path) {
  const page = await visitor();
  const client = await page.context().newCDPSession(page);
  await client.send('Network.enable');
  let bytes = 0;
  client.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  await open(page, path);
  await page.waitForLoadState('networkidle');
  const wasm = await page.evaluate(() => performance.getEntriesByName(location.origin + '/pkg/aidledger_bg.wasm')[0]?.encodedBodySize ?? 0);
  return { page, bytes, wasm };
}

/// Milliseconds on emulated Fast 3G (Chrome's preset: 562.5 ms round trips, 180 KB/s
/// down), fresh profile: until the board is usable (it needs no script), until a
/// search from it has shown its results (a whole page, 12 KB), and until a need page's
/// WebAssembly has taken it over. Recorded for BENCHMARKS.md, never asserted.
async function fast3g(needPath) {
  const page = await visitor();
  const client = await page.context().newCDPSession(page);
  await client.send('Network.enable');
  await client.send('Network.emulateNetworkConditions', {
    offline: false, latency: 562.5, downloadThroughput: 180000, uploadThroughput: 84375,
  });
  let start = Date.now();
  await page.goto(url + '/', { waitUntil: 'load' });
  const board = Date.now() - start;
  start = Date.now();
  await page.fill('#q', '口罩');
  await Promise.all([page.waitForURL(/q=/, { waitUntil: 'load' }), page.click('form.search button[type=submit]')]);
  const search = Date.now() - start;
  start = Date.now();
  await open(page, needPath);
  const need = Date.now() - start;
  await page.context().close();
  return { fast3g_board_usable_ms: board, fast3g_search_ms: search, fast3g_need_page_interactive_ms: need };
}

/// A 1×1 PNG with a `tEXt` chunk holding `text`, built here (no image files in the repository).
function png(text) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('tEXt', Buffer.from(`Comment\0${text}`, 'latin1')),
    chunk('IDAT', zlib.deflateSync(Buffer.from([0, 0xff, 0x80, 0x00]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function generateKey(page) {
  await open(page, '/keys');
  await page.click('[data-testid=generate-key]');
  await page.waitForFunction(() => /^[0-9a-f]{64}$/.test(document.querySelector('[data-testid=public-key]').textContent));
  return (await page.textContent('[data-testid=public-key]')).trim();
}

/// Submits `form` and returns the leaf hash of the new entry.
async function submitted(form) {
  await form.locator('button[type=submit]').click();
  const done = form.locator('[data-testid=new-entry]');
  const error = form.locator('[data-testid=form-error], .field-error');
  await Promise.race([done.waitFor(), error.first().waitFor()]);
  if (await error.count()) throw new Error(`form refused: ${await error.first().textContent()}`);
  return (await done.textContent()).trim();
}

/// Submits a form that the page re-renders once it succeeds (the need page, the review
/// queue): the page-level notice names the new entry.
async function submittedOnPage(page, form) {
  const notice = page.locator('[data-testid=page-notice] [data-testid=new-entry]');
  const previous = (await notice.count()) ? await notice.textContent() : '';
  await form.locator('button[type=submit]').click();
  const error = form.locator('[data-testid=form-error], .field-error');
  await Promise.race([
    page.waitForFunction((p) => {
      const n = document.querySelector('[data-testid=page-notice] [data-testid=new-entry]');
      return n && n.textContent !== p;
    }, previous),
    error.first().waitFor(),
  ]);
  if (await error.count()) throw new Error(`form refused: ${await error.first().textContent()}`);
  return (await notice.textContent()).trim();
}

/// Clicks `button` and returns the in-browser check's verdict shown under `testid`:
/// `true` or `false` (its `data-verified`) and the text that explains it.
async function verdict(page, button, testid) {
  await page.click(button);
  const result = page.locator(`[data-testid=${testid}] [data-verified]`);
  await result.waitFor();
  return { verified: (await result.getAttribute('data-verified')) === 'true', text: await result.textContent() };
}

async function treeSize() {
  const text = await (await fetch(`${url}/checkpoint`)).text();
  return Number(text.split('\n')[1]);
}

function cli(args, input) {
  return execFileSync(bin, args, { input, encoding: 'utf8' });
}

async function shot(page, name) {
  await page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true });
}

let orgId, needId, hospitalKey;
const hospital = await visitor();
const donor = await visitor();
const moderatorA = await visitor();
const moderatorB = await visitor();
const publicVisitor = await visitor();

// The search index follows the log a moment behind it: the board is full once the
// seeded needs are indexed (no latency asserted; at most 30 s of polling).
for (let i = 0; i < 300; i++) {
  const found = await (await fetch(`${url}/api/v1/search?kind=need&per_page=1`)).json();
  if (found.total >= 20) break;
  await new Promise((r) => setTimeout(r, 100));
}

try {
  await step('the board loads no WebAssembly and weighs at most 150 KB; a page with forms loads the WebAssembly', async () => {
    const board = await firstLoad('/');
    const cards = await board.page.locator('[data-testid=need-card]').count();
    assert.equal(cards, 20, 'a full first page of needs');
    await shot(board.page, '00-board-without-webassembly');
    await board.page.context().close();
    const anyNeed = await (await fetch(`${url}/api/v1/needs?per_page=1`)).json();
    const form = await firstLoad(`/needs/${anyNeed.items[0].id}`);
    await form.page.context().close();
    const weights = {
      board_first_load_bytes: board.bytes, board_wasm_bytes: board.wasm,
      need_page_first_load_bytes: form.bytes, need_page_wasm_bytes: form.wasm,
      ...await fast3g(`/needs/${anyNeed.items[0].id}`),
    };
    writeFileSync(`${artifacts}/weight.json`, JSON.stringify(weights, null, 2));
    console.log(`# board ${board.bytes} bytes (wasm ${board.wasm}); need page ${form.bytes} bytes (wasm ${form.wasm}); Fast 3G: board ${weights.fast3g_board_usable_ms} ms, search ${weights.fast3g_search_ms} ms, need page ${weights.fast3g_need_page_interactive_ms} ms`);
    assert.equal(board.wasm, 0, 'the board loads no WebAssembly');
    assert.ok(board.bytes > 0 && board.bytes <= 150 * 1024, `the board transferred ${board.bytes} bytes`);
    assert.ok(form.wasm > 0, 'a page with forms loads the WebAssembly');
    // The signing pages' own budget (600 KB) needs the signing code split from the page
    // code; until then this bound only catches a bundle that grows further. Raised from
    // 680 KiB when photos came (the WASM is 671 KB of it; the need page's HTML varies
    // with the sample need by some 10 KB).
    assert.ok(form.bytes <= 712 * 1024, `the need page transferred ${form.bytes} bytes`);
  });

  await step('a hospital registers and posts a need', async () => {
    hospitalKey = await generateKey(hospital);
    await open(hospital, '/orgs/new');
    const orgForm = hospital.locator('[data-testid=org-form]');
    await hospital.fill('#org-name', 'Wuhan Jinyintan Hospital 武汉市金银潭医院');
    await hospital.selectOption('#org-type', 'hospital');
    await hospital.fill('#area-code', 'CN-HB');
    await hospital.fill('#area-name', '湖北 Hubei');
    await hospital.fill('#delivery-point', 'Goods entrance B, 1 Yintan Rd, Dongxihu; 08:00-18:00');
    await hospital.fill('#contact-name', 'Dr Li Wenliang-test');
    await hospital.fill('#contact-phone', '+86 27 0000 0000');
    orgId = await submitted(orgForm);

    await open(hospital, '/post/need');
    // The registrant is the organisation's first member: that step is done.
    await hospital.locator('[data-testid=step-org][data-state=done]').waitFor();
    // The form preselects the hospital's own organisation.
    await hospital.waitForFunction((id) => document.querySelector('#org').value === id, orgId);
    await hospital.fill('#item-0-name', 'N95口罩 金银潭发热门诊专用');
    await hospital.selectOption('#item-0-category', 'respirator');
    await hospital.fill('#item-0-quantity', '0');
    // A line added by mistake can be removed again.
    await hospital.getByRole('button', { name: 'Add an item' }).click();
    assert.equal(await hospital.locator('[data-testid=item-line]').count(), 2);
    await hospital.locator('[data-testid=item-line]').nth(1).locator('[data-testid=remove-item]').click();
    assert.equal(await hospital.locator('[data-testid=item-line]').count(), 1);
    assert.equal(await hospital.inputValue('#item-0-name'), 'N95口罩 金银潭发热门诊专用');
    await hospital.fill('#item-0-spec', 'GB 19083-2010');
    await hospital.selectOption('#urgency', 'critical');
    await hospital.fill('#needed-by', '2099-01-01');
    await hospital.fill('#area-code', 'CN-HB');
    await hospital.fill('#area-name', '湖北');
    // A bad quantity is refused in the browser, next to its field, and nothing is sent.
    const before = await treeSize();
    const form = hospital.locator('[data-testid=need-form]');
    await form.locator('button[type=submit]').click();
    const error = hospital.locator('[data-field="items[0].quantity"]');
    await error.waitFor();
    assert.match(await error.textContent(), /whole number from 1 to 10000000/);
    assert.equal(await treeSize(), before, 'a refused form appends nothing');
    await shot(hospital, 'post-need-field-error');

    await hospital.fill('#item-0-quantity', '500');
    await hospital.fill('#contact-name', 'Ward 3 head nurse');
    needId = await submitted(form);
    await shot(hospital, 'post-need');

    // A date the log's clock has passed is refused by the server; in the Chinese
    // interface the refusal is in Chinese, next to the date field.
    await open(hospital, '/lang/zh?back=/post/need');
    await hospital.waitForFunction((id) => document.querySelector('#org').value === id, orgId);
    await hospital.fill('#item-0-name', '医用外科口罩');
    await hospital.fill('#item-0-quantity', '100');
    await hospital.fill('#needed-by', '2020-01-01');
    await hospital.fill('#area-code', 'CN-HB');
    await hospital.fill('#area-name', '湖北');
    const sizeBefore = await treeSize();
    await form.locator('button[type=submit]').click();
    const dateError = hospital.locator('[data-field="needed_by"]');
    await dateError.waitFor();
    assert.match(await dateError.textContent(), /该日期已过/);
    assert.equal(await treeSize(), sizeBefore, 'a refused need appends nothing');
    await shot(hospital, 'post-need-past-date-zh');
    await open(hospital, '/lang/en?back=/');

    // My activity lists the need with nothing pledged yet.
    await open(hospital, '/activity');
    const mine = hospital.locator('[data-testid=my-need]');
    await mine.waitFor();
    assert.match(await mine.textContent(), /N95口罩 金银潭发热门诊专用/);
    assert.equal(await hospital.locator('[data-testid=changed]').count(), 0, 'nothing is new on a first visit');
  });

  await step('two moderators verify the hospital', async () => {
    // The operator (first administrator and moderator) imports its key file.
    await open(moderatorA, '/keys');
    await moderatorA.setInputFiles('#key-file', `${data}/operator.key`);
    await moderatorA.getByRole('button', { name: 'Import' }).click();
    await moderatorA.waitForFunction(() => /^[0-9a-f]{64}$/.test(document.querySelector('[data-testid=public-key]').textContent));
    // The second moderator makes a key in the browser; the administrator appoints it
    // in the app.
    const second = await generateKey(moderatorB);
    await open(moderatorA, '/keys');
    const roleForm = moderatorA.locator('[data-testid=role-form]');
    await roleForm.waitFor();
    await roleForm.locator('input[type=text]').fill(second);
    await roleForm.locator('select').first().selectOption('moderator');
    await submittedOnPage(moderatorA, roleForm);
    await shot(moderatorA, 'moderator-appointed');

    for (const [i, moderator] of [moderatorA, moderatorB].entries()) {
      await open(moderator, '/moderation?kind=org.register');
      const item = moderator.locator(`[data-testid=queue-item][data-entry="${orgId}"]`);
      await item.locator('[data-testid=show-contact]').click();
      await item.locator('[data-testid=contact]').waitFor();
      assert.match(await item.locator('[data-testid=contact]').textContent(), /Dr Li Wenliang-test/);
      await item.locator('input[type=text]').fill('Called the hospital switchboard; matches the health commission list');
      // What a moderator weighs: the author's record and the item's priority.
      assert.match(await item.locator('[data-testid=queue-history]').textContent(), /1 organisations/);
      assert.match(await item.locator('[data-testid=priority]').textContent(), /priority \d+/);
      if (i === 1) await shot(moderator, 'moderation-queue');
      await item.locator('[data-testid=verify-entry]').click();
      const notice = moderator.locator('[data-testid=page-notice]');
      const refused = item.locator('[data-testid=form-error]');
      await Promise.race([notice.waitFor(), refused.waitFor()]);
      if (await refused.count()) throw new Error(await refused.textContent());
    }
    await open(publicVisitor, `/orgs/${orgId}`);
    assert.equal((await publicVisitor.textContent('[data-testid=verified-by]')).trim(), '2');
    assert.match(await publicVisitor.textContent('.badges'), /Verified/);
  });

  await step('a donor searches in Chinese and pledges; where to ship shows, whom to call not yet', async () => {
    await generateKey(donor);
    let found = false;
    for (let i = 0; i < 50 && !found; i++) {
      await open(donor, '/?q=' + encodeURIComponent('发热门诊 口罩'));
      found = await donor.locator(`a[href="/needs/${needId}"]`).count() > 0;
      if (!found) await donor.waitForTimeout(200);
    }
    assert.ok(found, 'the search finds the need');
    await shot(donor, 'needs-board');
    await donor.click(`a[href="/needs/${needId}"]`);
    await donor.waitForURL(`**/needs/${needId}`);
    await open(donor, `/needs/${needId}`);
    const pledge = donor.locator('[data-testid=pledge-form]');
    // More than remains: the browser refuses before anything is signed or sent.
    const before = await treeSize();
    const quantity = pledge.locator('input[type=number]').first();
    await quantity.fill('600');
    await pledge.locator('button[type=submit]').click();
    assert.ok(await quantity.evaluate((el) => el.validity.rangeOverflow), 'the form refuses more than remains');
    assert.equal(await treeSize(), before);

    await pledge.locator('input[type=number]').first().fill('200');
    await donor.fill('#contact-name', 'Donor shipping desk');
    await submittedOnPage(donor, pledge);
    const shipment = donor.locator('[data-testid=shipment-form]');
    await shipment.waitFor({ state: 'attached' });
    const shipping = donor.locator('details.continue', { has: shipment });
    await shipping.locator('summary').click();
    assert.match(await shipping.locator('[data-testid=deliver-to]').textContent(), /Goods entrance B/);
    await shipping.locator('[data-testid=show-contact]').click();
    const notYet = shipping.locator('.contact-view [role=alert]');
    await notYet.waitFor();
    assert.match(await notYet.textContent(), /accepts the pledge/);
    await shot(donor, 'pledge-waiting-for-acceptance');
  });

  await step('the hospital finds the pledge in its activity, accepts it; each side then sees the other\'s contact; the donor ships', async () => {
    // What waits for the hospital, named by its items, marked as new since its last visit.
    await open(hospital, '/activity');
    const waiting = hospital.locator('[data-testid=waiting-pledge]');
    await waiting.waitFor();
    assert.match(await waiting.textContent(), /N95口罩 金银潭发热门诊专用/);
    assert.equal(await waiting.locator('[data-testid=changed]').count(), 1, 'the pledge is new since the last visit');
    await hospital.locator('[data-testid=changed-count]').waitFor();
    await shot(hospital, 'activity-pledge-waiting');
    await waiting.locator('a.action').click();
    await hospital.waitForURL(`**/needs/${needId}#accept-*`);
    // The link lands on the pledge's acceptance, opened.
    const card = hospital.locator('[data-testid=pledge-card]').first();
    await hospital.waitForFunction(() => document.querySelector('[data-testid=pledge-card]')?.open === true);
    await card.locator('[data-testid=show-contact]').click();
    await card.locator('[data-testid=contact]').waitFor();
    assert.match(await card.locator('[data-testid=contact]').textContent(), /Donor shipping desk/);
    await card.locator('input[type=text]').fill('Please use dock B');
    await submittedOnPage(hospital, card.locator('[data-testid=accept-form]'));
    await shot(hospital, 'pledge-accepted');

    await open(donor, `/needs/${needId}`);
    const shipment = donor.locator('[data-testid=shipment-form]');
    const shipping = donor.locator('details.continue', { has: shipment });
    await shipping.locator('summary').click();
    await shipping.locator('[data-testid=show-contact]').click();
    await shipping.locator('[data-testid=contact]').waitFor();
    assert.match(await shipping.locator('[data-testid=contact]').textContent(), /Ward 3 head nurse/);
    await shot(donor, 'hospital-contact-opened');
    await shipment.locator('input[id$=carrier]').fill('SF Express 顺丰');
    await shipment.locator('input[id$=tracking]').fill('SF1234567890');
    await shipment.locator('input[type=number]').first().fill('200');
    await submittedOnPage(donor, shipment);

    // Only the hospital accepts and confirms: the donor is offered neither form, and
    // is told who may.
    await open(donor, `/needs/${needId}`);
    await donor.locator('[data-testid=who-may]').waitFor();
    assert.equal(await donor.locator('[data-testid=delivery-form]').count(), 0);
    assert.equal(await donor.locator('[data-testid=accept-form]').count(), 0);
    await shot(donor, 'delivery-not-offered');
  });

  await step('a stranger with a key is offered no contact and no form, and is told who may act', async () => {
    const stranger = await visitor({ width: 390, height: 844 });
    await generateKey(stranger);
    await open(stranger, `/needs/${needId}`);
    await stranger.locator('[data-testid=who-may]').first().waitFor();
    for (const form of ['show-contact', 'accept-form', 'shipment-form', 'delivery-form', 'update-form']) {
      assert.equal(await stranger.locator(`[data-testid=${form}]`).count(), 0, `${form} is not offered to a stranger`);
    }
    await shot(stranger, 'stranger-need-phone');
    await stranger.context().close();
  });

  await step('the donor prints the shipment\'s receipt; the hospital scans its code and confirms the delivery', async () => {
    await open(donor, `/needs/${needId}`);
    await donor.locator('[data-kind=shipment] [data-testid=receipt-link]').first().click();
    await donor.waitForURL(/\/receipts\/[0-9a-f]{64}\/[0-9a-f]{64}$/);
    const receipt = donor.locator('[data-testid=receipt]');
    assert.match(await receipt.textContent(), /N95口罩 金银潭发热门诊专用/);
    assert.equal(await donor.locator('script[type=module]').count(), 0, 'a receipt only reads');
    const target = await donor.locator('[data-testid=receipt-qr]').getAttribute('data-target');
    assert.match(target, new RegExp(`/needs/${needId}#deliver-\\d+$`));
    await donor.emulateMedia({ media: 'print' });
    await shot(donor, 'shipment-receipt-print');
    await donor.emulateMedia({ media: 'screen' });
    // The code opens, in a new tab, the need page at that shipment's delivery form,
    // already unfolded.
    const scanned = await hospital.context().newPage();
    await scanned.goto(target);
    const delivery = scanned.locator('[data-testid=delivery-form]');
    await delivery.waitFor();
    assert.equal(await scanned.locator('details.continue', { has: delivery }).getAttribute('open'), '');
    await delivery.locator('input[type=number]').first().fill('200');
    await delivery.locator('select').selectOption('good');
    // A photo of what arrived, carrying a text chunk the server strips before storing.
    await delivery.locator('input[type=file]').setInputFiles({ name: 'arrived.png', mimeType: 'image/png', buffer: png('GPS 30.6,114.3') });
    const uploaded = delivery.locator('[data-testid=photo-uploaded] code');
    await uploaded.waitFor();
    const photo = (await uploaded.textContent()).trim();
    await submittedOnPage(scanned, delivery);
    await scanned.close();
    const stored = Buffer.from(await (await fetch(`${url}/api/v1/photos/${photo}`)).arrayBuffer());
    assert.equal(createHash('sha256').update(stored).digest('hex'), photo, 'the log names the bytes served');
    assert.ok(!stored.includes('GPS 30.6'), 'the text chunk was stripped');
    // Anyone sees the photo in the chain, checked in the browser against the log.
    await open(publicVisitor, `/needs/${needId}`);
    await publicVisitor.locator('[data-kind="delivery.confirm"] [data-testid=photo-verified]').waitFor();
  });

  await step('anyone sees the totals by category and region, drawn on the server, on a phone without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${url}/?q=N95`);
    await page.click('[data-testid=board-stats]');
    await page.selectOption('#f-category', 'respirator');
    await page.fill('#f-area', 'CN-HB');
    await page.click('form.search button[type=submit]');
    assert.match(page.url(), /\/stats\?category=respirator&.*area=CN-HB/);
    const totals = await page.locator('[data-testid=figures]').first().textContent();
    assert.match(totals, /Delivered [1-9][\d,]*/, totals);
    assert.ok(await page.locator('[data-testid=stats-region]').count() >= 1);
    assert.equal(await page.locator('script[type=module]').count(), 0, 'the totals only read');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling');
    await shot(page, 'stats-phone-nojs');
    await context.close();
  });

  await step('the donor follows the pledge to delivery in its activity, on a phone', async () => {
    await donor.setViewportSize({ width: 390, height: 844 });
    await open(donor, '/activity');
    const donation = donor.locator('[data-testid=donation]');
    await donation.waitFor();
    assert.equal(await donation.getAttribute('data-stage'), 'delivered');
    assert.match(await donation.textContent(), /N95口罩 金银潭发热门诊专用/);
    assert.ok(await donor.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling');
    await shot(donor, 'activity-donor-phone');
    await donor.setViewportSize({ width: 1200, height: 900 });
    // Its verdicts are in a moderator's activity, named by what they judged.
    await open(moderatorA, '/activity');
    const given = moderatorA.locator('[data-testid=verdict]');
    await given.first().waitFor();
    assert.match(await given.first().textContent(), /Wuhan Jinyintan Hospital/);
    // Anyone can read an author's page, rendered on the server, without the WebAssembly.
    await publicVisitor.goto(`${url}/authors/${hospitalKey}`);
    assert.match(await publicVisitor.textContent('[data-testid=my-need]'), /N95口罩 金银潭发热门诊专用/);
    assert.equal(await publicVisitor.locator('script[type=module]').count(), 0);
    await shot(publicVisitor, 'author-page');
  });

  await step('a donor posts an offer; it has a page that lists the needs it fits, and is found on the offers board', async () => {
    await open(donor, '/post/offer');
    const form = donor.locator('[data-testid=offer-form]');
    await donor.fill('#item-0-name', 'N95口罩 备用库存 spare stock');
    await donor.selectOption('#item-0-category', 'respirator');
    await donor.fill('#item-0-quantity', '300');
    await donor.fill('#area-code', 'CN-HB');
    await donor.fill('#area-name', '湖北 Hubei');
    await donor.fill('#available-until', '2099-06-30');
    const offerId = await submitted(form);
    await donor.click('[data-testid=new-offer-link]');
    await donor.waitForURL(`**/offers/${offerId}`);
    assert.match(await donor.textContent('[data-testid=offer]'), /N95口罩 备用库存 spare stock/);
    // The offer's page lists needs it could fill, each with why; the hospital's need is
    // among the offer's matches, and the offer among the need's.
    await donor.locator('[data-testid=matches] [data-testid=match]').first().waitFor();
    assert.match(await donor.textContent('[data-testid=matches]'), /Same area/);
    const forNeed = await (await fetch(`${url}/api/v1/needs/${needId}/matches`)).json();
    assert.ok(forNeed.matches.some((m) => m.post.id === offerId), 'the need matches the offer');
    const forOffer = await (await fetch(`${url}/api/v1/offers/${offerId}/matches`)).json();
    assert.ok(forOffer.matches.some((m) => m.post.id === needId), 'the offer matches the need');
    // On the need's page the donor pledges from the offer in one step: what the match
    // says it can give, drawn on the offer.
    await open(donor, `/needs/${needId}`);
    const own = donor.locator(`[data-testid=match][data-id="${offerId}"]`);
    await own.locator('[data-testid=pledge-from-offer]').waitFor();
    await shot(donor, 'pledge-from-offer');
    await submittedOnPage(donor, own.locator('[data-testid=pledge-from-offer]'));
    const need = await (await fetch(`${url}/api/v1/needs/${needId}`)).json();
    assert.equal(need.items[0].pledged, 500, 'the offer covered the 300 still needed');
    const trace = await (await fetch(`${url}/api/v1/trace/${needId}`)).json();
    assert.ok(JSON.stringify(trace).includes(offerId), 'the pledge names the offer it draws on');
    const phone = await visitor({ width: 390, height: 844 });
    let found = false;
    for (let i = 0; i < 50 && !found; i++) {
      await open(phone, '/offers?q=' + encodeURIComponent('备用库存'));
      found = await phone.locator(`[data-testid=offer-card] a[href="/offers/${offerId}"]`).count() > 0;
      if (!found) await phone.waitForTimeout(200);
    }
    assert.ok(found, 'the offers board finds the offer by its Chinese name');
    assert.equal(await phone.locator('[data-testid=need-card]').count(), 0, 'the offers board lists no needs');
    await shot(phone, 'offers-board-phone');
    await open(phone, `/offers/${offerId}`);
    await shot(phone, 'offer-matches-phone');
    await phone.context().close();
  });

  await step('a second staff key joins the hospital in the app, and removes the first one when it is lost', async () => {
    const colleague = await visitor({ width: 390, height: 844 });
    const colleagueKey = await generateKey(colleague);
    await open(hospital, `/orgs/${orgId}`);
    const add = hospital.locator('[data-testid=member-form]');
    await add.waitFor();
    await add.locator('input[type=text]').fill(colleagueKey);
    await submittedOnPage(hospital, add);
    await hospital.locator(`[data-testid=members] [data-key="${colleagueKey}"]`).waitFor();
    // The first key is lost: the colleague, on a phone, removes it.
    await open(colleague, `/orgs/${orgId}`);
    const remove = colleague.locator('[data-testid=member-form]');
    await remove.waitFor();
    await remove.locator('input[type=text]').fill(hospitalKey);
    await remove.locator('select').last().selectOption('revoke');
    await submittedOnPage(colleague, remove);
    await colleague.locator(`[data-testid=members] [data-key="${hospitalKey}"]`).waitFor({ state: 'detached' });
    await shot(colleague, 'member-recovery-phone');
    // The page offers the organisation's feed, which a reader can subscribe to.
    const feed = await fetch(url + await colleague.getAttribute('[data-testid=feed]', 'href'));
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get('content-type'), /application\/atom\+xml/);
    assert.match(await feed.text(), /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    // The receiving dock moves: a member changes the delivery point; a stranger is not
    // offered the form.
    const update = colleague.locator('[data-testid=org-update]');
    await update.locator('summary').click();
    await update.locator('#org-update-delivery-point').fill('North dock, 2 Hankou Rd; 07:00-19:00');
    await submittedOnPage(colleague, update.locator('[data-testid=org-update-form]'));
    await open(publicVisitor, `/orgs/${orgId}`);
    assert.equal(await publicVisitor.locator('[data-testid=org-update]').count(), 0);
    // The colleague now acts for the hospital: the need page offers it the hospital's side,
    // and every reader sees where to ship now.
    await open(colleague, `/needs/${needId}`);
    await colleague.locator('[data-testid=pledge-card]').first().waitFor();
    assert.match(await colleague.textContent('[data-testid=delivery-point]'), /North dock/);
    await shot(colleague, 'delivery-point-moved-phone');
    await colleague.context().close();
  });

  await step('without JavaScript, pages read and search, and a signing form says why it cannot sign', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${url}/?q=${encodeURIComponent('口罩')}`);
    assert.ok(await page.locator('[data-testid=need-card]').count() > 0, 'search works without JavaScript');
    await page.goto(`${url}/orgs/new`);
    await page.fill('#org-name', 'No-JS clinic');
    await page.fill('#area-code', 'CN-HB');
    await page.fill('#area-name', 'Hubei');
    await page.fill('#contact-phone', '+86 10 5555 0000');
    const before = await treeSize();
    await page.locator('[data-testid=org-form] button[type=submit]').click();
    await page.waitForURL('**/signing-needs-javascript');
    assert.ok(!page.url().includes('contact') && !page.url().includes('5555'), 'nothing private in the URL');
    await page.locator('[data-testid=needs-javascript]').waitFor();
    assert.equal(await treeSize(), before, 'nothing was appended');
    await shot(page, 'no-javascript-form');
    await context.close();
  });

  await step('the public need page shows the whole chain and verifies it in the browser', async () => {
    await open(publicVisitor, `/needs/${needId}`);
    // A visitor without a key is told to make one instead of being shown forms.
    await publicVisitor.locator('[data-testid=key-first]').waitFor();
    assert.equal(await publicVisitor.locator('form').count(), 0, 'no forms for a visitor without a key');
    const kinds = await publicVisitor.locator('[data-testid=chain-link]').evaluateAll((ls) => ls.map((l) => l.dataset.kind));
    assert.deepEqual(kinds, ['need.post', 'pledge', 'pledge.accept', 'shipment', 'delivery.confirm', 'pledge']);
    // Each link says what it moved by the item's name, and the shipment its tracking number.
    const shipped = await publicVisitor.locator('[data-testid=chain-link][data-kind=shipment]').textContent();
    assert.match(shipped, /N95口罩 金银潭发热门诊专用: 200 pieces · SF Express 顺丰 · SF1234567890/);
    // 200 delivered, and the rest pledged from the donor's offer.
    assert.equal((await publicVisitor.textContent('[data-testid=remaining]')).trim(), '0');
    await open(donor, `/needs/${needId}`);
    await donor.locator('[data-testid=all-pledged]').waitFor();
    assert.equal(await donor.locator('[data-testid=pledge-form]').count(), 0, 'nothing left to pledge, no form');
    const chain = await verdict(publicVisitor, '[data-testid=verify]', 'verify-result');
    assert.ok(chain.verified, chain.text);
    await shot(publicVisitor, 'need-verified');
  });

  await step('a tampered proof served to the page is reported as failing', async () => {
    const page = await visitor();
    await page.route('**/api/v1/trace/**', async (route) => {
      const response = await route.fetch();
      const trace = await response.json();
      const link = trace.links.find((l) => l.proof.length > 0);
      const h = link.proof[0];
      link.proof[0] = (h[0] === '0' ? '1' : '0') + h.slice(1);
      await route.fulfill({ response, json: trace });
    });
    await open(page, `/needs/${needId}`);
    const chain = await verdict(page, '[data-testid=verify]', 'verify-result');
    assert.ok(!chain.verified, chain.text);
    assert.match(chain.text, /not proved to be in the checkpoint/);
    await shot(page, 'need-tampered');
    await page.context().close();
  });

  await step('the audit explorer verifies the checkpoint, an entry and consistency', async () => {
    await open(publicVisitor, '/audit');
    await publicVisitor.click('[data-testid=save-checkpoint]');
    await publicVisitor.locator('[data-testid=save-result] [data-verified=true]').waitFor();
    // The log grows, then the saved checkpoint must be extended by the new one.
    cli(['submit', '--url', url], cli(['sign', '--key', `${data}/operator.key`],
      JSON.stringify({ kind: 'offer.post', body: { items: [{ item: 'Gloves', category: 'gloves', quantity: 10, unit: 'box' }], area: { code: 'CN', name: 'China' } } })));
    await open(publicVisitor, '/audit');
    const checkpoint = await verdict(publicVisitor, '[data-testid=verify-checkpoint]', 'checkpoint-result');
    assert.ok(checkpoint.verified, checkpoint.text);
    const consistency = await verdict(publicVisitor, '[data-testid=check-consistency]', 'consistency-result');
    assert.ok(consistency.verified, consistency.text);
    await publicVisitor.fill('#lookup', needId);
    const entry = await verdict(publicVisitor, '[data-testid=lookup-entry]', 'entry-result');
    assert.ok(entry.verified, entry.text);
    // The raw JSON is there for experts, folded away for everyone else.
    const raw = publicVisitor.locator('[data-testid=raw-entry]');
    await raw.waitFor();
    assert.equal(await raw.evaluate((d) => d.open), false);
    await shot(publicVisitor, 'audit');
    // The log can be browsed, newest first: the offer the operator just signed leads.
    await publicVisitor.click('[data-testid=browse-log]');
    await publicVisitor.waitForURL('**/log');
    const rows = publicVisitor.locator('[data-testid=log-entries] li');
    assert.equal(await rows.first().getAttribute('data-kind'), 'offer.post');
    assert.match(await rows.first().textContent(), /Gloves × 10/);
    await publicVisitor.setViewportSize({ width: 360, height: 780 });
    await shot(publicVisitor, 'log-phone');
    await publicVisitor.setViewportSize({ width: 1200, height: 900 });
  });

  await step('keys export sealed and import back with the passphrase', async () => {
    await open(donor, '/keys');
    const key = (await donor.textContent('[data-testid=public-key]')).trim();
    await donor.fill('#passphrase', 'donor passphrase');
    const [download] = await Promise.all([donor.waitForEvent('download'), donor.getByRole('button', { name: 'Export to a file' }).click()]);
    const file = `${artifacts}/donor-key.json`;
    await download.saveAs(file);
    const page = await visitor();
    await open(page, '/keys');
    await page.setInputFiles('#key-file', file);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.locator('[data-testid=key-message] [role=alert]').waitFor();
    await page.fill('#passphrase', 'donor passphrase');
    await page.getByRole('button', { name: 'Import' }).click();
    await page.waitForFunction((k) => document.querySelector('[data-testid=public-key]').textContent.trim() === k, key);
    // The donor wrote two pledges, a shipment and an offer (the refused confirmation is
    // not there).
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=my-entries] li').length === 4);
    await shot(page, 'my-key');
    await page.context().close();
  });

  await step('the language switch turns the pages to Chinese, and the board reads on a phone', async () => {
    const phone = await visitor({ width: 390, height: 844 });
    await open(phone, '/');
    await Promise.all([phone.waitForResponse((r) => r.url().includes('/lang/zh')), phone.click('a[hreflang=zh]')]);
    await open(phone, '/');
    assert.equal(await phone.getAttribute('html', 'lang'), 'zh');
    assert.match(await phone.textContent('h1'), /物资需求/);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the board is ${overflow}px wider than the phone`);
    await shot(phone, 'needs-board-phone-zh');
    await phone.keyboard.press('Tab');
    assert.equal(await phone.evaluate(() => document.activeElement.className), 'skip', 'keyboard users can skip to the content');
    await phone.context().close();
  });

  await step('with the server unreachable or the network slow, pages and forms say so in words', async () => {
    const page = await visitor({ width: 390, height: 844 });
    const client = await page.context().newCDPSession(page);
    await client.send('Network.enable');
    // Chromium's "Slow 3G": the page is readable from the server's HTML long before the
    // bundle has loaded.
    await client.send('Network.emulateNetworkConditions', {
      offline: false, latency: 400, downloadThroughput: (500 * 1024) / 8, uploadThroughput: (500 * 1024) / 8,
    });
    await page.goto(url + `/needs/${needId}`, { waitUntil: 'domcontentloaded' });
    assert.match(await page.textContent('h1'), /Jinyintan/);
    await client.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await generateKey(page);
    // The hospital's need is fully pledged by now: an open need of the seeded effort
    // with something still to pledge.
    const open_ = await (await fetch(`${url}/api/v1/needs?status=open&per_page=50`)).json();
    const lacking = open_.items.find((n) => n.items.some((i) => i.remaining > 0));
    await open(page, `/needs/${lacking.id}`);
    await page.route('**/api/v1/{entries,submissions}', (route) => route.abort('connectionrefused'));
    const pledge = page.locator('[data-testid=pledge-form]');
    await pledge.locator('input[type=number]').first().fill('1');
    const before = await treeSize();
    await pledge.locator('button[type=submit]').click();
    const error = pledge.locator('[data-testid=form-error]');
    await error.waitFor();
    assert.match(await error.textContent(), /could not be reached/);
    assert.doesNotMatch(await error.textContent(), /TypeError|wasm|at /);
    assert.equal(await treeSize(), before);
    await shot(page, 'server-unreachable');
    await page.context().close();
  });

  await step('a first run is led step by step; a new key asks for a backup; replacing or removing a key asks first', async () => {
    const page = await visitor();
    // The way to a posted need, on a phone: the first step is the one to take.
    await page.setViewportSize({ width: 360, height: 780 });
    await open(page, '/post/need');
    await page.locator('[data-testid=step-key][data-state=current]').waitFor();
    await shot(page, 'first-steps-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    const first = await generateKey(page);
    await page.locator('[data-testid=step-key][data-state=done]').waitFor();
    await page.locator('[data-testid=step-backup][data-state=current]').waitFor();
    await page.locator('[data-testid=backup-needed]').waitFor();
    // A key that belongs to no organisation is told what to do first.
    await open(page, '/post/need');
    await page.locator('[data-testid=register-first]').waitFor();
    // Every page that runs the app asks (the board, sent without it, cannot know).
    await open(page, '/activity');
    await page.locator('[data-testid=backup-needed]').waitFor();
    await shot(page, 'backup-needed');
    await open(page, '/keys');
    page.once('dialog', (d) => d.dismiss());
    await page.click('[data-testid=generate-key]');
    assert.equal((await page.textContent('[data-testid=public-key]')).trim(), first, 'a dismissed confirmation keeps the key');
    const download = page.waitForEvent('download');
    await page.click('[data-testid=export-key]');
    await download;
    await page.locator('[data-testid=backup-needed]').waitFor({ state: 'detached' });
    // Backed up: next comes the organisation, with how to join one already registered.
    await page.locator('[data-testid=step-org][data-state=current]').waitFor();
    await page.locator('[data-testid=join-hint]').waitFor();
    await shot(page, 'first-steps-after-backup');
    page.once('dialog', (d) => d.accept());
    await page.click('[data-testid=generate-key]');
    await page.waitForFunction((f) => document.querySelector('[data-testid=public-key]').textContent.trim() !== f, first);
    await page.locator('[data-testid=backup-needed]').waitFor();
    page.once('dialog', (d) => d.dismiss());
    await page.getByRole('button', { name: 'Remove' }).click();
    assert.match((await page.textContent('[data-testid=public-key]')).trim(), /^[0-9a-f]{64}$/, 'a dismissed removal keeps the key');
    await page.context().close();
  });

  await step('an unknown need is a 404 page, and a Chinese browser gets Chinese on its first visit', async () => {
    const missing = await fetch(`${url}/needs/${'0'.repeat(64)}`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /data-testid="not-found"/);
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(url + '/');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh');
    assert.match(await page.textContent('nav'), /需求/);
    await page.goto(url + `/moderation`);
    await page.waitForFunction(() => !/正在载入/.test(document.querySelector('[data-testid=key-status]').textContent));
    if (await page.locator('[data-testid=queue-item]').count()) {
      await page.locator('[data-testid=not-moderator]').first().waitFor();
    }
    await shot(page, 'first-visit-zh-phone');
    await context.close();
  });

  await step('anyone with a key reports a need as no longer current from its page; the page shows the report', async () => {
    await open(donor, `/needs/${needId}`);
    const flag = donor.locator('[data-testid=flag]');
    await flag.locator('summary').click();
    const form = donor.locator('[data-testid=flag-form]');
    await form.locator('#flag-kind').selectOption('flag_stale');
    await form.locator('#flag-reason').fill('The hospital said on the phone the masks arrived from another donor');
    await submittedOnPage(donor, form);
    await open(publicVisitor, `/needs/${needId}`);
    assert.match(await publicVisitor.textContent('[data-testid=stale-flags]'), /1/);
    await shot(publicVisitor, 'need-flagged-stale');
  });

  await step('no page scrolls sideways on a 360 px phone, in English or Chinese', async () => {
    const paths = ['/', '/offers', '/log', `/needs/${needId}`, '/activity', '/keys', '/post/need', '/post/offer', '/orgs',
      `/orgs/${orgId}`, '/orgs/new', '/moderation', '/audit', `/authors/${hospitalKey}`, '/stats'];
    for (const locale of ['en-GB', 'zh-CN']) {
      const context = await browser.newContext({ locale, viewport: { width: 360, height: 780 } });
      const page = await context.newPage();
      for (const path of paths) {
        await page.goto(url + path);
        await page.waitForLoadState('networkidle');
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 360, `${path} in ${locale} is ${width} px wide`);
      }
      await page.goto(url + `/needs/${needId}`);
      await shot(page, `need-360-${locale}`);
      await context.close();
    }
  });

  await step('no page broke the Content-Security-Policy, and each page had one', async () => {
    const page = await visitor();
    const response = await page.goto(url + '/audit');
    assert.match(response.headers()['content-security-policy'], /script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
    const before = violations.length;
    // A script injected without the nonce is blocked (the policy is enforced, not just sent).
    await Promise.all([
      page.waitForEvent('console', (m) => /Content Security Policy/i.test(m.text())),
      page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__injected = true';
        document.body.appendChild(s);
      }),
    ]);
    assert.equal(await page.evaluate(() => window.__injected), undefined);
    assert.equal(violations.length, before + 1, 'the injected script was reported');
    violations.pop();
    assert.deepEqual(violations, []);
    await page.context().close();
  });
} finally {
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
}
process.exit(failed ? 1 : 0);
