import { describe, expect, it } from 'vitest';
import { attrs, escapeHtml, html } from './html.ts';

describe('html', () => {
  it('escapes interpolated text, including quotes for attributes', () => {
    const name = `<script>alert("x")</script> & 'co'`;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>',
    );
  });

  it('nests Html without escaping it twice, joins arrays and drops empty values', () => {
    const items = ['a<', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${false}${null}${undefined}${0}`.text).toBe(
      '<ul><li>a&lt;</li><li>b</li></ul>0',
    );
  });

  it('builds attributes from a record', () => {
    expect(attrs({ id: 'x"y', required: true, disabled: false, title: undefined }).text).toBe(
      ' id="x&quot;y" required',
    );
    expect(escapeHtml('é & ü')).toBe('é &amp; ü');
  });
});
