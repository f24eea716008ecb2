// Usage: accelerator-hours and cost per day per deployment and per API key, tokens per key, and
// the account's spend this month against its limit. All from GET .../usage, one call per day.
import { acct, all, get } from '../api.js';
import { fill, h, id, money, number, option, table } from '../dom.js';

const DAY = 86400000;

function utcDay(t) { return new Date(Math.floor(t / DAY) * DAY); }
function iso(d) { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }

export function render() {
  let days = 7;
  const spend = h('div', { class: 'card' });
  const perDay = h('div');
  const perKey = h('div');
  const range = h('select', { 'aria-label': 'Days', onchange: () => { days = Number(range.value); view.refresh(); } },
    option('1', 'Today'), option('7', 'Last 7 days', true), option('30', 'Last 30 days'));

  const view = {
    title: 'Usage',
    element: h('section', { class: 'page', 'aria-labelledby': 'page-title' },
      h('h1', { id: 'page-title' }, 'Usage'),
      spend,
      h('div', { class: 'toolbar' }, h('h2', {}, 'Per day and deployment'), range),
      perDay,
      h('h2', {}, 'Per API key'),
      perKey),
    async refresh() {
      const now = Date.now();
      const today = utcDay(now);
      const month = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
      const starts = Array.from({ length: days }, (_, i) => new Date(today.getTime() - i * DAY));
      const [account, thisMonth, keys, ...daily] = await Promise.all([
        get(acct()),
        get(`${acct('usage')}?startTime=${iso(month)}`),
        all(acct('apiKeys'), 'apiKeys'),
        ...starts.map((s) => get(`${acct('usage')}?startTime=${iso(s)}&endTime=${iso(new Date(Math.min(s.getTime() + DAY, now)))}`)),
      ]);
      drawSpend(account, thisMonth);
      const rows = [];
      daily.forEach((u, i) => {
        const day = starts[i].toISOString().slice(0, 10);
        const deployments = u.deployments.length ? u.deployments : [];
        if (!deployments.length) rows.push(h('tr', {}, h('td', {}, day), h('td', { class: 'sub' }, 'no usage'), h('td', {}, '0'), h('td', {}, money(0)), h('td', {}, '0'), h('td', {}, '0')));
        for (const d of deployments) {
          rows.push(h('tr', {}, h('td', {}, day), h('td', {}, id(d.deployment)),
            h('td', {}, number(d.acceleratorSeconds / 3600, 3)), h('td', {}, money(d.cost)),
            h('td', {}, number(d.requests, 0)), h('td', {}, number(d.promptTokens + d.completionTokens, 0))));
        }
        if (deployments.length > 1) {
          rows.push(h('tr', { class: 'total' }, h('td', {}, day), h('td', {}, 'all deployments'),
            h('td', {}, number(u.acceleratorSeconds / 3600, 3)), h('td', {}, money(u.cost)),
            h('td', {}, number(u.requests, 0)), h('td', {}, number(u.promptTokens + u.completionTokens, 0))));
        }
      });
      fill(perDay, table(['Day (UTC)', 'Deployment', 'Accelerator-hours', 'Cost', 'Requests', 'Tokens'], rows, `Last ${days} day(s)`));

      const names = new Map(keys.map((k) => [k.keyId, k.displayName]));
      const keyRows = [];
      daily.forEach((u, i) => {
        for (const k of u.apiKeys) {
          keyRows.push(h('tr', {}, h('td', {}, starts[i].toISOString().slice(0, 10)),
            h('td', {}, k.apiKey, names.get(k.apiKey) ? h('div', { class: 'sub' }, names.get(k.apiKey)) : h('div', { class: 'sub' }, names.has(k.apiKey) ? '' : 'revoked')),
            h('td', {}, number(k.requests, 0)), h('td', {}, number(k.promptTokens, 0)), h('td', {}, number(k.completionTokens, 0))));
        }
      });
      fill(perKey, table(['Day (UTC)', 'API key', 'Requests', 'Prompt tokens', 'Completion tokens'], keyRows,
        'Tokens per key (accelerator time is billed per deployment, not per key)'));
    },
  };

  function drawSpend(account, month) {
    const limit = account.spendLimit;
    const spent = Number(month.cost ?? 0);
    fill(spend,
      h('h2', {}, 'Spend this month (UTC)'),
      h('p', { class: 'big', id: 'spend-total' }, money(spent)),
      limit === undefined || limit === null
        ? h('p', {}, 'No spend limit on this account.')
        : h('div', {},
          h('meter', { min: 0, max: Number(limit), low: Number(limit) * 0.7, high: Number(limit) * 0.9, optimum: 0, value: Math.min(spent, Number(limit)), 'aria-label': 'Spend against the limit' }),
          h('p', {}, `${money(spent)} of ${money(limit)} limit (${number((spent / Number(limit)) * 100, 1)}%); at the limit every deployment of the account is deleted and requests answer 402.`)),
      h('p', { class: 'sub' }, `Accelerator-hours this month: ${number(month.acceleratorSeconds / 3600, 3)}; requests: ${number(month.requests, 0)}; tokens: ${number(month.promptTokens + month.completionTokens, 0)}.`));
  }
  return view;
}
