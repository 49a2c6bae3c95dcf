#!/usr/bin/env node
// parkhost's browser suite (issue #16): a real `parkhost serve` with the
// demo park (demo/site.lua) on a free port of 127.0.0.1, driven by real
// headless Chromium (Debian's /usr/bin/chromium) through playwright-core,
// every page checked by axe-core at WCAG 2.1 A and AA.
//
// It seeds content through the staff's own HTTP forms (as the plugins'
// specs do), then walks:
//   - the resident's main paths, at 1280x900 and 390x844, in the normal
//     mode and in 关怀版 (switched on and off through the masthead's own
//     switch): front page, section, column list, article and its print
//     view, search, a survey answered, a live interview watched, a letter
//     to 主任信箱 written (errors first) and a 找错 sent from the footer, a 404;
//   - the staff's: login, console, an article written in
//     /gxcy/tzgg/manage and approved by each step of its review chain
//     (单位审核, 保密审查, 领导签发), each by its own user, then seen on
//     the public list.
// Each page visited: the HTTP status expected, no console error, no axe
// violation, a full-page screenshot under build/browser/shots/. One line
// per check, then `browser: N passed, M failed`; exits 1 on any failure.
//
// Run it with scripts/browser (which installs what it needs). Settings
// (environment): PARKHOST_BIN (default build/parkhost), PARKHOST_CHROMIUM
// (default /usr/bin/chromium), PARKHOST_BROWSER_MODULES (where `npm ci` put
// node_modules; default build/browser/node_modules), PARKHOST_BROWSER_OUT
// (default build/browser: shots/ and the server's log go there).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.PARKHOST_BIN || path.join(ROOT, 'build', 'parkhost');
const CHROMIUM = process.env.PARKHOST_CHROMIUM || '/usr/bin/chromium';
const MODULES = process.env.PARKHOST_BROWSER_MODULES || path.join(ROOT, 'build', 'browser', 'node_modules');
const OUT = process.env.PARKHOST_BROWSER_OUT || path.join(ROOT, 'build', 'browser');
const SHOTS = path.join(OUT, 'shots');
const DEADLINE_MS = Number(process.env.PARKHOST_BROWSER_DEADLINE_MS || 170000);

const req = createRequire(path.join(MODULES, 'parkhost-browser.js'));
const { chromium, request: httpRequest } = req('playwright-core');
const AXE_SOURCE = fs.readFileSync(req.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];
const PASSWORD = 'browser-suite-password';
const CARE_MIN_PX = 18;

// The staff the walks and the seeding need: a unit's editor, two reviewers
// (nobody approves two steps of one round) and its leader, for each unit
// whose columns are used.
const STAFF = [
  ['admin', 'center', 'admin', '系统管理员'],
  ['ed', 'invest', 'editor', '招商局编辑'],
  ['rv1', 'invest', 'reviewer', '招商局审核员甲'],
  ['rv2', 'invest', 'reviewer', '招商局审核员乙'],
  ['ld', 'invest', 'leader', '招商局领导'],
  ['crv', 'center', 'reviewer', '中心审核员'],
  ['sed', 'social', 'editor', '社会事务局编辑'],
  ['srv', 'social', 'reviewer', '社会事务局审核员'],
  ['sld', 'social', 'leader', '社会事务局领导'],
  ['ced', 'center', 'editor', '服务中心编辑'],
  ['cld', 'center', 'leader', '服务中心领导'],
];

// ---------------------------------------------------------------- results

const results = { passed: 0, failed: 0, failures: [] };
const started = Date.now();

function secs() {
  return ((Date.now() - started) / 1000).toFixed(1).padStart(5);
}

function pass(line) {
  results.passed++;
  console.log(`ok   ${secs()}s ${line}`);
}

function fail(line, details = []) {
  results.failed++;
  results.failures.push(line);
  console.log(`FAIL ${secs()}s ${line}`);
  for (const d of details) console.log(`       ${d}`);
}

// ------------------------------------------------------------- the server

function cli(dir, args, input) {
  const r = spawnSync(BIN, [...args, '--db', path.join(dir, 'site.db'),
    '--plugins', path.join(ROOT, 'plugins')], { cwd: ROOT, input: input || '', encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`parkhost ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parkhost-browser-'));
  cli(dir, ['site', 'import', path.join(ROOT, 'demo', 'site.lua')]);
  for (const [login, unit, role, name] of STAFF) {
    cli(dir, ['user', 'add', login, '--unit', unit, '--role', role, '--name', name], PASSWORD + '\n');
  }
  const logPath = path.join(OUT, 'parkhost.log');
  const log = fs.openSync(logPath, 'w');
  const proc = spawn(BIN, ['serve', '--host', '127.0.0.1', '--port', '0', '--workers', '1',
    '--db', path.join(dir, 'site.db'), '--pid-file', path.join(dir, 'parkhost.pid'),
    '--upload-dir', path.join(dir, 'uploads'), '--files-dir', path.join(dir, 'files'),
    '--plugins', path.join(ROOT, 'plugins')], { cwd: ROOT, stdio: ['ignore', log, log] });
  const until = Date.now() + 10000;
  while (Date.now() < until) {
    const m = fs.readFileSync(logPath, 'utf8').match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) return { dir, proc, logPath, base: `http://127.0.0.1:${m[1]}` };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('parkhost did not start; its log:\n' + fs.readFileSync(logPath, 'utf8'));
}

async function stopServer(server) {
  if (!server) return;
  if (server.proc.exitCode === null) {
    const exited = new Promise((r) => server.proc.once('exit', r));
    server.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
  }
  fs.rmSync(server.dir, { recursive: true, force: true });
}

// ---------------------------------------- seeding through the staff's forms

// A staff member's HTTP session (cookies kept), logged in through the
// console's form, posting forms with the CSRF token of the page they are on.
async function staffSession(base, login) {
  const ctx = await httpRequest.newContext({ baseURL: base });
  let token = null;
  const get = async (url) => {
    const res = await ctx.get(url);
    const body = await res.text();
    const m = body.match(/name="_csrf" value="([^"]+)"/);
    if (m) token = m[1];
    return { status: res.status(), body };
  };
  const post = async (url, fields, from) => {
    await get(from || url);
    const res = await ctx.post(url, { form: { _csrf: token, ...fields }, maxRedirects: 0 });
    const out = { status: res.status(), location: res.headers().location, body: await res.text() };
    if (out.status !== 303) {
      throw new Error(`${login}: POST ${url} answered ${out.status}: ${out.body.slice(0, 400)}`);
    }
    return out;
  };
  await get('/admin/login');
  await post('/admin/login', { login, password: PASSWORD });
  return { login, get, post, dispose: () => ctx.dispose() };
}

// The park's local time (UTC+8, the demo's utc-offset-min) as the forms
// take it, `minutes` from now.
function parkTime(minutes) {
  return new Date(Date.now() + (8 * 60 + minutes) * 60000).toISOString().slice(0, 16).replace('T', ' ');
}

const SEED_ARTICLES = [
  {
    column: '/gxcy/tzgg', chain: ['rv1', 'rv2', 'ld'], editor: 'ed',
    title: '关于开展2026年度高新技术企业认定工作的通知',
    summary: '请符合条件的企业于规定时间内提交认定申请材料。',
    body: '<h2>一、申报条件</h2><p>在园区注册满一年、从事国家重点支持的高新技术领域研发的企业，可以申报。</p>'
      + '<h2>二、申报时间</h2><ol><li>网上申报：即日起至12月20日。</li><li>材料报送：12月25日前。</li></ol>'
      + '<table><caption>申报材料清单</caption><thead><tr><th>序号</th><th>材料名称</th><th>份数</th><th>备注</th></tr></thead>'
      + '<tbody><tr><td>1</td><td>高新技术企业认定申请书</td><td>2</td><td>加盖企业公章</td></tr>'
      + '<tr><td>2</td><td>知识产权相关材料</td><td>1</td><td>发明专利、实用新型专利、软件著作权等</td></tr>'
      + '<tr><td>3</td><td>近三个会计年度的财务会计报告</td><td>1</td><td>经具有资质的中介机构鉴证</td></tr></tbody></table>'
      + '<p>联系电话：0000-12345678（工作日 9:00—17:00）。</p>',
    source: '招商局', author_unit: '示范高新区招商局',
  },
  {
    column: '/gxcy/tzgg', chain: ['rv1', 'rv2', 'ld'], editor: 'ed',
    title: '园区企业服务中心春节期间办公安排的通知',
    summary: '春节期间窗口服务时间调整。', body: '<p>春节期间，企业服务中心窗口上午 9:00—12:00 正常办公，网上办理不受影响。</p>',
    source: '招商局', author_unit: '示范高新区招商局',
  },
  {
    column: '/gxcy/zcwj', chain: ['rv1', 'rv2', 'ld', 'crv'], editor: 'ed',
    title: '示范高新区促进人才创新创业若干措施',
    summary: '支持高层次人才来园区创新创业。', body: '<p>第一条 为吸引和集聚高层次人才，制定本措施。</p><p>第二条 对新引进的博士给予一次性安家补贴。</p>',
    source: '招商局', author_unit: '示范高新区管委会', pub_date: '2026-01-05',
  },
  {
    column: '/ygzw/zwdt', chain: ['crv', 'cld'], editor: 'ced',
    title: '管委会召开优化营商环境工作推进会',
    summary: '会议部署下一阶段优化营商环境重点任务。', body: '<p>会议强调，要持续提升政务服务效能，让企业和群众办事更便捷。</p>',
    source: '服务中心', author_unit: '示范高新区管委会',
  },
];

const SURVEY_QUESTIONS = `[single] q1 您对园区政务服务的总体评价？ *
- 非常满意
- 满意
- 一般
- 不满意

[multiple min=1 max=2] q2 您最常办理的事项有哪些？ *
- 企业注册
- 人才补贴
- 其他

[rating 1-5] q3 请为办事效率打分 *

[ranking] q4 请对以下改进方向排序
- 网上办理
- 窗口服务

[grid] q5 请评价以下窗口
行:
- 企业服务窗口
- 人才服务窗口
列:
- 满意
- 不满意

[text max=200] q6 其他意见和建议
`;

// Approve a submitted item at every step of its chain, each as its own user.
async function approveThrough(s, manage, chain) {
  for (const who of chain) await s[who].post(`${manage}/decide`, { decision: 'approve', comment: '同意' }, manage);
}

async function seed(base) {
  const s = {};
  for (const [login] of STAFF) s[login] = await staffSession(base, login);
  for (const a of SEED_ARTICLES) {
    const { column, chain, editor, ...fields } = a;
    const res = await s[editor].post(`${column}/manage/new`, fields);
    const manage = new URL(res.location, base).pathname;
    await s[editor].post(`${manage}/submit`, {}, manage);
    await approveThrough(s, manage, chain);
  }
  // A survey open now (its review chain: review, leader), closing in a week.
  let res = await s.sed.post('/ygzw/myzj/manage/new', {
    title: '园区政务服务满意度调查', purpose: '了解企业和群众对园区政务服务的评价，以便改进。',
    draft: '园区将推进“一网通办”，企业和群众办事只进一扇门。',
    questions: SURVEY_QUESTIONS, opens_at: parkTime(-60), closes_at: parkTime(7 * 24 * 60),
  });
  let manage = new URL(res.location, base).pathname;
  await s.sed.post(`${manage}/submit`, {}, manage);
  await approveThrough(s, manage, ['srv', 'sld']);
  // An interview announced (review, leader), then live with two entries.
  res = await s.ced.post('/ygzw/zxft/manage/new', {
    title: '管委会主任谈优化营商环境', topic: '优化营商环境', unit_name: '示范高新区管委会',
    guests: '张主任|管委会主任\n李处长|企业服务处处长', host: '王主持',
    starts_at: parkTime(5), minutes: '90', intro: '欢迎网友就营商环境提问。',
  });
  manage = new URL(res.location, base).pathname;
  await s.ced.post(`${manage}/submit`, {}, manage);
  await approveThrough(s, manage, ['crv', 'cld']);
  await s.ced.post(`${manage}/live`, { op: 'start' }, manage);
  await s.ced.post(`${manage}/entry`, { speaker: '王主持', body: '各位网友好，欢迎来到在线访谈。' }, manage);
  await s.ced.post(`${manage}/entry`, { speaker: '张主任', body: '今年园区企业开办时间压缩到一个工作日。' }, manage);
  for (const k of Object.keys(s)) await s[k].dispose();
  // Hold one editor session: the live walks post entries while residents watch.
  return { interviewManage: manage, editor: await staffSession(base, 'ced') };
}

// ------------------------------------------------------------ page checks

// A tab that records its console errors and uncaught exceptions.
async function openTab(browser, vp, base, extra = {}) {
  const context = await browser.newContext({
    viewport: { width: vp.width, height: vp.height }, isMobile: !!vp.isMobile,
    hasTouch: !!vp.hasTouch, deviceScaleFactor: vp.deviceScaleFactor || 1,
    locale: 'zh-CN', timezoneId: 'Asia/Shanghai', baseURL: base, ...extra,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.setDefaultNavigationTimeout(15000);
  page.errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push({ text: m.text(), url: (m.location() || {}).url || '' });
  });
  page.on('pageerror', (e) => page.errors.push({ text: 'uncaught: ' + e.message, url: '' }));
  return { context, page };
}

// Run `action` (a goto, a click, a submit) and wait for the main frame's
// final document: returns its HTTP status.
async function navigate(page, action) {
  const final = page.waitForResponse((r) => r.request().isNavigationRequest()
    && r.frame() === page.mainFrame() && !(r.status() >= 300 && r.status() < 400));
  const [res] = await Promise.all([final, action()]);
  await page.waitForLoadState('load');
  return res.status();
}

let shotCount = 0;

function slug(s) {
  return s.replace(/^\//, '').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'root';
}

// Check the page the tab is on: status, console, axe, screenshot.
async function checkPage(page, tag, label, status, expected = 200) {
  const url = new URL(page.url());
  const where = url.pathname + url.search;
  const file = `${String(++shotCount).padStart(3, '0')}-${tag.replace(/ /g, '-')}-${slug(label)}.png`;
  const problems = [];
  if (status !== expected) problems.push(`HTTP ${status}, expected ${expected}`);
  for (const e of page.errors) {
    // The browser logs the document's own error status: expected for a 404.
    const ownStatus = /Failed to load resource: the server responded with a status of (\d+)/.exec(e.text);
    if (ownStatus && Number(ownStatus[1]) === expected && e.url === url.href) continue;
    // The browser's own request for /favicon.ico races the checks: the
    // site's icon has one check of its own (checkIcon).
    if (ownStatus && new URL(e.url || 'x:/', url).pathname === '/favicon.ico') continue;
    problems.push(`console: ${e.text}${e.url ? ' (' + e.url + ')' : ''}`);
  }
  page.errors = [];
  let violations = [];
  try {
    await page.evaluate(AXE_SOURCE);
    violations = await page.evaluate(async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')) }));
    }, AXE_TAGS);
  } catch (e) {
    problems.push('axe did not run: ' + e.message);
  }
  for (const v of violations) {
    problems.push(`axe ${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s): ${v.nodes.slice(0, 4).join(' | ')}`);
  }
  // In 关怀版 every page keeps the larger text (the cookie, not the page).
  if (page.careExpected) {
    const px = await fontSize(page).catch(() => 0);
    if (px < CARE_MIN_PX) problems.push(`关怀版: the text is ${px}px here, less than ${CARE_MIN_PX}px`);
  }
  // WCAG 2.1 1.4.10 (Reflow, AA), which axe does not test: no page wider
  // than the screen (a wide table scrolls in its own box).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth).catch(() => 0);
  if (overflow > 0) problems.push(`reflow: the page is ${overflow}px wider than the viewport (horizontal scrolling)`);
  try {
    await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
  } catch (e) {
    problems.push('screenshot failed: ' + e.message);
  }
  const line = `${tag.padEnd(14)} ${String(status).padEnd(3)} ${label.padEnd(26)} ${where}  axe ${violations.length}  shots/${file}`;
  if (problems.length) fail(line, problems); else pass(line);
  return problems.length === 0;
}

// A step that is not a page: a promise the walk makes (a cookie, a size).
function expect(ok, tag, what, details) {
  if (ok) pass(`${tag.padEnd(14)} --- ${what}`);
  else fail(`${tag.padEnd(14)} --- ${what}`, details ? [details] : []);
  return ok;
}

// The site's icon, which every browser asks for (its 404 is a console
// error on whichever page the request lands): the page's <link rel=icon>,
// else /favicon.ico.
async function checkIcon(browser, base) {
  const { context, page } = await openTab(browser, VIEWPORTS[0], base);
  try {
    await page.goto('/');
    const href = await page.evaluate(() => {
      const l = document.querySelector('link[rel~="icon"]');
      return l ? l.href : null;
    });
    const icon = href || new URL('/favicon.ico', base).href;
    const status = icon.startsWith('data:') ? 200 : (await context.request.get(icon)).status();
    expect(status === 200, 'site', `the site's icon ${icon.replace(base, '')} answers ${status}`,
      'browsers ask for it on every page: add <link rel="icon"> to the layout, or serve /favicon.ico');
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------- resident walk

// The masthead's 关怀版 switch: a link or a button named 关怀版.
function careSwitch(page, off) {
  const name = off ? /退出关怀|关闭关怀|标准版|普通版|常规版|关怀版/ : /关怀版/;
  return page.getByRole('banner').getByRole('link', { name })
    .or(page.getByRole('banner').getByRole('button', { name }))
    .or(page.getByRole('link', { name })).or(page.getByRole('button', { name })).first();
}

async function fontSize(page) {
  return page.evaluate(() => {
    const el = document.querySelector('main') || document.body;
    return parseFloat(getComputedStyle(el).fontSize);
  });
}

async function cookieMap(context) {
  const m = {};
  for (const c of await context.cookies()) m[c.name] = c.value;
  return m;
}

// Turn 关怀版 on (from the page the tab is on); returns whether it is on.
async function careOn(page, context, tag) {
  const before = await cookieMap(context);
  const normalPx = await fontSize(page);
  const sw = careSwitch(page, false);
  if (!(await sw.count())) {
    expect(false, tag, '关怀版 switch in the masthead', 'no link or button named 关怀版 on ' + page.url());
    return null;
  }
  const status = await navigate(page, () => sw.click());
  page.careExpected = true;
  await checkPage(page, tag, '关怀版 on', status);
  const after = await cookieMap(context);
  const set = Object.keys(after).filter((k) => after[k] !== before[k]);
  expect(set.length > 0, tag, `关怀版 sets a cookie (${set.join(', ') || 'none'})`,
    'cookies before: ' + JSON.stringify(before) + ' after: ' + JSON.stringify(after));
  const px = await fontSize(page);
  expect(px >= CARE_MIN_PX && px > normalPx, tag, `关怀版 text is ${px}px (normal ${normalPx}px, at least ${CARE_MIN_PX}px)`);
  // A switch that leads nowhere or sets nothing: the 关怀版 walk cannot go on.
  if (status !== 200 || set.length === 0) return null;
  return { cookies: set, on: after, normalPx };
}

async function careOff(page, context, tag, care) {
  const sw = careSwitch(page, true);
  if (!(await sw.count())) {
    expect(false, tag, '关怀版 switch back to the normal site', 'no switch on ' + page.url());
    return;
  }
  const status = await navigate(page, () => sw.click());
  page.careExpected = false;
  await checkPage(page, tag, '关怀版 off', status);
  const now = await cookieMap(context);
  const cleared = care.cookies.every((k) => now[k] !== care.on[k]);
  expect(cleared, tag, '关怀版 off clears its cookie', 'cookies: ' + JSON.stringify(now));
  const px = await fontSize(page);
  expect(px === care.normalPx, tag, `normal text is back to ${care.normalPx}px (now ${px}px)`);
}

// Fill every question of the survey form the tab shows, the first choice
// of each group.
async function fillSurvey(page) {
  const form = page.locator('form.survey-form');
  const done = new Set();
  for (const input of await form.locator('input[type=radio], input[type=checkbox]').all()) {
    const name = await input.getAttribute('name');
    if (done.has(name)) continue;
    done.add(name);
    await input.check();
  }
  const selects = await form.locator('select').all();
  for (const [i, sel] of selects.entries()) {
    // Rankings: a distinct place for each option of one question.
    const options = await sel.locator('option').count();
    await sel.selectOption({ index: Math.min(1 + (i % Math.max(1, options - 1)), options - 1) });
  }
  for (const ta of await form.locator('textarea').all()) await ta.fill('建议增加夜间和周末的预约服务。');
  const contact = form.locator('#contact');
  if (await contact.count()) await contact.fill('');
}

async function residentWalk(browser, base, vp, mode, seeded) {
  const tag = `${vp.name} ${mode}`;
  const { context, page } = await openTab(browser, vp, base);
  try {
    let status = await navigate(page, () => page.goto('/'));
    await checkPage(page, tag, 'front page', status);
    let care = null;
    if (mode === 'care') {
      care = await careOn(page, context, tag);
      if (!care) return; // without the switch the 关怀版 walk cannot be made
    }
    // Search from the front page's own form.
    const box = page.getByRole('search').getByRole('searchbox').first();
    await box.fill('人才');
    status = await navigate(page, () => box.press('Enter'));
    await checkPage(page, tag, 'search', status);
    expect(/人才/.test(await page.locator('main').innerText()) && page.url().includes('/search?'),
      tag, 'search finds 人才');
    status = await navigate(page, () => page.goto('/gxcy'));
    await checkPage(page, tag, 'section page', status);
    status = await navigate(page, () => page.goto('/gxcy/tzgg'));
    await checkPage(page, tag, 'column list', status);
    const article = page.locator('main a[href*="/gxcy/tzgg/"]').filter({ hasText: '高新技术企业认定' }).first();
    status = await navigate(page, () => article.click());
    await checkPage(page, tag, 'article', status);
    const print = page.getByRole('link', { name: /打印/ }).or(page.getByRole('button', { name: /打印/ })).first();
    if (await print.count() && await print.evaluate((el) => el.tagName === 'A' && !!el.getAttribute('href'))) {
      status = await navigate(page, () => print.click());
      // The print view is laid out for paper: 关怀版's screen size is not asked of it.
      const care = page.careExpected;
      page.careExpected = false;
      await checkPage(page, tag, 'print view', status);
      page.careExpected = care;
    } else {
      fail(`${tag.padEnd(14)} --- print view: the article page has no link named 打印`);
    }
    // A survey, answered.
    status = await navigate(page, () => page.goto('/ygzw/myzj'));
    await checkPage(page, tag, 'survey list', status);
    status = await navigate(page, () => page.locator('main a').filter({ hasText: '园区政务服务满意度调查' }).first().click());
    await checkPage(page, tag, 'survey', status);
    await fillSurvey(page);
    status = await navigate(page, () => page.locator('form.survey-form button[type=submit]').click());
    await checkPage(page, tag, 'survey answered', status);
    expect(/提交成功/.test(await page.locator('main').innerText()), tag, 'the survey thanks for the answer');
    // An interview, watched live: an entry posted now arrives without a reload.
    status = await navigate(page, () => page.goto('/ygzw/zxft'));
    await checkPage(page, tag, 'interview list', status);
    status = await navigate(page, () => page.locator('main a').filter({ hasText: '管委会主任谈优化营商环境' }).first().click());
    await page.waitForTimeout(300); // the page's event stream connects
    const said = `（${tag}）网友您好，开办企业全程网上办理。`;
    const m = seeded.interviewManage;
    await seeded.editor.post(`${m}/entry`, { speaker: '张主任', body: said }, m);
    const arrived = await page.getByText(said).first().waitFor({ timeout: 8000 }).then(() => true, () => false);
    expect(arrived, tag, 'the live interview shows a new entry without a reload');
    await checkPage(page, tag, 'interview live', status);
    // 办事指南: the catalogue (the demo's items, seeded at start), a filter
    // link, and one guide in table form.
    status = await navigate(page, () => page.goto('/yqsh/bszn'));
    await checkPage(page, tag, 'guides catalogue', status);
    status = await navigate(page, () => page.locator('main a').filter({ hasText: /^最多跑一次/ }).first().click());
    await checkPage(page, tag, 'guides filtered', status);
    expect(page.url().includes('once=1'), tag, 'the 最多跑一次 filter is a link', page.url());
    status = await navigate(page, () => page.locator('main a').filter({ hasText: '生育登记' }).first().click());
    await checkPage(page, tag, 'guide', status);
    expect(await page.locator('table.guide-table th[scope=row]').count() >= 8, tag, 'the guide is a table of its elements');
    // A letter to 主任信箱: sent empty first (errors linked to their
    // fields), then written and acknowledged with its 查询码.
    status = await navigate(page, () => page.goto('/ygzw/zrxx'));
    await checkPage(page, tag, 'letters', status);
    status = await navigate(page, () => page.locator('main').getByRole('link', { name: '我要写信' }).click());
    await checkPage(page, tag, 'letter form', status);
    status = await navigate(page, () => page.getByRole('button', { name: '提交信件' }).click());
    await checkPage(page, tag, 'letter form errors', status, 422);
    expect(await page.locator('#form-errors a[href="#f-title"]').count() === 1, tag, 'the letter form links each error to its field');
    await page.locator('#f-name').fill('张三');
    await page.locator('#f-contact').fill('13812345678');
    await page.locator('#f-title').fill('建议增加园区班车');
    await page.locator('#f-body').fill('早高峰班车太挤，建议增加班次。');
    await page.locator('#f-publish-1').check();
    status = await navigate(page, () => page.getByRole('button', { name: '提交信件' }).click());
    await checkPage(page, tag, 'letter receipt', status);
    expect(/^\d{10}$/.test(await page.locator('#query-code').innerText()), tag, 'the letter gets a 查询码');
    // 找错 from the footer: the form knows the page the resident was on.
    await navigate(page, () => page.goto('/gxcy/tzgg'));
    status = await navigate(page, () => page.getByRole('contentinfo').getByRole('link', { name: '我为政府网站找错' }).click());
    await checkPage(page, tag, '找错 form', status);
    expect(await page.locator('#f-url').inputValue() === '/gxcy/tzgg', tag, '找错 is filled in with the page it is about');
    await page.locator('#f-title').fill('通知公告页有错别字');
    await page.locator('#f-body').fill('第二条通知标题中“申保”应为“申报”。');
    status = await navigate(page, () => page.getByRole('button', { name: '提交信件' }).click());
    await checkPage(page, tag, '找错 receipt', status);
    status = await navigate(page, () => page.goto('/gxcy/no-such-page'));
    await checkPage(page, tag, 'not found', status, 404);
    if (care) {
      status = await navigate(page, () => page.goto('/'));
      await careOff(page, context, tag, care);
    }
  } catch (e) {
    fail(`${tag.padEnd(14)} --- the resident's walk stopped at ${page.url()}`, [e.message.split('\n')[0]]);
  } finally {
    await context.close();
  }
}

// ------------------------------------------------------------- staff walk

async function login(browser, base, vp, tag, who) {
  const tab = await openTab(browser, vp, base);
  const { page } = tab;
  let status = await navigate(page, () => page.goto('/admin/login'));
  await checkPage(page, tag, `${who}: login`, status);
  await page.getByLabel('用户名').fill(who);
  await page.getByLabel('密码').fill(PASSWORD);
  status = await navigate(page, () => page.getByRole('button', { name: '登录' }).click());
  await checkPage(page, tag, `${who}: console`, status);
  expect(new URL(page.url()).pathname === '/admin/', tag, `${who} is logged in`, page.url());
  return tab;
}

async function staffWalk(browser, base, vp) {
  const tag = `${vp.name} staff`;
  const title = `关于${vp.name === 'phone' ? '手机端' : '电脑端'}申报园区科技创新券的通知`;
  const tabs = [];
  try {
    // The editor writes and submits.
    const ed = await login(browser, base, vp, tag, 'ed');
    tabs.push(ed);
    let page = ed.page;
    let status = await navigate(page, () => page.goto('/gxcy/tzgg/manage'));
    await checkPage(page, tag, 'ed: manage', status);
    status = await navigate(page, () => page.getByRole('link', { name: '撰写文章' }).click());
    await checkPage(page, tag, 'ed: new article', status);
    await page.getByLabel(/标题/).fill(title);
    await page.getByLabel('摘要').fill('符合条件的园区企业可申报科技创新券。');
    await page.getByLabel('正文').fill('<p>为支持企业开展研发活动，园区发放科技创新券。</p><ul><li>申报时间：即日起。</li><li>申报方式：网上申报。</li></ul>');
    await page.getByLabel('来源').fill('招商局');
    status = await navigate(page, () => page.getByRole('button', { name: '保存' }).click());
    await checkPage(page, tag, 'ed: saved', status);
    const manage = new URL(page.url()).pathname;
    status = await navigate(page, () => page.getByRole('button', { name: '提交审核' }).click());
    await checkPage(page, tag, 'ed: submitted', status);
    // Each step of the chain (review, secrecy, leader) by its own user.
    for (const who of ['rv1', 'rv2', 'ld']) {
      const t = await login(browser, base, vp, tag, who);
      tabs.push(t);
      page = t.page;
      status = await navigate(page, () => page.goto('/gxcy/tzgg/manage/queue'));
      await checkPage(page, tag, `${who}: queue`, status);
      status = await navigate(page, () => page.getByRole('link', { name: title }).first().click());
      await checkPage(page, tag, `${who}: review`, status);
      expect(new URL(page.url()).pathname === manage, tag, `${who} opens the article from the queue`, page.url());
      await page.getByLabel(/意见/).fill('同意。');
      status = await navigate(page, () => page.getByRole('button', { name: '通过' }).click());
      await checkPage(page, tag, `${who}: approved`, status);
    }
    // A resident sees it on the public list, and reads it.
    const r = await openTab(browser, vp, base);
    tabs.push(r);
    page = r.page;
    status = await navigate(page, () => page.goto('/gxcy/tzgg'));
    await checkPage(page, tag, 'public list', status);
    const link = page.locator('main').getByRole('link', { name: title });
    expect(await link.count() > 0, tag, 'the approved article is on the public list');
    status = await navigate(page, () => link.first().click());
    await checkPage(page, tag, 'public article', status);
  } catch (e) {
    fail(`${tag.padEnd(14)} --- the staff's walk stopped`, [e.message.split('\n')[0]]);
  } finally {
    for (const t of tabs) await t.context.close();
  }
}

// ------------------------------------------------------------------- main

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  let server = null;
  let browser = null;
  const timer = setTimeout(() => {
    console.log(`FAIL the browser suite ran past ${DEADLINE_MS / 1000} s`);
    if (server) server.proc.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  try {
    server = await startServer();
    console.log(`parkhost ${server.base} (demo park, log: ${path.relative(ROOT, server.logPath)}); chromium ${CHROMIUM}`);
    const seeded = await seed(server.base);
    console.log(`seeded in ${secs()}s: ${SEED_ARTICLES.length} articles published, a survey open, an interview live`);
    browser = await chromium.launch({ executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--font-render-hinting=none'] });
    console.log(`chromium ${browser.version()}`);
    await checkIcon(browser, server.base);
    // The two viewports walk side by side (two cores); each walk is in order.
    await Promise.all(VIEWPORTS.map(async (vp) => {
      await residentWalk(browser, server.base, vp, 'normal', seeded);
      await residentWalk(browser, server.base, vp, 'care', seeded);
      await staffWalk(browser, server.base, vp);
    }));
    await seeded.editor.dispose();
  } catch (e) {
    fail('the suite could not run', [e.stack || String(e)]);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopServer(server);
    clearTimeout(timer);
  }
  const serverErrors = server ? fs.readFileSync(server.logPath, 'utf8').split('\n').filter((l) => / ERROR /.test(l)) : [];
  for (const l of serverErrors.slice(0, 10)) console.log(`server log: ${l}`);
  console.log(`screenshots: ${path.relative(ROOT, SHOTS)}/ (${shotCount}); time ${secs().trim()}s`);
  if (results.failures.length) {
    console.log('failures:');
    for (const f of results.failures) console.log('  ' + f);
  }
  console.log(`browser: ${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed ? 1 : 0);
}

main();
