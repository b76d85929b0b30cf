// Import: the upload form (the console script streams the file with its progress), and the
// summary with the bad rows by line number, as a fragment the script puts in the page.
import type { ImportSummary } from '../../../subscribers/import.service.ts';
import { html } from '../../views/html.ts';
import { formatCount } from './campaigns.view.ts';
import { consolePage, scrollTable, type ViewContext, writeButton } from './layout.ts';

export function importPage(ctx: ViewContext): string {
  const t = ctx.m.importPage;
  const body = html`<h1>${t.title}</h1>
<p>${t.intro}</p>
<form id="import-form" method="post" action="/console/import" data-csrf="${ctx.session?.csrf ?? ''}" class="import">
<p><label for="file">${t.file}</label><br><input id="file" name="file" type="file" accept=".csv,text/csv" required></p>
<p><input id="dryRun" name="dryRun" type="checkbox" value="true"> <label for="dryRun">${t.dryRun}</label></p>
<p><input id="strict" name="strict" type="checkbox" value="true"> <label for="strict">${t.strict}</label></p>
<p>${writeButton(ctx, t.submit)}</p>
<noscript><p class="error">${t.noScript}</p></noscript>
</form>
<p><label for="progress">${t.progress}</label><br><progress id="progress" max="100" value="0">0%</progress> <span id="progress-text" aria-live="polite"></span></p>
<div id="import-result" aria-live="polite"></div>`;
  return consolePage(ctx, { title: t.title, body, section: 'import' });
}

export function importSummaryFragment(ctx: ViewContext, s: ImportSummary): string {
  const t = ctx.m.importPage;
  const n = (v: number) => formatCount(ctx, v);
  const fact = (label: string, value: string) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const byLine = (rows: ImportSummary['badRows']) =>
    rows.map(
      (row) =>
        html`<tr><th scope="row" class="num">${row.line}</th><td>${row.problems.map((p) => html`<span class="problem"><code>${p.path}</code> ${p.rule}${p.value === undefined ? '' : ` (${p.value})`}</span> `)}</td></tr>`,
    );
  return html`<section aria-labelledby="summary-title" id="import-summary">
<h2 id="summary-title">${t.summary}</h2>
<p class="${s.committed ? 'ok' : 'error'}">${s.committed ? t.committed : t.notCommitted}</p>
<dl class="facts">
${fact(t.rows, n(s.rows))}${fact(t.inserted, n(s.inserted))}${fact(t.updated, n(s.updated))}${fact(t.unchanged, n(s.unchanged))}${fact(t.bad, n(s.bad))}${fact(t.consentEvents, n(s.consentEvents))}${fact(t.planned, n(s.planned.subscribers))}
</dl>
${
  s.badRows.length > 0 &&
  html`<h3>${t.badRows}</h3>${scrollTable(
    t.badRows,
    html`<table id="bad-rows"><thead><tr><th scope="col" class="num">${t.line}</th><th scope="col">${t.problem}</th></tr></thead><tbody>${byLine(s.badRows)}</tbody></table>`,
  )}`
}
${
  s.notes.length > 0 &&
  html`<h3>${t.notedRows}</h3>${scrollTable(
    t.notedRows,
    html`<table id="noted-rows"><thead><tr><th scope="col" class="num">${t.line}</th><th scope="col">${t.problem}</th></tr></thead><tbody>${byLine(s.notes)}</tbody></table>`,
  )}`
}
</section>`.text;
}

export function importFailedFragment(
  ctx: ViewContext,
  message: string,
  problems: readonly { path: string; rule: string }[],
): string {
  return html`<section id="import-summary"><p class="error" role="alert">${ctx.m.importPage.failed} ${message}</p>
${problems.length > 0 && html`<ul>${problems.map((p) => html`<li><code>${p.path}</code> ${p.rule}</li>`)}</ul>`}</section>`
    .text;
}
