// The pages' only stylesheet, served from /assets/recap.css: no inline styles, so the
// Content-Security-Policy can forbid them; nothing loaded from other hosts.
/** The pages' icon: the accent colour's square with an R. */
export const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d4ed8"/><text x="16" y="23" font-family="Arial, sans-serif" font-size="20" font-weight="700" fill="#fff" text-anchor="middle">R</text></svg>`;

export const STYLESHEET = `
:root { color-scheme: light dark; --bg: #f3f4f6; --card: #ffffff; --text: #1f2328; --muted: #4b5563; --accent: #1d4ed8; --rule: #d9dde3; --tint: #eef3fd; --bad: #b42318; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111318; --card: #1b1e25; --text: #e6e8eb; --muted: #b3b9c3; --accent: #93b4ff; --rule: #39404d; --tint: #222838; --bad: #ff8a80; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 12px; background: var(--bg); color: var(--text);
  font: 16px/1.6 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 600px; margin: 0 auto; background: var(--card); padding: 24px 28px; border-radius: 8px; }
@media (max-width: 480px) { main { padding: 20px 16px; } body { padding: 12px 8px; } }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 12px; }
h2 { font-size: 19px; margin: 24px 0 8px; }
p { margin: 0 0 12px; }
form { margin: 0 0 16px; }
a { color: var(--accent); }
.muted, small { color: var(--muted); font-size: 14px; }
.brand { color: var(--accent); font-weight: 700; font-size: 14px; margin-bottom: 4px; }
label { display: block; font-weight: 600; margin: 14px 0 4px; }
input[type=text] { width: 100%; padding: 10px 12px; font: inherit; color: var(--text); background: var(--card);
  border: 1px solid var(--rule); border-radius: 6px; }
fieldset { border: 1px solid var(--rule); border-radius: 6px; margin: 14px 0; padding: 8px 12px 12px; }
legend { font-weight: 600; padding: 0 4px; }
.topics { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 4px 12px; }
.topics label, label.check { display: flex; gap: 8px; align-items: center; font-weight: 400; margin: 4px 0; }
button { font: inherit; font-weight: 700; padding: 10px 18px; margin: 12px 8px 0 0; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--card); cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--bad); border-color: var(--bad); }
.notice { background: var(--tint); border-left: 4px solid var(--accent); padding: 10px 14px; margin: 0 0 16px; }
.errors { border-left: 4px solid var(--bad); padding: 10px 14px; margin: 0 0 16px; }
.errors li { color: var(--bad); }
.hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
ol.archive { padding-left: 0; list-style: none; }
ol.archive li { border-top: 1px solid var(--rule); padding: 10px 0; }
footer { max-width: 600px; margin: 12px auto 0; text-align: center; }
textarea, select { width: 100%; padding: 10px 12px; font: inherit; color: var(--text); background: var(--card); border: 1px solid var(--rule); border-radius: 6px; }
form.inline { display: inline; margin: 0; }
button.small { padding: 4px 10px; font-size: 13px; margin: 6px 6px 0 0; }
ol.stories li { margin: 0 0 12px; }
.previews { display: flex; flex-wrap: wrap; gap: 16px; }
.previews figure { margin: 0; }
iframe.desktop { width: 600px; max-width: 100%; height: 720px; border: 1px solid var(--rule); }
iframe.phone { width: 375px; max-width: 100%; height: 720px; border: 1px solid var(--rule); }
.chart { display: block; max-width: 480px; margin: 6px 0; }
body.wide main { max-width: 1320px; }
/* The desk: the controls, and the preview beside them on a wide screen (below them on a narrow one). */
.desk { display: grid; grid-template-columns: minmax(0, 1fr); gap: 24px; }
@media (min-width: 1180px) {
  .desk { grid-template-columns: minmax(0, 1fr) 620px; }
  .preview-pane { position: sticky; top: 12px; align-self: start; max-height: calc(100vh - 24px); overflow-y: auto; }
}
table.variants { width: 100%; border-collapse: collapse; font-size: 14px; display: block; overflow-x: auto; }
table.variants th, table.variants td { text-align: left; vertical-align: top; padding: 4px 8px 4px 0; border-top: 1px solid var(--rule); }
table.formats { border-collapse: collapse; font-size: 14px; display: block; overflow-x: auto; margin: 8px 0 16px; }
table.formats th, table.formats td { text-align: right; padding: 2px 10px 2px 0; border-top: 1px solid var(--rule); }
table.formats th:first-child, table.formats td:first-child { text-align: left; }
.inbox-row { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; margin: 0 0 8px; overflow-wrap: anywhere; }
.inbox-row.phone { max-width: 375px; }
.bad { color: var(--bad); }
ul.links { padding-left: 18px; font-size: 14px; }
.url, p.errors { overflow-wrap: anywhere; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
`;
