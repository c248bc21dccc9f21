// The console page: polls /api/state and redraws when it changed; commands, clicks and deploys are
// POSTed to the console server, which turns them into what Slack (or a deploy) would send.
import { renderMessageBody } from './mrkdwn.js';

const POLL_MS = 700;
const SUGGESTIONS = ['/strangle help', '/strangle status', '/strangle api 30', '/strangle api ramp', '/strangle cron invoice-sweep k8s', '/strangle drift', '/strangle report'];
/** Not a channel: the app's Home tab is shown in the channel pane while selected. */
const HOME = 'home';
const STORAGE_KEY = 'strangler-sandbox.as';

const ui = {
  me: remembered() ?? 'U0ALICE',
  channel: 'C0APPROVALS',
  state: null,
  lastBody: '',
  /** channel id → items seen there, for the unread badges */
  seen: {},
  history: [],
  timer: 0,
  inFlight: false,
  again: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function remembered() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

const names = {
  userName(id) {
    if (ui.state?.bot.id === id) return ui.state.bot.name;
    return ui.state?.people.find((p) => p.id === id)?.name ?? id;
  },
  channelName(id) {
    return ui.state?.channels.find((c) => c.id === id)?.name ?? id;
  },
};

// ---- talking to the console server ------------------------------------------------------------

async function postJson(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
  if (!res.ok || !answer.ok) throw new Error(answer.error ?? `HTTP ${res.status}`);
  return answer;
}

async function poll() {
  try {
    const res = await fetch(`/api/state?as=${encodeURIComponent(ui.me)}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.text();
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    $('updated').classList.remove('offline');
    if (body === ui.lastBody) return;
    ui.lastBody = body;
    ui.state = JSON.parse(body);
    render();
  } catch {
    $('updated').textContent = 'The console is unreachable: is the sandbox still running?';
    $('updated').classList.add('offline');
  }
}

/** Polls now (or right after the poll in flight) and then every POLL_MS. */
function refresh() {
  clearTimeout(ui.timer);
  if (ui.inFlight) {
    ui.again = true;
    return;
  }
  ui.inFlight = true;
  poll().finally(() => {
    ui.inFlight = false;
    if (ui.again) {
      ui.again = false;
      refresh();
    } else {
      ui.timer = setTimeout(refresh, POLL_MS);
    }
  });
}

function notice(text) {
  $('notice').textContent = text;
}

// ---- drawing ------------------------------------------------------------------------------------

function render() {
  const s = ui.state;
  if (ui.channel === HOME) {
    renderHomeTab(s);
    return;
  }
  showHome(false);
  const current = s.channels.find((c) => c.id === ui.channel) ?? s.channels[0];
  ui.channel = current.id;
  ui.seen[current.id] = current.items.length;
  renderChannels(s.channels);
  renderPeople(s.people);
  $('channel-name').textContent = `# ${current.name}`;
  $('channel-purpose').textContent = current.purpose;
  $('command').placeholder = `Message #${current.name} as ${names.userName(ui.me)}: try /strangle help`;
  renderMessages(current);
  renderWeights(s.services);
  renderCronJobs(s.cronjobs);
  renderVersions(s.versions);
  renderKubernetesErrors(s.kubernetesErrors);
}

// ---- App Home ----------------------------------------------------------------------------------

function showHome(on) {
  $('home').hidden = !on;
  $('messages').hidden = on;
  $('composer').hidden = on;
  $('home-link').classList.toggle('active', on);
  if (on) $('home-link').setAttribute('aria-current', 'page');
  else $('home-link').removeAttribute('aria-current');
}

/** What the bot published with views.publish for the person you are, drawn like a message's blocks. */
function renderHomeTab(s) {
  showHome(true);
  renderChannels(s.channels);
  renderPeople(s.people);
  renderWeights(s.services);
  renderCronJobs(s.cronjobs);
  renderVersions(s.versions);
  $('channel-name').textContent = 'strangler · Home';
  $('channel-purpose').textContent = `The App Home tab as ${names.userName(ui.me)} sees it: published by the bot when the tab is opened, and on Refresh.`;
  if (!s.home) {
    $('home-published').textContent = 'Waiting for the bot to publish the view…';
    $('home-view').replaceChildren();
    return;
  }
  $('home-published').textContent = `Published ${new Date(s.home.at).toLocaleTimeString()}`;
  $('home-published').dataset.at = String(s.home.at);
  $('home-view').replaceChildren(renderMessageBody({ text: '', blocks: s.home.blocks }, names, (button, node) => clickHomeButton(button, node)));
}

function openHome() {
  ui.channel = HOME;
  notice('');
  if (ui.state) render();
  postJson('/api/home/open', { as: ui.me })
    .catch((err) => notice(err.message))
    .finally(refresh);
}

function clickHomeButton(button, node) {
  node.disabled = true;
  postJson('/api/home/click', { as: ui.me, actionId: button.action_id })
    .catch((err) => {
      node.disabled = false;
      notice(err.message);
    })
    .finally(refresh);
}

function renderChannels(channels) {
  $('channels').replaceChildren(
    ...channels.map((c) => {
      const li = el('li');
      const button = el('button', `channel-link${c.id === ui.channel ? ' active' : ''}`);
      button.type = 'button';
      button.append(el('span', 'hash', '#'), el('span', 'channel-title', c.name));
      const unread = c.items.length - (ui.seen[c.id] ?? 0);
      if (unread > 0) button.append(el('span', 'unread', String(unread)));
      if (c.id === ui.channel) button.setAttribute('aria-current', 'page');
      button.addEventListener('click', () => {
        ui.channel = c.id;
        ui.scrollToEnd = true;
        render();
      });
      li.append(button);
      return li;
    }),
  );
}

function renderPeople(people) {
  $('people').replaceChildren(
    ...people.map((p) => {
      const button = el('button', `person${p.id === ui.me ? ' active' : ''}`);
      button.type = 'button';
      button.setAttribute('role', 'radio');
      button.setAttribute('aria-checked', String(p.id === ui.me));
      button.append(el('span', `avatar avatar-${p.name.toLowerCase()}`, p.name[0]), el('span', 'person-name', p.name), el('span', 'person-role', p.role));
      button.addEventListener('click', () => {
        if (ui.me === p.id) return;
        ui.me = p.id;
        try {
          localStorage.setItem(STORAGE_KEY, p.id);
        } catch {
          // private mode: the choice just is not remembered
        }
        notice('');
        ui.lastBody = '';
        if (ui.channel === HOME) openHome();
        else refresh();
      });
      return button;
    }),
  );
}

function renderMessages(channel) {
  const list = $('messages');
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  if (channel.items.length === 0) {
    const empty = el('li', 'empty');
    empty.append(el('strong', '', `This is the very beginning of #${channel.name}.`), el('span', '', ' Type a /strangle command below.'));
    list.replaceChildren(empty);
  } else {
    list.replaceChildren(...channel.items.map((item) => messageNode(item)));
  }
  if (atEnd || ui.scrollToEnd) list.scrollTop = list.scrollHeight;
  ui.scrollToEnd = false;
}

function messageNode(item, reply = false) {
  const li = el(reply ? 'div' : 'li', `msg${item.kind === 'private' ? ' msg-private' : ''}${reply ? ' msg-reply' : ''}`);
  if (item.ts) li.dataset.ts = item.ts;
  const body = el('div', 'msg-body');
  const meta = el('div', 'msg-meta');
  meta.append(el('span', 'msg-author', 'strangler'), el('span', 'app-badge', 'APP'), el('time', 'msg-time', new Date(item.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
  if (item.edited) meta.append(el('span', 'msg-edited', '(edited)'));
  body.append(meta);
  if (item.kind === 'private') {
    const note = el('div', 'private-note');
    note.append(el('span', 'eye', '●'), el('span', '', 'Only visible to you'));
    if (item.command) note.append(el('span', 'private-command', ' · in reply to '), el('code', '', item.command));
    body.append(note);
  }
  body.append(renderMessageBody(item, names, (button, node) => clickButton(item, button, node)));
  for (const f of item.files ?? []) {
    const img = el('img', 'msg-file');
    img.src = `/files/${encodeURIComponent(f.id)}`;
    img.alt = f.title;
    img.title = f.title;
    body.append(img);
  }
  if (item.replies?.length) {
    const thread = el('div', 'thread');
    thread.append(el('div', 'thread-count', `${item.replies.length} ${item.replies.length === 1 ? 'reply' : 'replies'}`));
    for (const r of item.replies) thread.append(messageNode(r, true));
    body.append(thread);
  }
  li.append(el('div', 'avatar avatar-bot', 'S'), body);
  return li;
}

function renderWeights(services) {
  $('weights').replaceChildren(
    ...services.map((s) => {
      const row = el('div', 'card');
      row.dataset.service = s.name;
      const head = el('div', 'card-head');
      head.append(el('strong', '', s.name), el('span', 'muted', s.record));
      const total = (s.kubernetes ?? 0) + (s.ec2 ?? 0);
      const share = (w) => (total > 0 ? Math.round(((w ?? 0) / total) * 100) : 0);
      const bar = el('div', 'bar');
      bar.title = `Route 53 weights: Kubernetes ${s.kubernetes ?? '–'}, EC2 ${s.ec2 ?? '–'}`;
      const k8s = el('span', 'bar-k8s');
      k8s.style.width = `${share(s.kubernetes)}%`;
      bar.append(k8s, el('span', 'bar-ec2'));
      const numbers = el('div', 'weights');
      numbers.append(el('span', 'k8s', `Kubernetes ${share(s.kubernetes)}%`), el('span', 'ec2', `EC2 ${share(s.ec2)}%`));
      // Plays someone changing the weights in the Route 53 console: the bot alerts in #strangler-alerts.
      const outside = el('button', 'link-button', 'Set 50/50 outside the bot');
      outside.type = 'button';
      outside.title = 'Change both weights in Route 53 directly, as the console or Terraform would: the bot notices at its next check';
      outside.addEventListener('click', () => {
        outside.disabled = true;
        postJson('/api/outside', { service: s.name })
          .catch((err) => notice(err.message))
          .finally(refresh);
      });
      row.append(head, bar, numbers, outside);
      return row;
    }),
  );
}

function renderCronJobs(jobs) {
  $('cronjobs').replaceChildren(
    ...jobs.map((j) => {
      const row = el('div', 'card');
      row.dataset.cronjob = j.name;
      const head = el('div', 'card-head');
      const where = j.suspend === null ? ['unknown', 'missing'] : j.suspend ? ['EC2 (cron.d)', 'ec2'] : ['Kubernetes', 'k8s'];
      head.append(el('strong', '', j.name), el('span', `pill pill-${where[1]}`, where[0]));
      const detail = el('div', 'card-detail');
      detail.append('suspend: ', el('code', 'suspend', String(j.suspend)), ` · schedule `, el('code', '', j.schedule));
      const lock = el('div', 'card-detail');
      lock.append(`CronJob ${j.object} · lock `, el('code', '', j.lockKey));
      row.append(head, detail, lock);
      return row;
    }),
  );
}

function renderVersions(versions) {
  $('versions').replaceChildren(
    ...versions.map((v) => {
      const row = el('div', 'card');
      row.dataset.service = v.service;
      const drift = v.kubernetes !== v.ec2;
      const head = el('div', 'card-head');
      head.append(el('strong', '', v.service), el('span', `pill ${drift ? 'pill-drift' : 'pill-ok'}`, drift ? 'drift' : 'in sync'));
      const detail = el('div', 'card-detail');
      detail.append('Kubernetes ', el('code', '', v.kubernetes), ' · EC2 ', el('code', '', v.ec2));
      const deploy = el('button', 'link-button', drift ? `Deploy ${v.kubernetes} to EC2` : 'Deploy a new commit to Kubernetes');
      deploy.type = 'button';
      deploy.title = drift ? 'Finish the deploy: the drift alert resolves at the next check' : 'Start a deploy: drift is alerted once the grace period is over';
      deploy.addEventListener('click', () => {
        deploy.disabled = true;
        postJson('/api/deploy', { service: v.service, platform: drift ? 'ec2' : 'kubernetes' })
          .catch((err) => notice(err.message))
          .finally(refresh);
      });
      row.append(head, detail, deploy);
      return row;
    }),
  );
}

function renderKubernetesErrors(k) {
  if (!k) {
    $('kubernetes-errors').replaceChildren();
    return;
  }
  const row = el('div', 'card');
  row.dataset.service = k.service;
  const head = el('div', 'card-head');
  head.append(el('strong', '', k.service), el('span', `pill ${k.failing ? 'pill-drift' : 'pill-ok'}`, k.failing ? 'failing' : 'healthy'));
  const detail = el('div', 'card-detail');
  detail.append('5xx on Kubernetes ', el('code', 'error-ratio', `${(k.errorRatio * 100).toFixed(1)}%`), ` · gate "${k.gate.name}" allows ${(k.gate.max * 100).toFixed(0)}%`);
  const hint = el('div', 'card-detail muted', 'Scraped by a real Prometheus every second; a ramp of api reads it.');
  const toggle = el('button', 'link-button', k.failing ? 'Heal Kubernetes' : 'Make Kubernetes fail');
  toggle.type = 'button';
  toggle.title = k.failing ? 'Back to 0.2% errors' : 'Raise the error rate to 25%: a ramp in progress rolls itself back';
  toggle.addEventListener('click', () => {
    toggle.disabled = true;
    postJson('/api/kubernetes-errors', { failing: !k.failing })
      .catch((err) => notice(err.message))
      .finally(refresh);
  });
  row.append(head, detail, hint, toggle);
  $('kubernetes-errors').replaceChildren(row);
}

// ---- actions ------------------------------------------------------------------------------------

function clickButton(item, button, node) {
  if (!item.ts) {
    notice('Buttons on private messages are not wired up in the sandbox.');
    return;
  }
  node.disabled = true;
  notice('');
  postJson('/api/click', { as: ui.me, channel: ui.channel, ts: item.ts, actionId: button.action_id })
    .catch((err) => {
      node.disabled = false;
      notice(err.message);
    })
    .finally(refresh);
}

function setUpComposer() {
  const input = $('command');
  $('suggestions').replaceChildren(
    ...SUGGESTIONS.map((s) => {
      const chip = el('button', 'chip', s);
      chip.type = 'button';
      chip.addEventListener('click', () => {
        input.value = s;
        input.focus();
      });
      return chip;
    }),
  );
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowUp' && input.value === '' && ui.history.length) {
      input.value = ui.history[ui.history.length - 1];
      e.preventDefault();
    }
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!text.startsWith('/')) {
      notice('Only /strangle commands reach the bot here. Try /strangle help.');
      return;
    }
    notice('');
    input.disabled = true;
    postJson('/api/command', { as: ui.me, channel: ui.channel, text })
      .then(() => {
        ui.history.push(text);
        input.value = '';
        ui.scrollToEnd = true;
      })
      .catch((err) => notice(err.message))
      .finally(() => {
        input.disabled = false;
        input.focus();
        refresh();
      });
  });
}

setUpComposer();
$('home-link').addEventListener('click', openHome);
refresh();
