"""The inline CSS of ``report.html`` (screen and print)."""

CSS = """
:root{--ink:#1f2328;--muted:#5b6470;--line:#d8dde3;--soft:#f5f7f9;--accent:#0b5cad;--pos:#1b6e20;--neg:#b3261e}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
"WenQuanYi Micro Hei",sans-serif}
header,nav.toc,main{max-width:1080px;margin:0 auto;padding:0 28px}
header{padding-top:28px;padding-bottom:8px;border-bottom:3px solid var(--accent)}
h1{font-size:1.6rem;margin:0 0 4px;line-height:1.25}
h2{font-size:1.25rem;margin:36px 0 12px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem;margin:22px 0 8px}
.subtitle{margin:0;color:var(--muted)}
.meta{margin:2px 0 8px;color:var(--muted);font-size:.85rem}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;margin:10px 0;font-size:.92rem}
.warn{background:#fdecea;border-left:4px solid var(--neg);padding:8px 12px;margin:10px 0;font-size:.92rem}
.muted{color:var(--muted);font-size:.85rem}
details{margin:10px 0;font-size:.88rem}
details summary{cursor:pointer;color:var(--accent)}
nav.toc{margin-top:14px}
nav.toc h2{font-size:.95rem;border:0;margin:8px 0 4px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
nav.toc ol{margin:0;padding-left:20px;columns:2;column-gap:40px;font-size:.93rem}
nav.toc a{color:var(--accent);text-decoration:none}
p.label{margin:8px 0 4px;font-weight:600;font-size:.9rem}
pre.cmd{background:#0f1720;color:#e6edf3;padding:10px 14px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;font-size:.88rem;margin:0 0 14px}
code{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.86em}
code.hash{font-size:.74rem;color:var(--muted);word-break:break-all}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:10px 0;font-size:.93rem}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;word-break:break-word}
.table-wrap{overflow-x:auto;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid #b9c1ca;vertical-align:bottom}
td.num,th.num{text-align:right;white-space:nowrap}
tbody tr:nth-child(even) td{background:#fafbfc}
tr.group th{background:#eef3f8;text-align:left;font-weight:700;color:var(--accent)}
tr.total td{font-weight:700;border-top:2px solid #b9c1ca}
.v{display:block}
.ci{display:block;color:var(--muted);font-size:.85em}
.v.sig{font-weight:700}
th.year{text-align:center;background:#eef3f8;color:var(--accent);border-left:2px solid #fff}
td.first,th.first{border-left:2px solid var(--line)}
table.scen td:first-child{white-space:nowrap}
.caption,figcaption{color:var(--muted);font-size:.85rem;margin:6px 0 14px}
figure.fig{margin:14px 0 22px}
figure.fig img{display:block;max-width:100%;height:auto;border:1px solid #eef0f2}
@media print{
  @page{size:A4;margin:14mm}
  body{font-size:11pt}
  header,nav.toc,main{max-width:none;padding:0}
  nav.toc{display:none}
  h2{break-after:avoid}
  figure.fig,tr,dl.kv{break-inside:avoid}
  .table-wrap{overflow:visible}
  table{font-size:8.5pt}
  th,td{padding:4px 6px}
  td.num,th.num{white-space:normal}
  figure.fig img{border:0}
  pre.cmd{background:#fff;color:#000;border:1px solid #999}
  a{color:inherit;text-decoration:none}
}
"""
